"""Relay connection pieces shared by every list."""

from __future__ import annotations

import base64
import binascii

import strawberry

from gateway.errors import BadUserInput

MAX_PAGE_SIZE = 100


@strawberry.type(description="Where a page of a connection sits in the whole list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def check_page_size(first: int | None, *, default: int) -> int:
    size = default if first is None else first
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadUserInput(
            f"`first` must be between 1 and {MAX_PAGE_SIZE}; got {size}.", argument="first"
        )
    return size


def encode_cursor(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(kind: str, cursor: str, *, argument: str = "after") -> str:
    """The value inside a cursor this gateway made for `kind`, or BadUserInput."""
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        decoded = ""
    prefix = f"{kind}:"
    if not decoded.startswith(prefix):
        raise BadUserInput(f"`{argument}` is not a cursor from this connection.", argument=argument)
    return decoded[len(prefix) :]

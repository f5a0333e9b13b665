"""Relay pieces shared by every type: the Node interface, and the connection
pieces shared by every list."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import strawberry

from gateway.errors import BadUserInput
from gateway.ids import encode_global_id, upstream_key

MAX_PAGE_SIZE = 100


@strawberry.interface(
    description=(
        "An object with a global id (Relay's Global Object Identification): "
        "`node(id:)` and `nodes(ids:)` find it again by that id alone."
    )
)
class Node:
    id: strawberry.ID = strawberry.field(
        description=(
            "Global id: unique across every type, the same in every answer. Opaque: "
            "keep it and send it back, do not read it. The id the upstream shows is "
            "in `moneybirdId` or `moniteId`."
        )
    )


def node_id(
    type_name: str, *keys: str, key_of: Callable[[Any], str | None] = upstream_key
) -> Callable[[dict[str, Any]], str]:
    """A reader of the global id of the `type_name` an upstream object is, from its
    `keys` (the parent's first) as `key_of` reads each: canonical Moneybird ids
    by default. An object without them has the empty id, as a missing id read."""
    prefix = f"{type_name}:"
    if len(keys) == 1:
        (key,) = keys

        def read_one(raw: dict[str, Any]) -> str:
            value = key_of(raw.get(key))
            return "" if value is None else encode_global_id(prefix + value)

        return read_one
    parent_key, own_key = keys

    def read_two(raw: dict[str, Any]) -> str:
        parent = key_of(raw.get(parent_key))
        value = key_of(raw.get(own_key))
        if parent is None or value is None:
            return ""
        return encode_global_id(f"{prefix}{parent}:{value}")

    return read_two


def with_parent(raw: dict[str, Any], parent_key: str, parent: Any) -> dict[str, Any]:
    """An object that belongs to a parent (a contact's note or person, a
    counterpart's contact) with the parent's id under `parent_key`, where its
    global id reads it, when the upstream left it out."""
    return raw if raw.get(parent_key) is not None else {**raw, parent_key: parent}


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


def decode_cursor(kind: str, cursor: str) -> str:
    """The value inside a cursor this gateway made for `kind`, or BadUserInput."""
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        decoded = ""
    prefix = f"{kind}:"
    if not decoded.startswith(prefix):
        raise not_a_cursor()
    return decoded[len(prefix) :]


def not_a_cursor() -> BadUserInput:
    """The error for an `after` that no page of this connection gave."""
    return BadUserInput("`after` is not a cursor from this connection.", argument="after")

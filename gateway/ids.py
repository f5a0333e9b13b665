"""Validation of the ids clients send, before any of them reaches an upstream URL.

Moneybird ids are 64-bit integers written as decimal strings; they are kept as
strings end to end and only turned into exact Python ints for JSON bodies, never
through a float. Monite ids are UUIDs.
"""

from __future__ import annotations

import re
import uuid

from gateway.errors import BadUserInput

MONEYBIRD_ID_PATTERN = re.compile(r"\d{1,19}")
_MAX_INT64 = 2**63 - 1


def moneybird_id(value: object, *, argument: str = "id") -> str:
    """The canonical form of a Moneybird id (no leading zeros), or BadUserInput."""
    text = str(value)
    if not MONEYBIRD_ID_PATTERN.fullmatch(text) or int(text) > _MAX_INT64:
        raise BadUserInput(
            f"`{argument}` must be a Moneybird id: digits only, at most 19 of them.",
            argument=argument,
        )
    return str(int(text))


def monite_id(value: object, *, argument: str = "id") -> str:
    """The canonical (lower-case, hyphenated) form of a Monite UUID, or BadUserInput."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise BadUserInput(f"`{argument}` must be a UUID.", argument=argument) from None


def upstream_key(value: object) -> str | None:
    """The canonical digits of a Moneybird id as an upstream sent it (a string or an
    exact JSON integer); None for anything else, a float above all."""
    if value is None or isinstance(value, (bool, float)):
        return None
    text = str(value)
    return str(int(text)) if text.isdigit() else None

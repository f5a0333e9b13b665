"""A tolerant reader for upstream JSON.

Upstreams send `null` where their docs show strings, `""` where a value is unset,
ids as strings or integers, and enum values the gateway has never seen. None of
that may fail a query: each helper returns the best faithful value or None.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

E = TypeVar("E", bound=Enum)


def text(raw: dict[str, Any], key: str) -> str | None:
    """A string field; Moneybird's `""` for "unset" becomes null."""
    value = raw.get(key)
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def identifier(raw: dict[str, Any], key: str) -> str | None:
    """An id sent as a string or an exact JSON integer; never through a float."""
    value = raw.get(key)
    if value is None or value == "" or isinstance(value, (bool, float)):
        return None
    return str(value)


def boolean(raw: dict[str, Any], key: str) -> bool | None:
    value = raw.get(key)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def integer(raw: dict[str, Any], key: str) -> int | None:
    value = raw.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def number(raw: dict[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def timestamp(raw: dict[str, Any], key: str) -> datetime | None:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def calendar_date(raw: dict[str, Any], key: str) -> date | None:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        try:
            # Moneybird accepts and may echo unpadded dates such as 2017-6-30.
            year, month, day = (int(part) for part in value.split("-"))
            return date(year, month, day)
        except ValueError:
            return None


def json_object(raw: dict[str, Any], key: str) -> Any:
    value = raw.get(key)
    return value if isinstance(value, (dict, list)) else None


def enum_member(enum: type[E], raw: dict[str, Any], key: str, unknown: E) -> E | None:
    """The member whose value the upstream sent; `unknown` for a value we do not know."""
    value = raw.get(key)
    if value is None or value == "":
        return None
    try:
        return enum(value)
    except ValueError:
        return unknown

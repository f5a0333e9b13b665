"""A tolerant reader for upstream JSON.

Upstreams send `null` where their docs show strings, `""` where a value is unset,
ids as strings or integers, and enum values the gateway has never seen. None of
that may fail a query: each helper returns the best faithful value or None.

A number the field's type cannot hold (an integer beyond 64 bits, NaN) is not
a quirk to smooth over: it raises `UnfitValue`, and the field fails with an
error that names the upstream.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

E = TypeVar("E", bound=Enum)

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


class UnfitValue(ValueError):
    """An upstream value that its field's type cannot represent."""


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


def _integer(raw: dict[str, Any], key: str, bounds: tuple[int, int]) -> int | None:
    value = raw.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, float) and not -(2.0**63) <= value < 2.0**63:
        # The JSON parser turns integers beyond 64 bits into floats.
        raise UnfitValue(f"{value:g} does not fit in {bounds[1].bit_length() + 1} bits")
    if not isinstance(value, int):
        return None
    if not bounds[0] <= value <= bounds[1]:
        raise UnfitValue(f"{value} does not fit in {bounds[1].bit_length() + 1} bits")
    return value


def int32(raw: dict[str, Any], key: str) -> int | None:
    """An integer for GraphQL's Int."""
    return _integer(raw, key, INT32)


def int64(raw: dict[str, Any], key: str) -> int | None:
    """An integer for the BigInt scalar: a signed 64-bit integer."""
    return _integer(raw, key, INT64)


def number(raw: dict[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    try:
        result = float(value)
    except OverflowError:
        raise UnfitValue(f"{value} is beyond a float's range") from None
    if not math.isfinite(result):
        raise UnfitValue(f"{value} is not a finite number")
    return result


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

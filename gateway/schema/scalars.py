"""Custom scalars."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def _parse_big_int(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("BigInt cannot represent a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.lstrip("-").isdigit():
        number = int(value)
    else:
        raise ValueError("BigInt must be an integer or a string of digits")
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise ValueError("BigInt holds 64-bit integers only")
    return number


BigInt = NewType("BigInt", int)

SCALARS: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description=(
            "A 64-bit signed integer, serialized as a JSON number. GraphQL's Int is "
            "32-bit; JavaScript clients lose precision above 2^53."
        ),
        serialize=int,
        parse_value=_parse_big_int,
    )
}


def big_int(value: int | None) -> BigInt | None:
    return None if value is None else BigInt(value)

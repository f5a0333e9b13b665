"""Upstream objects served to GraphQL without building every field first.

A contact has some sixty fields and embedded lists; a query usually asks for a
handful. A view keeps the upstream dict and reads a field through the tolerant
reader only when GraphQL resolves it. Strawberry resolves plain fields with
`getattr`, so a view stands in for the type it is cast to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Reader = Callable[[dict[str, Any]], Any]


class UpstreamView:
    __slots__ = ("_raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw


def _field(reader: Reader) -> property:
    return property(lambda view: reader(view._raw))


def view_type(name: str, readers: Mapping[str, Reader]) -> type[UpstreamView]:
    """A view class with one property per field: found by plain attribute lookup,
    not by a failed one (the executor asks every value whether it has `__await__`)."""
    attributes: dict[str, Any] = {field: _field(reader) for field, reader in readers.items()}
    return type(name, (UpstreamView,), {"__slots__": (), **attributes})

"""Upstream objects served to GraphQL without building every field first.

A contact has some sixty fields and embedded lists; a query usually asks for a
handful. A view keeps the upstream dict and reads a field through the tolerant
reader only when GraphQL resolves it. Strawberry resolves plain fields with
`getattr`, so a view stands in for the type it is cast to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

Reader = Callable[[dict[str, Any]], Any]


class UpstreamView:
    __slots__ = ("_raw",)
    readers: ClassVar[Mapping[str, Reader]] = {}

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw

    def __getattr__(self, name: str) -> Any:
        reader = type(self).readers.get(name)
        if reader is None:
            raise AttributeError(name)
        return reader(self._raw)


def view_type(name: str, readers: Mapping[str, Reader]) -> type[UpstreamView]:
    return type(name, (UpstreamView,), {"__slots__": (), "readers": dict(readers)})

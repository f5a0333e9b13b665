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
KeyedReader = Callable[[dict[str, Any], str], Any]
# A reader of the whole upstream dict, or a tolerant reader and the key it reads.
FieldReader = Reader | tuple[KeyedReader, str]


class UpstreamView:
    __slots__ = ("_raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw


def _field(reader: FieldReader) -> property:
    if isinstance(reader, tuple):
        read, key = reader
        # A frame less per read than a lambda around the reader: a page of 100
        # contacts with their notes and events reads some 900 fields.
        return property(lambda view: read(view._raw, key))
    return property(lambda view: reader(view._raw))


def views_of(view: type[UpstreamView], key: str) -> Reader:
    """A reader of the objects listed under `key`, each as a `view`; anything else is skipped."""

    def read(raw: dict[str, Any]) -> list[UpstreamView]:
        value = raw.get(key)
        if value.__class__ is not list:
            return []
        return [view(item) for item in value if isinstance(item, dict)]

    return read


def view_of(view: type[UpstreamView], key: str) -> Reader:
    """A reader of the object under `key` as a `view`; None when it is not an object."""

    def read(raw: dict[str, Any]) -> UpstreamView | None:
        value = raw.get(key)
        return view(value) if isinstance(value, dict) else None

    return read


def view_type(name: str, readers: Mapping[str, FieldReader]) -> type[UpstreamView]:
    """A view class with one property per field: found by plain attribute lookup,
    not by a failed one (the executor asks every value whether it has `__await__`)."""
    attributes: dict[str, Any] = {field: _field(reader) for field, reader in readers.items()}
    return type(name, (UpstreamView,), {"__slots__": (), **attributes})

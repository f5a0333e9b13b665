"""Upstream objects served as the GraphQL types they stand for, read on demand.

A contact has some sixty fields and embedded lists; a query usually asks for a
handful. A view keeps the upstream dict and reads a field through the tolerant
reader only when GraphQL resolves it.

A type's fields are declared once, on the Strawberry type. Its view class is
derived from them: each field is read from the upstream key of the same name
with the reader for its type (`str` as text, `ID` as an identifier, an enum with
UNKNOWN for values the gateway does not know, a list of objects as views of
those objects, ...). `@upstream_type` names the upstream and the exceptions: a
field read from another key, or read by a function of the whole object.

A view is an instance of its type (its class derives from it), and exposes
each field as a property: found by plain attribute lookup, which is what
Strawberry's default resolver does and what the executor's check for
awaitables asks of every value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar, cast

import strawberry
from strawberry.scalars import JSON

from gateway.compat.strawberry import FieldShape, field_shapes
from gateway.errors import UpstreamInvalidData
from gateway.schema import reader
from gateway.schema.scalars import BigInt

T = TypeVar("T")
Raw = dict[str, Any]
# Reads a field from the whole upstream object.
Reader = Callable[[Raw], Any]
KeyedReader = Callable[[Raw, str], Any]

_SCALAR_READERS: dict[Any, KeyedReader] = {
    str: reader.text,
    strawberry.ID: reader.identifier,
    bool: reader.boolean,
    int: reader.int32,
    float: reader.number,
    BigInt: reader.int64,
    datetime: reader.timestamp,
    date: reader.calendar_date,
    JSON: reader.json_object,
}
# What a non-null field of these types reads as when the upstream left it out.
_NON_NULL_DEFAULTS: dict[Any, Any] = {str: "", strawberry.ID: "", bool: False}


@dataclass(frozen=True)
class _Declaration:
    upstream: str
    keys: Mapping[str, str] = field(default_factory=dict)
    readers: Mapping[str, Reader] = field(default_factory=dict)


_declarations: dict[type, _Declaration] = {}
_views: dict[type, type] = {}


def upstream_type(
    upstream: str,
    *,
    keys: Mapping[str, str] | None = None,
    readers: Mapping[str, Reader] | None = None,
) -> Callable[[type[T]], type[T]]:
    """Declare a Strawberry type as read from `upstream`'s objects.

    `keys` maps a field to the upstream key it reads when that is not its own
    name; `readers` gives a field a function of the whole upstream object.
    Apply it above `@strawberry.type`.
    """

    def declare(cls: type[T]) -> type[T]:
        _declarations[cls] = _Declaration(upstream, keys or {}, readers or {})
        return cls

    return declare


def view(cls: type[T], raw: Raw) -> T:
    """`raw`, an upstream object, served as the type `cls`."""
    view_class = _views.get(cls)
    if view_class is None:
        view_class = _views[cls] = _derive(cls)
    return cast(T, view_class(raw))


def views_of(cls: type, key: str) -> Reader:
    """A reader of the objects listed under `key`, each as a view of `cls`;
    anything else in the list is skipped."""

    def read(raw: Raw) -> list[Any]:
        value = raw.get(key)
        if value.__class__ is not list:
            return []
        return [view(cls, item) for item in value if isinstance(item, dict)]

    return read


def view_of(cls: type, key: str) -> Reader:
    """A reader of the object under `key` as a view of `cls`; None when it is not one."""

    def read(raw: Raw) -> Any:
        value = raw.get(key)
        return view(cls, value) if isinstance(value, dict) else None

    return read


def _derive(cls: type) -> type:
    declaration = _declarations.get(cls)
    if declaration is None:
        raise TypeError(f"{cls.__name__} is not declared with @upstream_type")

    def init(self: Any, raw: Raw) -> None:
        self._raw = raw

    attributes: dict[str, Any] = {"__slots__": ("_raw",), "__init__": init}
    for shape in field_shapes(cls):
        if shape.resolved:
            continue
        function = declaration.readers.get(shape.name)
        if function is not None:
            attributes[shape.name] = property(_whole(function))
        else:
            key = declaration.keys.get(shape.name, shape.name)
            attributes[shape.name] = _field(shape, key, declaration.upstream)
    return type(f"{cls.__name__}View", (cls,), attributes)


def _whole(function: Reader) -> Callable[[Any], Any]:
    return lambda view: function(view._raw)


def _field(shape: FieldShape, key: str, upstream: str) -> property:
    if shape.is_list:
        if shape.base in _SCALAR_READERS:
            raise TypeError(f"{shape.name}: lists of scalars need a reader of their own")
        return property(_whole(views_of(shape.base, key)))
    if isinstance(shape.base, type) and issubclass(shape.base, Enum):
        return property(_whole(_enum_reader(shape.base, key)))
    read = _SCALAR_READERS.get(shape.base)
    if read is None:
        return property(_whole(view_of(shape.base, key)))
    if not shape.nullable and shape.base in _NON_NULL_DEFAULTS:
        default = _NON_NULL_DEFAULTS[shape.base]

        def get_or_default(view: Any) -> Any:
            value = read(view._raw, key)
            return default if value is None else value

        return property(get_or_default)

    def get(view: Any) -> Any:
        try:
            return read(view._raw, key)
        except reader.UnfitValue as exc:
            raise UpstreamInvalidData(
                f"{upstream} sent a value `{key}` cannot hold: {exc}.", upstream=upstream
            ) from None

    return property(get)


def _enum_reader(enum: type[Enum], key: str) -> Reader:
    unknown = enum["UNKNOWN"]  # every upstream enum has one: upstreams add values
    return lambda raw: reader.enum_member(enum, raw, key, unknown)

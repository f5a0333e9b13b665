"""Strawberry internals the gateway uses.

- The graphql-core schema a Strawberry schema builds (`Schema._schema`): the
  request pipeline runs graphql-core directly, without Strawberry's
  per-request extension runner.
- Strawberry's execution context class, which gives resolvers Strawberry's
  resolve info: the executor the pipeline runs is a subclass of it.
- The awaitable check Strawberry passes to graphql-core.
- The fields of a Strawberry type with their types (`field_shapes`): the upstream
  views are derived from them, so that each type's fields are declared once.
- The `is_type_of` Strawberry gives every type that implements an interface
  (`ignores_info`): it checks the value's class and never reads the resolve
  info, so the planned executor calls it without building one per object.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from types import CodeType
from typing import Any, TypeGuard

import strawberry
from graphql import GraphQLSchema
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition
from strawberry.types.enum import StrawberryEnumDefinition

__all__ = [
    "FieldShape",
    "StrawberryExecutor",
    "field_shapes",
    "graphql_schema",
    "ignores_info",
    "is_awaitable",
]

StrawberryExecutor = StrawberryGraphQLCoreExecutionContext


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema behind a Strawberry schema."""
    built: GraphQLSchema = schema._schema
    return built


# Strawberry's awaitable check: cheaper than `inspect.isawaitable` on plain values.
# Strawberry annotates it as returning bool; graphql-core asks for a TypeGuard.
is_awaitable: Callable[[Any], TypeGuard[Awaitable[Any]]] = optimized_is_awaitable  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class FieldShape:
    """A field of a Strawberry type, as a reader of upstream data needs to know it."""

    name: str  # the Python name
    # The field has a resolver of its own; it is not read off the object.
    resolved: bool
    nullable: bool
    is_list: bool
    # The innermost type: a Python class (str, bool, datetime, an Enum, a
    # Strawberry type) or a NewType scalar (strawberry.ID, JSON, BigInt).
    base: Any


def field_shapes(cls: type) -> list[FieldShape]:
    """The fields of the Strawberry type `cls`, in declaration order."""
    shapes = []
    for field in get_object_definition(cls, strict=True).fields:
        type_: Any = field.type
        nullable = isinstance(type_, StrawberryOptional)
        if nullable:
            type_ = type_.of_type
        is_list = isinstance(type_, StrawberryList)
        if is_list:
            type_ = type_.of_type
            if isinstance(type_, StrawberryOptional):
                type_ = type_.of_type
        if isinstance(type_, StrawberryEnumDefinition):
            type_ = type_.wrapped_cls
        shapes.append(
            FieldShape(field.python_name, field.base_resolver is not None, nullable, is_list, type_)
        )
    return shapes


def ignores_info(is_type_of: Callable[..., Any]) -> bool:
    """Whether `is_type_of` is the one Strawberry makes for a type that implements
    an interface: an isinstance check of the value (or of the type a
    `strawberry.cast` gave it) that reads nothing of the resolve info and
    returns a bool, never an awaitable."""
    return getattr(is_type_of, "__code__", None) is _strawberry_is_type_of()


@strawberry.interface(name="CompatProbe")
class _Probe:
    name: str


@strawberry.type(name="CompatProbed")
class _Probed(_Probe):
    pass


@strawberry.type
class _ProbeQuery:
    probed: _Probed


@cache
def _strawberry_is_type_of() -> CodeType:
    """The code of Strawberry's own `is_type_of`, taken from a schema built for
    the purpose: each type's check is a closure over that one code object."""
    built = graphql_schema(strawberry.Schema(query=_ProbeQuery))
    is_type_of = getattr(built.get_type("CompatProbed"), "is_type_of", None)
    if is_type_of is None:  # pragma: no cover - fails the compat test on an upgrade
        raise RuntimeError("Strawberry no longer gives interface implementations is_type_of")
    code: CodeType = is_type_of.__code__
    return code

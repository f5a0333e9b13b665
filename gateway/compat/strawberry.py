"""Strawberry internals the gateway uses.

- The graphql-core schema a Strawberry schema builds (`Schema._schema`): the
  request pipeline runs graphql-core directly, without Strawberry's
  per-request extension runner.
- Strawberry's execution context class, which gives resolvers Strawberry's
  resolve info: the executor the pipeline runs is a subclass of it.
- The awaitable check Strawberry passes to graphql-core.
- The fields of a Strawberry type with their types (`field_shapes`): the upstream
  views are derived from them, so that each type's fields are declared once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

import strawberry
from graphql import GraphQLSchema
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition
from strawberry.types.enum import StrawberryEnumDefinition

__all__ = ["FieldShape", "StrawberryExecutor", "field_shapes", "graphql_schema", "is_awaitable"]

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

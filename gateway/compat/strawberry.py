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
  (`value_check`): it reads the value's class (and a `strawberry.cast` mark on
  the value), never the resolve info, so the planned executor checks each
  object without building an info for it, and remembers the classes that pass.
- Which fields only read an attribute (`attribute_reader`: Strawberry marks
  their resolvers) and how a resolver that takes nothing but `self` and `info`
  is called (`direct_resolver`): the planned executor reads the first straight
  off the object and calls the second without Strawberry's per-call wrapper.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from types import CodeType
from typing import Any, TypeGuard

import strawberry
from graphql import GraphQLField, GraphQLResolveInfo, GraphQLSchema
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.enum import StrawberryEnumDefinition

__all__ = [
    "FieldShape",
    "StrawberryExecutor",
    "field_shapes",
    "graphql_schema",
    "is_awaitable",
    "value_check",
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


def value_check(is_type_of: Callable[..., Any]) -> Callable[[Any], bool] | None:
    """Strawberry's own `is_type_of` as a check of the value alone, answering as it
    does; None for any other `is_type_of`, which may read the info or await.

    Strawberry's check passes a value marked by `strawberry.cast` when the mark
    names the type or one of its interfaces; any other value when its class is
    the type, one of its interfaces or a subclass of them (the upstream views
    are). The verdict on a value without a mark depends on its class alone, so
    a class that passed once passes again without the call.
    """
    if getattr(is_type_of, "__code__", None) is not _strawberry_is_type_of():
        return None
    passing: set[type] = set()

    def check(value: Any) -> bool:
        if value.__class__ in passing and getattr(value, TYPE_CAST_ATTRIBUTE, None) is None:
            return True
        if not is_type_of(value, None):
            return False
        if getattr(value, TYPE_CAST_ATTRIBUTE, None) is None:
            passing.add(value.__class__)
        return True

    return check


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


# Where Strawberry keeps its own field in a graphql-core field's extensions.
_STRAWBERRY_DEFINITION = "strawberry-definition"


def attribute_reader(field_def: GraphQLField) -> Callable[[Any], Any] | None:
    """A function of the source that reads the field, for a Strawberry field that
    only reads an attribute; None for a field with a resolver of its own."""
    # Strawberry marks the resolvers of fields that only read an attribute.
    if not getattr(field_def.resolve, "_is_default", False):
        return None
    strawberry_field = (field_def.extensions or {}).get(_STRAWBERRY_DEFINITION)
    if strawberry_field is None:
        return None
    python_name = strawberry_field.python_name
    default_resolver = strawberry_field.default_resolver
    if default_resolver is getattr:
        return operator.attrgetter(python_name)
    return lambda source: default_resolver(source, python_name)


def direct_resolver(
    schema: GraphQLSchema, field_def: GraphQLField
) -> Callable[[Any, GraphQLResolveInfo[Any]], Any] | None:
    """The resolver of a field with no arguments, field extensions or exception
    handlers, called as Strawberry would call it, without the per-call wrapper
    that converts arguments and runs extensions the field does not have: a page
    of counterparts calls `defaultContact` once per counterpart."""
    strawberry_field = (field_def.extensions or {}).get(_STRAWBERRY_DEFINITION)
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    if strawberry_field is None or strawberry_schema is None:
        return None
    resolver = strawberry_field.base_resolver
    if (
        resolver is None
        or field_def.args
        or strawberry_field.arguments
        or strawberry_field.extensions
        or strawberry_field.is_subscription
        or strawberry_schema.exception_handlers
        or not callable(resolver.wrapped_func)
    ):
        return None
    parameters = list(resolver.signature.parameters.values())
    expected = [p for p in (resolver.self_parameter, resolver.info_parameter) if p is not None]
    if parameters != expected or any(p.kind is p.KEYWORD_ONLY for p in parameters):
        return None
    function = resolver.wrapped_func
    info_class = strawberry_schema.config.info_class
    if resolver.self_parameter is not None and resolver.info_parameter is not None:
        return lambda source, info: function(
            source, info_class(_raw_info=info, _field=strawberry_field)
        )
    if resolver.self_parameter is not None:
        return lambda source, _info: function(source)
    if resolver.info_parameter is not None:
        return lambda _source, info: function(info_class(_raw_info=info, _field=strawberry_field))
    return lambda _source, _info: function()

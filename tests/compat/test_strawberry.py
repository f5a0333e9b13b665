"""The Strawberry internals in gateway/compat/strawberry.py still hold."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from graphql import (
    ExecutionResult,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    parse,
)

from gateway.compat.graphql_core import Executor
from gateway.compat.strawberry import (
    StrawberryExecutor,
    attribute_reader,
    direct_resolver,
    graphql_schema,
    is_awaitable,
    value_check,
)


@strawberry.type
class Query:
    @strawberry.field
    def greeting(self, info: strawberry.Info[dict[str, str], None]) -> str:
        return f"hello {info.context['name']}"


def test_the_graphql_core_schema_is_reachable() -> None:
    schema = graphql_schema(strawberry.Schema(query=Query))
    assert isinstance(schema, GraphQLSchema)
    assert schema.query_type is not None
    assert set(schema.query_type.fields) == {"greeting"}


def test_strawberry_resolvers_run_on_its_execution_context() -> None:
    schema = graphql_schema(strawberry.Schema(query=Query))
    executor = StrawberryExecutor.build(
        schema, parse("{ greeting }"), context_value={"name": "Ada"}, is_awaitable=is_awaitable
    )
    assert isinstance(executor, Executor)
    result = executor.execute_operation()
    assert isinstance(result, ExecutionResult)
    assert result.data == {"greeting": "hello Ada"}
    assert result.errors is None


def test_is_awaitable_tells_coroutines_from_values() -> None:
    async def coroutine() -> None:
        return None

    pending = coroutine()
    assert is_awaitable(pending)
    assert not is_awaitable({"__await__": 1})
    assert not is_awaitable("text")
    asyncio.run(pending)


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Pet(Named):
    legs: int


@strawberry.type
class Robot(Named):
    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, Robot)


@strawberry.type
class Zoo:
    pet: Pet
    robot: Robot
    names: list[Named]


def _object_type(schema: GraphQLSchema, name: str) -> GraphQLObjectType:
    type_ = schema.get_type(name)
    assert isinstance(type_, GraphQLObjectType)
    return type_


def test_strawberrys_own_is_type_of_checks_the_value_without_the_info() -> None:
    schema = graphql_schema(strawberry.Schema(query=Zoo, types=[Pet, Robot]))
    pet = _object_type(schema, "Pet")
    assert pet.is_type_of is not None
    check = value_check(pet.is_type_of)
    assert check is not None

    class PetView(Pet):
        """A subclass, as the upstream views are."""

    class Row:
        """An object of no Strawberry type, as an ORM's row."""

    zoo = Zoo(pet=Pet(name="Rex", legs=4), robot=Robot(name="R2"), names=[])
    values: list[Any] = [
        Pet(name="Rex", legs=4),
        PetView(name="Rex", legs=4),
        zoo,
        {"name": "Rex"},
        # Strawberry lets an instance of one of the type's interfaces pass too
        Robot(name="R2"),
        # and a cast decides: to the type or an interface passes, to another fails
        strawberry.cast(Pet, Row()),
        strawberry.cast(Robot, Robot(name="R3")),
        strawberry.cast(Named, Row()),
        # a class that passed once, cast to another type: the mark still decides
        strawberry.cast(Robot, PetView(name="Rex", legs=4)),
    ]
    # The check answers as Strawberry's does with an info, again and again: the
    # classes it remembers do not change a verdict.
    expected = [True, True, False, False, True, True, False, True, False]
    for _ in range(2):
        assert [check(value) for value in values] == expected
        assert [pet.is_type_of(value, None) for value in values] == expected  # type: ignore[arg-type]


def test_a_check_of_a_types_own_is_not_taken_for_strawberrys() -> None:
    schema = graphql_schema(strawberry.Schema(query=Zoo, types=[Pet, Robot]))
    robot = _object_type(schema, "Robot")
    assert robot.is_type_of is not None
    assert value_check(robot.is_type_of) is None
    # a type that implements no interface has no check at all
    assert _object_type(schema, "Zoo").is_type_of is None


@strawberry.type
class Shelf:
    title: str

    @strawberry.field
    def label(self) -> str:
        return self.title.upper()

    @strawberry.field
    def where(self, info: strawberry.Info[dict[str, str], None]) -> str:
        return f"{self.title} in {info.context['room']}"

    @strawberry.field
    def lookup(self, key: str) -> str:
        return key


@strawberry.type
class Library:
    shelf: Shelf


def shelf_fields() -> tuple[GraphQLSchema, dict[str, Any]]:
    schema = graphql_schema(strawberry.Schema(query=Library))
    shelf = schema.get_type("Shelf")
    assert isinstance(shelf, GraphQLObjectType)
    return schema, shelf.fields


def test_a_plain_field_is_read_straight_off_the_object() -> None:
    _, fields = shelf_fields()
    read = attribute_reader(fields["title"])
    assert read is not None
    assert read(Shelf(title="Atlases")) == "Atlases"
    assert attribute_reader(fields["label"]) is None


def test_a_resolver_of_self_and_info_is_called_without_the_wrapper() -> None:
    schema, fields = shelf_fields()
    label = direct_resolver(schema, fields["label"])
    assert label is not None
    assert label(Shelf(title="maps"), None) == "MAPS"  # type: ignore[arg-type]
    where = direct_resolver(schema, fields["where"])
    assert where is not None
    info = GraphQLResolveInfo(  # what graphql-core passes; Strawberry wraps it
        "where",
        [],
        fields["where"].type,
        schema.get_type("Shelf"),
        None,
        schema,  # type: ignore[arg-type]
        {},
        None,
        None,
        {},
        {"room": "hall"},
        None,
        None,
        None,  # type: ignore[arg-type]
    )
    assert where(Shelf(title="maps"), info) == "maps in hall"
    # a field with arguments keeps Strawberry's wrapper, which converts them
    assert direct_resolver(schema, fields["lookup"]) is None

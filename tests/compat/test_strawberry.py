"""The Strawberry internals in gateway/compat/strawberry.py still hold."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from graphql import ExecutionResult, GraphQLObjectType, GraphQLSchema, parse

from gateway.compat.graphql_core import Executor
from gateway.compat.strawberry import (
    StrawberryExecutor,
    graphql_schema,
    ignores_info,
    is_awaitable,
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


def test_strawberrys_own_is_type_of_checks_the_class_without_the_info() -> None:
    schema = graphql_schema(strawberry.Schema(query=Zoo, types=[Pet, Robot]))
    pet = _object_type(schema, "Pet")
    assert pet.is_type_of is not None
    assert ignores_info(pet.is_type_of)

    class PetView(Pet):
        """A subclass, as the upstream views are."""

    # It answers from the value's class alone: an info of None does not matter.
    assert pet.is_type_of(Pet(name="Rex", legs=4), None)  # type: ignore[arg-type]
    assert pet.is_type_of(PetView(name="Rex", legs=4), None)  # type: ignore[arg-type]
    assert not pet.is_type_of(
        Zoo(pet=Pet(name="Rex", legs=4), robot=Robot(name="R2"), names=[]), None
    )  # type: ignore[arg-type]
    assert not pet.is_type_of({"name": "Rex"}, None)  # type: ignore[arg-type]
    # Strawberry lets an instance of one of the type's interfaces pass too
    assert pet.is_type_of(Robot(name="R2"), None)  # type: ignore[arg-type]
    # and a cast still decides, as Strawberry's resolve_type lets it
    assert not pet.is_type_of(strawberry.cast(Robot, Robot(name="R2")), None)  # type: ignore[arg-type]


def test_a_check_of_a_types_own_is_not_taken_for_strawberrys() -> None:
    schema = graphql_schema(strawberry.Schema(query=Zoo, types=[Pet, Robot]))
    robot = _object_type(schema, "Robot")
    assert robot.is_type_of is not None
    assert not ignores_info(robot.is_type_of)
    # a type that implements no interface has no check at all
    assert _object_type(schema, "Zoo").is_type_of is None

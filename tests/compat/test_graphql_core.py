"""The graphql-core internals in gateway/compat/graphql_core.py still hold."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLObjectType,
    build_schema,
    parse,
)
from graphql.execution import Executor as PublicExecutor
from graphql.pyutils import Path, gather_with_cancel

from gateway.compat.graphql_core import (
    Executor,
    collect_fields,
    collect_subfields,
    invalid_return_type_error,
)

SCHEMA = build_schema(
    """
    type Query { pet: Pet, pets: [Pet] }
    type Pet { name: String, legs: Int }
    """
)
DOCUMENT = parse(
    """
    query($more: Boolean!) {
      pet { name ...More @include(if: $more) }
      alias: pets { legs }
    }
    fragment More on Pet { legs }
    """
)


def executor(variables: dict[str, Any]) -> Executor[Any]:
    built = Executor.build(SCHEMA, DOCUMENT, raw_variable_values=variables)
    assert isinstance(built, Executor)
    return built


def test_the_executor_is_graphql_cores_public_one() -> None:
    assert Executor is PublicExecutor


def test_fields_are_collected_as_graphql_core_collects_them() -> None:
    built = executor({"more": True})
    query_type = SCHEMA.query_type
    assert query_type is not None
    collected = collect_fields(
        SCHEMA, built.fragments, built.variable_values, query_type, built.operation, True
    )
    assert list(collected.grouped_field_set) == ["pet", "alias"]
    pet = SCHEMA.get_type("Pet")
    assert isinstance(pet, GraphQLObjectType)
    details = collected.grouped_field_set["pet"]
    below = collect_subfields(
        SCHEMA,
        built.fragments,
        built.variable_values,
        built.operation,
        pet,
        details,
        True,
    )
    assert list(below.grouped_field_set) == ["name", "legs"]
    without = executor({"more": False})
    below = collect_subfields(
        SCHEMA,
        without.fragments,
        without.variable_values,
        without.operation,
        pet,
        details,
        True,
    )
    assert list(below.grouped_field_set) == ["name"]


def test_errors_are_collected_once_per_nulled_position() -> None:
    built = executor({"more": True})
    position = Path(None, "pet", "Query")
    built.collected_errors.add(GraphQLError("first"), position)
    built.collected_errors.add(GraphQLError("inside the null"), Path(position, "name", "Pet"))
    response = Executor.build_response(built, {"pet": None})
    assert isinstance(response, ExecutionResult)
    assert [error.message for error in response.errors or []] == ["first"]
    assert response.data == {"pet": None}


def test_the_async_helpers_are_the_executors_own() -> None:
    built = executor({"more": True})
    assert callable(built.gather_async_work)
    assert callable(built.track_async_work)


def test_a_refused_value_is_worded_as_graphql_core_words_it() -> None:
    pet = SCHEMA.get_type("Pet")
    assert isinstance(pet, GraphQLObjectType)
    built = executor({"more": True})
    details = collect_fields(
        SCHEMA,
        built.fragments,
        built.variable_values,
        SCHEMA.query_type,  # type: ignore[arg-type]
        built.operation,
        True,
    ).grouped_field_set["pet"]
    error = invalid_return_type_error(pet, {"not": "a pet"}, details)
    assert error.message == "Expected value of type 'Pet' but got: {'not': 'a pet'}."


def test_gather_with_cancel_cancels_the_rest_at_the_first_failure() -> None:
    cancelled: list[bool] = []

    async def fails() -> None:
        raise ValueError("first")

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def run() -> None:
        with pytest.raises(ValueError, match="first"):
            await gather_with_cancel(slow(), fails())

    asyncio.run(run())
    assert cancelled == [True]

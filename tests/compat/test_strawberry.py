"""The Strawberry internals in gateway/compat/strawberry.py still hold."""

from __future__ import annotations

import asyncio

import strawberry
from graphql import ExecutionResult, GraphQLSchema, parse

from gateway.compat.graphql_core import Executor
from gateway.compat.strawberry import StrawberryExecutor, graphql_schema, is_awaitable


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

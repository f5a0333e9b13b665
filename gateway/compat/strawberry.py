"""Strawberry internals the gateway uses.

- The graphql-core schema a Strawberry schema builds (`Schema._schema`): the
  request pipeline runs graphql-core directly, without Strawberry's
  per-request extension runner.
- Strawberry's execution context class, which gives resolvers Strawberry's
  resolve info: the executor the pipeline runs is a subclass of it.
- The awaitable check Strawberry passes to graphql-core.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard

import strawberry
from graphql import GraphQLSchema
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["StrawberryExecutor", "graphql_schema", "is_awaitable"]

StrawberryExecutor = StrawberryGraphQLCoreExecutionContext


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema behind a Strawberry schema."""
    built: GraphQLSchema = schema._schema
    return built


# Strawberry's awaitable check: cheaper than `inspect.isawaitable` on plain values.
# Strawberry annotates it as returning bool; graphql-core asks for a TypeGuard.
is_awaitable: Callable[[Any], TypeGuard[Awaitable[Any]]] = optimized_is_awaitable  # type: ignore[assignment]

"""The short path for a query the gateway has already parsed and validated.

Most traffic repeats a few query texts. For those, Strawberry's HTTP view and
its per-request extension runner (five extensions, each wrapped per phase) cost
about 40% of the CPU of a one-contact query. A POSTed JSON query whose text was
parsed and validated before, and whose variables coerce, runs here: same
context, same planned executor, same error contract and operation log, same
response body. Everything else (GET, GraphiQL, mutations, syntax or
validation errors, bad variables, unusual bodies) goes through Strawberry's
view unchanged, so every error keeps its one source.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from strawberry.execution.is_awaitable import optimized_is_awaitable

from gateway.execution.executor import PlannedExecutor
from gateway.schema.extensions.error_contract import shape_errors
from gateway.schema.extensions.operation_log import record_operation

Validator = Callable[[str, DocumentNode], tuple[GraphQLError, ...]]


@dataclass(frozen=True, slots=True)
class PreparedQuery:
    document: DocumentNode
    # Query operations by name (None for the only, anonymous one).
    operations: dict[str | None, OperationDefinitionNode]


class PreparedQueries:
    """Query texts that parsed and validated, by text; texts that did not are not kept."""

    def __init__(
        self,
        schema: GraphQLSchema,
        validator: Validator,
        *,
        max_tokens: int,
        maxsize: int = 256,
    ) -> None:
        self.schema = schema
        self._validator = validator
        self._max_tokens = max_tokens
        self._maxsize = maxsize
        self._entries: OrderedDict[str, PreparedQuery] = OrderedDict()

    def get(self, query: str) -> PreparedQuery | None:
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
            return entry
        try:
            document = parse(query, max_tokens=self._max_tokens)
        except GraphQLError:
            return None
        if self._validator(query, document):
            return None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        by_name: dict[str | None, OperationDefinitionNode] = {
            operation.name.value if operation.name else None: operation
            for operation in operations
            if operation.operation is OperationType.QUERY
        }
        if len(operations) == 1 and operations[0].operation is OperationType.QUERY:
            by_name[None] = operations[0]
        entry = PreparedQuery(document, by_name)
        self._entries[query] = entry
        if len(self._entries) > self._maxsize:
            self._entries.popitem(last=False)
        return entry


async def execute_prepared(
    queries: PreparedQueries,
    payload: Any,
    make_context: Callable[[], Awaitable[Any]],
) -> dict[str, Any] | None:
    """The response body for `payload`, or None when Strawberry's view should answer."""
    if payload.__class__ is not dict:
        return None
    query = payload.get("query")
    variables = payload.get("variables")
    operation_name = payload.get("operationName")
    if (
        query.__class__ is not str
        or (variables is not None and variables.__class__ is not dict)
        or (operation_name is not None and operation_name.__class__ is not str)
    ):
        return None
    prepared = queries.get(query)
    if prepared is None or operation_name not in prepared.operations:
        return None
    started = time.perf_counter()
    context = await make_context()
    executor = PlannedExecutor.build(
        queries.schema,
        prepared.document,
        context_value=context,
        raw_variable_values=variables,
        operation_name=operation_name,
        is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
    )
    if isinstance(executor, list):
        return None  # variables that do not coerce: Strawberry's view words the errors
    outcome: Any = executor.execute_operation()
    result = await outcome if optimized_is_awaitable(outcome) else outcome
    assert isinstance(result, ExecutionResult)
    if result.errors:
        result.errors = shape_errors(result.errors, context)
    operation = prepared.operations[operation_name]
    record_operation(
        result,
        context,
        operation.name.value if operation.name else None,
        "query",
        time.perf_counter() - started,
    )
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    return body

"""One GraphQL operation from request to result, the same way for every request.

    persisted     the text the request sends, or the one its persisted document id
                  names (gateway.persisted_queries); APQ texts are kept once valid
    document      parse and validate the text, limits included (cached per text)
    operation     choose the operation the request names (GetOperation)
    variables     coerce the request's variables (CoerceVariableValues)
    execute       run the operation (ExecuteRequest): from a cached plan where the
                  planner covers it, else on graphql-core's executor
    errors        give every error its code, mask the unexpected ones
    log           one log line and the request metrics

An error in the first three steps is a request error: the result has no `data`.
Nothing here knows HTTP; `gateway.graphql_http` reads requests and writes responses.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
)

from gateway.compat.graphql_core import Executor
from gateway.compat.strawberry import StrawberryExecutor, graphql_schema, is_awaitable
from gateway.context import RequestContext
from gateway.execution.documents import VALIDATION_FAILED, Document, Documents
from gateway.execution.error_contract import request_errors, shape_errors
from gateway.execution.executor import PlannedExecutor
from gateway.execution.operation_log import record_operation
from gateway.execution.validation import make_validator
from gateway.persisted_queries import (
    Found,
    PersistedQueries,
    load_manifest,
    requested_id,
)
from gateway.schema import build_schema
from gateway.settings import Settings

OPERATION_RESOLUTION_FAILED = "OPERATION_RESOLUTION_FAILURE"
BAD_USER_INPUT = "BAD_USER_INPUT"


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    """The parameters of one operation, as the client sent them: the text in
    `query`, or a persisted document's id in `document_id` or in Apollo's
    `extensions.persistedQuery`."""

    query: str | None
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    extensions: dict[str, Any] | None = None
    document_id: str | None = None


@dataclass(slots=True)
class GraphQLResult:
    data: dict[str, Any] | None
    errors: list[GraphQLError]
    # False for a request error: execution never started, so the answer has no `data`.
    executed: bool
    extensions: dict[str, Any] | None = None

    def formatted(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.executed:
            body["data"] = self.data
        if self.errors:
            body["errors"] = [error.formatted for error in self.errors]
        if self.extensions:
            body["extensions"] = self.extensions
        return body


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the steps before execution made of a request: the text found, its
    document once it validated, the operation chosen, or the request error that
    stopped them."""

    found: Found | None = None
    document: Document | None = None
    operation: OperationDefinitionNode | None = None
    error: GraphQLResult | None = None

    @property
    def operation_type(self) -> OperationType | None:
        """The type of the operation that will run; None when none will."""
        return None if self.operation is None else self.operation.operation


class OperationNotAllowed(Exception):
    """The operation's type may not run over this request (a mutation sent with GET)."""

    def __init__(self, operation_type: OperationType) -> None:
        super().__init__(f"{operation_type.value} operations are not allowed here")
        self.operation_type = operation_type


class Pipeline:
    """Runs operations against one schema with one executor class.

    `executor_class` is the planned executor, which falls back to graphql-core's
    own for what its planner does not cover, or graphql-core's executor itself.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        documents: Documents,
        *,
        executor_class: type[Executor[Any]],
        persisted: PersistedQueries | None = None,
    ) -> None:
        self.schema = schema
        self.documents = documents
        self.executor_class = executor_class
        self.persisted = persisted if persisted is not None else PersistedQueries()

    async def run(
        self,
        request: GraphQLRequest,
        context: RequestContext,
        *,
        allowed: Collection[OperationType] = (OperationType.QUERY, OperationType.MUTATION),
        prepared: Prepared | None = None,
    ) -> GraphQLResult:
        """The result of one operation; raises OperationNotAllowed for an operation
        type outside `allowed`, before anything runs. `prepared`: what `prepare`
        made of `request` already."""
        started = time.perf_counter()
        shared = context.services.apq_shared
        if prepared is None:
            prepared = await self.prepare(request, context)
        if prepared.found is not None and prepared.document is not None:
            await self.persisted.register(prepared.found, shared)
        operation = prepared.operation
        executor_name: str | None = None
        if prepared.error is not None:
            result = prepared.error
        else:
            # No request error: the document validated and the operation was chosen.
            assert operation is not None
            assert prepared.document is not None
            if operation.operation not in allowed:
                raise OperationNotAllowed(operation.operation)
            result, executor_name = await self._execute(request, prepared.document, context)
        record_operation(
            request_id=context.request_id,
            operation_name=request.operation_name if operation is None else _name(operation),
            operation_type=None if operation is None else operation.operation.value,
            executor=executor_name,
            persisted=None if prepared.found is None else prepared.found.source,
            document_id=requested_id(request.document_id, request.extensions),
            data=result.data,
            errors=result.errors,
            duration=time.perf_counter() - started,
        )
        return result

    async def prepare(self, request: GraphQLRequest, context: RequestContext) -> Prepared:
        """The steps before execution: the text, its document, the operation; a
        batch prepares its operations first, to order its mutations."""
        found = await self.persisted.lookup(
            request.query, request.document_id, request.extensions, context.services.apq_shared
        )
        if isinstance(found, GraphQLError):
            return Prepared(error=GraphQLResult(None, [found], False))
        document = self.documents.get(found.text)
        if document.errors:
            errors = request_errors(document.errors, document.code or VALIDATION_FAILED)
            return Prepared(found, error=GraphQLResult(None, errors, False))
        chosen = _operation(document, request.operation_name)
        if isinstance(chosen, GraphQLError):
            errors = request_errors([chosen], OPERATION_RESOLUTION_FAILED)
            return Prepared(found, document, error=GraphQLResult(None, errors, False))
        return Prepared(found, document, chosen)

    async def _execute(
        self, request: GraphQLRequest, document: Document, context: RequestContext
    ) -> tuple[GraphQLResult, str | None]:
        assert document.node is not None
        executor = self.executor_class.build(
            self.schema,
            document.node,
            context_value=context,
            raw_variable_values=request.variables,
            operation_name=request.operation_name,
            is_awaitable=is_awaitable,
            hide_suggestions=True,
        )
        if isinstance(executor, list):
            return GraphQLResult(None, request_errors(executor, BAD_USER_INPUT), False), None
        outcome: Any = executor.execute_operation()
        if is_awaitable(outcome):
            outcome = await outcome
        assert isinstance(outcome, ExecutionResult)
        errors = shape_errors(outcome.errors, context.request_id) if outcome.errors else []
        ran_plan = getattr(executor, "ran_plan", False)
        result = GraphQLResult(outcome.data, errors, True, _freshness(context))
        return result, "planned" if ran_plan else "graphql-core"


def build_pipeline(settings: Settings) -> Pipeline:
    """The gateway's schema with the limits and the executor `settings` choose."""
    schema = graphql_schema(build_schema())
    validator = make_validator(
        schema,
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        introspection=settings.introspection,
    )
    manifest_path = settings.persisted_documents
    manifest = None if manifest_path is None else load_manifest(manifest_path)
    return Pipeline(
        schema,
        Documents(validator, max_tokens=settings.max_tokens),
        executor_class=PlannedExecutor if settings.executor == "planned" else StrawberryExecutor,
        persisted=PersistedQueries(
            manifest,
            apq=settings.apq,
            apq_cache_bytes=settings.apq_cache_bytes,
            trusted_only=settings.trusted_documents_only,
        ),
    )


def _freshness(context: RequestContext) -> dict[str, Any] | None:
    """How old the mirrored data in the answer is, when the answer read a mirror."""
    synced_at = context.mirror_synced_at
    if synced_at is None:
        return None
    # The time, not an age: an answer stays the same, ETag included, between syncs.
    moment = datetime.fromtimestamp(synced_at, UTC).isoformat(timespec="milliseconds")
    return {"mirror": {"syncedAt": moment}}


def _operation(document: Document, name: str | None) -> OperationDefinitionNode | GraphQLError:
    """The operation a request names (GetOperation in the spec)."""
    if name is None:
        if document.only_operation is not None:
            return document.only_operation
        return GraphQLError("Must provide operation name if query contains multiple operations.")
    operation = document.operations.get(name)
    if operation is None:
        return GraphQLError(f"Unknown operation named '{name}'.")
    return operation


def _name(operation: OperationDefinitionNode) -> str | None:
    return None if operation.name is None else operation.name.value

"""Give every top-level error an `extensions.code`; mask what was not expected.

Gateway errors keep their message and code. Unexpected exceptions become
"Unexpected error." with code INTERNAL and the request id; the detail goes to the
server log only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.errors import GatewayError

logger = logging.getLogger("gateway.errors")

MASKED_MESSAGE = "Unexpected error."


def _request_id(context: Any) -> str | None:
    request = getattr(context, "request", None)
    state = getattr(request, "state", None)
    return getattr(state, "request_id", None)


def _code_for_graphql_error(error: GraphQLError) -> str:
    message = error.message
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if message.startswith("Variable "):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def shape_errors(errors: list[GraphQLError], context: Any) -> list[GraphQLError]:
    """The errors as clients see them: each with a code, the unexpected ones masked."""
    request_id = _request_id(context)
    return [_shape(error, request_id) for error in errors]


def _shape(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = error.original_error
    if isinstance(original, GatewayError):
        return _rebuild(error, original.message, original.extensions())
    if original is None:
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", _code_for_graphql_error(error))
        return _rebuild(error, error.message, extensions)
    if isinstance(original, GraphQLError):
        # A scalar's parse error or similar: the client's input, phrased by graphql-core.
        extensions = dict(original.extensions or {})
        extensions.setdefault("code", "BAD_USER_INPUT")
        return _rebuild(error, error.message, extensions)
    logger.error(
        "unexpected error in %s (request %s)",
        ".".join(str(part) for part in error.path or ()) or "operation",
        request_id,
        exc_info=original,
    )
    extensions = {"code": "INTERNAL"}
    if request_id is not None:
        extensions["requestId"] = request_id
    return _rebuild(error, MASKED_MESSAGE, extensions)


def _rebuild(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class ErrorContract(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = shape_errors(errors, self.execution_context.context)  # type: ignore[union-attr]

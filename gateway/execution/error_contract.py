"""Give every top-level error an `extensions.code`; mask what was not expected.

Gateway errors keep their message and code. Errors raised before execution
(parse, validation, operation choice, variables) get the code of the step that
raised them. Unexpected exceptions become "Unexpected error." with code
INTERNAL and the request id; the detail goes to the server log only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from graphql import GraphQLError

from gateway.errors import GatewayError

logger = logging.getLogger("gateway.errors")

MASKED_MESSAGE = "Unexpected error."


def request_errors(errors: Iterable[GraphQLError], code: str) -> list[GraphQLError]:
    """Errors that stopped a request before execution, each with `code` unless it
    carries one of its own."""
    return [
        _rebuild(error, error.message, {"code": code, **(error.extensions or {})})
        for error in errors
    ]


def shape_errors(errors: list[GraphQLError], request_id: str | None) -> list[GraphQLError]:
    """The errors as clients see them: each with a code, the unexpected ones masked
    (with the request's id, which names them in the server log)."""
    return [_shape(error, request_id) for error in errors]


def _shape(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = error.original_error
    if isinstance(original, GatewayError):
        return _rebuild(error, original.message, original.extensions())
    if original is None or isinstance(original, GraphQLError):
        # Raised by graphql-core while executing: an argument that does not coerce,
        # the client's input. Upstream values never get here: the readers check
        # that they fit their types.
        extensions = dict((original or error).extensions or {})
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

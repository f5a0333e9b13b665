"""GraphQL over HTTP at /graphql: read the request, run the pipeline, write the answer.

    GET  /graphql?query=...&variables=...   queries only (a mutation is 405)
    POST /graphql  application/json body     queries and mutations
    GET  /graphql  from a browser            GraphiQL, when it is switched on

The answer's media type follows the client's Accept header:
`application/graphql-response+json` (request errors are 400) or
`application/json` (200 for every well-formed request). A request that is not
well-formed (a body that is not a JSON object, parameters of the wrong type)
is a 400 with a GraphQL error body in either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from graphql import OperationType
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.context import RequestContext
from gateway.execution.pipeline import GraphQLRequest, GraphQLResult, OperationNotAllowed, Pipeline

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
BAD_REQUEST = "BAD_REQUEST"

_CONTENT_TYPES = {
    GRAPHQL_RESPONSE: b"application/graphql-response+json; charset=utf-8",
    JSON: b"application/json; charset=utf-8",
}

IdePage = Callable[[Request], Awaitable[Response]]


class RequestNotWellFormed(Exception):
    """The HTTP request does not carry a GraphQL request that can be read."""

    def __init__(
        self, message: str, *, status: int = 400, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.headers = headers or {}


class GraphQLEndpoint:
    """The ASGI app behind /graphql."""

    def __init__(self, pipeline: Pipeline, *, ide: IdePage | None = None) -> None:
        self.pipeline = pipeline
        self.ide = ide

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if self.ide is not None and _wants_ide(request):
            response = await self.ide(request)
            await response(scope, receive, send)
            return
        media_type = negotiate(request.headers.get("accept"))
        if media_type is None:
            await _send(
                send,
                406,
                {"errors": [_error(f"Acceptable media types are {GRAPHQL_RESPONSE} and {JSON}.")]},
                JSON,
            )
            return
        try:
            graphql_request = await read_request(request)
        except RequestNotWellFormed as exc:
            body = {"errors": [_error(exc.message)]}
            await _send(send, exc.status, body, media_type, exc.headers)
            return
        allowed = (
            (OperationType.QUERY,)
            if request.method == "GET"
            else (OperationType.QUERY, OperationType.MUTATION)
        )
        context = RequestContext.for_request(request)
        try:
            result = await self.pipeline.run(graphql_request, context, allowed=allowed)
        except OperationNotAllowed as exc:
            message = (
                f"Only queries may be sent with GET; send a {exc.operation_type.value} with POST."
            )
            await _send(send, 405, {"errors": [_error(message)]}, media_type, {"allow": "POST"})
            return
        await _send(send, _status(result, media_type), result.formatted(), media_type)


def negotiate(accept: str | None) -> str | None:
    """The media type to answer in, by the client's preference; None when the
    client accepts neither. No Accept header means application/json, as older
    clients expect."""
    if not accept:
        return JSON
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept.split(",")):
        media_range, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        media_range = media_range.lower()
        if media_range in (GRAPHQL_RESPONSE, JSON):
            candidate = media_range
        elif media_range in ("*/*", "application/*"):
            candidate = JSON
        else:
            continue
        # Higher quality first, then the order the client listed them in.
        key = (quality, -position, candidate)
        if best is None or key[:2] > best[:2]:
            best = key
    return None if best is None else best[2]


async def read_request(request: Request) -> GraphQLRequest:
    """The GraphQL request an HTTP request carries (query string for GET, JSON body
    for POST), or RequestNotWellFormed."""
    if request.method == "GET":
        params = request.query_params
        return _graphql_request(
            {
                "query": params.get("query"),
                "operationName": params.get("operationName"),
                "variables": _json_param(params.get("variables"), "variables"),
                "extensions": _json_param(params.get("extensions"), "extensions"),
            }
        )
    if request.method != "POST":
        raise RequestNotWellFormed(
            "Send GraphQL requests with GET or POST.", status=405, headers={"allow": "GET, POST"}
        )
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != JSON:
        raise RequestNotWellFormed(f"POST a JSON body with Content-Type: {JSON}.", status=415)
    try:
        payload = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise RequestNotWellFormed("The request body is not valid JSON.") from None
    if isinstance(payload, list):
        raise RequestNotWellFormed("Batching is not enabled: send one operation per request.")
    if not isinstance(payload, dict):
        raise RequestNotWellFormed("The request body must be a JSON object.")
    return _graphql_request(payload)


def _graphql_request(params: dict[str, Any]) -> GraphQLRequest:
    query = params.get("query")
    if query is None:
        raise RequestNotWellFormed("No GraphQL query found in the request.")
    if not isinstance(query, str):
        raise RequestNotWellFormed("`query` must be a string.")
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestNotWellFormed("`operationName` must be a string.")
    variables = params.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestNotWellFormed("`variables` must be a JSON object.")
    extensions = params.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestNotWellFormed("`extensions` must be a JSON object.")
    return GraphQLRequest(query, operation_name, variables, extensions)


def _json_param(value: str | None, name: str) -> Any:
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        raise RequestNotWellFormed(f"`{name}` must be JSON.") from None


def _wants_ide(request: Request) -> bool:
    if request.method != "GET" or "query" in request.query_params:
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "*/*" in accept


def _status(result: GraphQLResult, media_type: str) -> int:
    # With application/json every well-formed request is a 200; the newer media
    # type tells request errors apart by status.
    if media_type == GRAPHQL_RESPONSE and not result.executed:
        return 400
    return 200


def _error(message: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": BAD_REQUEST}}


async def _send(
    send: Send,
    status: int,
    body: dict[str, Any],
    media_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    content = orjson.dumps(body)
    raw_headers = [
        (b"content-type", _CONTENT_TYPES[media_type]),
        (b"content-length", str(len(content)).encode()),
    ]
    raw_headers += [(name.encode(), value.encode()) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": content})

"""GraphQL over HTTP at /graphql: read the request, run the pipeline, write the answer.

    GET  /graphql?query=...&variables=...   queries only (a mutation is 405)
    POST /graphql  application/json body     queries and mutations
    POST /graphql  a JSON array of them      a batch (gateway.batching)
    GET  /graphql  from a browser            GraphiQL, when it is switched on

Instead of `query`, a request may name a persisted document: `documentId`,
Relay's `doc_id` or Apollo's `extensions.persistedQuery`
(gateway.persisted_queries).

The answer's media type follows the client's Accept header:
`application/graphql-response+json` (request errors are 4xx) or
`application/json` (200 for every well-formed request). A request that is not
well-formed (a body that is not a JSON object, parameters of the wrong type)
is a 400 with a GraphQL error body in either. Every answer says what HTTP
caches may do with it (gateway.http_caching).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from graphql import OperationType
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway import http_caching
from gateway.batching import run_batch
from gateway.context import RequestContext
from gateway.execution.pipeline import GraphQLRequest, GraphQLResult, OperationNotAllowed, Pipeline
from gateway.persisted_queries import (
    PERSISTED_QUERY_HASH_MISMATCH,
    PERSISTED_QUERY_NOT_FOUND,
    PERSISTED_QUERY_NOT_IN_LIST,
    QUERY_NOT_IN_SAFELIST,
)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
BAD_REQUEST = "BAD_REQUEST"
BATCH_LIMIT_EXCEEDED = "BATCH_LIMIT_EXCEEDED"

_CONTENT_TYPES = {
    GRAPHQL_RESPONSE: "application/graphql-response+json; charset=utf-8",
    JSON: "application/json; charset=utf-8",
}

# The parameters that make a GET a GraphQL request rather than a visit to GraphiQL.
_GRAPHQL_PARAMETERS = ("query", "documentId", "doc_id", "extensions")

# Status of a request error under application/graphql-response+json, by code;
# 400 for the others. Under application/json every one is a 200.
_REQUEST_ERROR_STATUS = {
    PERSISTED_QUERY_NOT_FOUND: 404,
    PERSISTED_QUERY_NOT_IN_LIST: 404,
    QUERY_NOT_IN_SAFELIST: 403,
}
# Request errors that are a 400 under either media type: the request contradicts
# itself. Apollo Server and Apollo Router answer a hash mismatch so.
_ALWAYS_400 = frozenset({PERSISTED_QUERY_HASH_MISMATCH})

IdePage = Callable[[Request], Awaitable[Response]]


class RequestNotWellFormed(Exception):
    """The HTTP request does not carry a GraphQL request that can be read."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        code: str = BAD_REQUEST,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.headers = headers or {}


class GraphQLEndpoint:
    """The ASGI app behind /graphql."""

    def __init__(
        self, pipeline: Pipeline, *, max_batch_size: int = 10, ide: IdePage | None = None
    ) -> None:
        self.pipeline = pipeline
        self.max_batch_size = max_batch_size
        self.ide = ide

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if self.ide is not None and _wants_ide(request):
            response = await self.ide(request)
            response.headers.add_vary_header("Accept")
            await response(scope, receive, send)
            return
        media_type = negotiate(request.headers.get("accept"))
        if media_type is None:
            message = f"Acceptable media types are {GRAPHQL_RESPONSE} and {JSON}."
            await _send(send, 406, _errors(message), JSON)
            return
        try:
            graphql_request = await read_request(request, max_batch_size=self.max_batch_size)
        except RequestNotWellFormed as exc:
            body = _errors(exc.message, exc.code)
            await _send(send, exc.status, body, media_type, exc.headers)
            return
        context = RequestContext.for_request(request)
        if isinstance(graphql_request, list):
            results = await run_batch(self.pipeline, graphql_request, context)
            # One status for the batch, as Apollo Server sets it: that of the first
            # operation a request error stopped, else 200.
            statuses = (_status(result, media_type) for result in results)
            status = next((status for status in statuses if status != 200), 200)
            await _send(send, status, [result.formatted() for result in results], media_type)
            return
        allowed = (
            (OperationType.QUERY,)
            if request.method == "GET"
            else (OperationType.QUERY, OperationType.MUTATION)
        )
        try:
            result = await self.pipeline.run(graphql_request, context, allowed=allowed)
        except OperationNotAllowed as exc:
            message = (
                f"Only queries may be sent with GET; send a {exc.operation_type.value} with POST."
            )
            await _send(send, 405, _errors(message), media_type, {"allow": "POST"})
            return
        if request.method == "GET" and result.executed:
            await _send_get_answer(send, request, result, media_type)
        else:
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


async def read_request(
    request: Request, *, max_batch_size: int
) -> GraphQLRequest | list[GraphQLRequest]:
    """The GraphQL request an HTTP request carries (query string for GET, JSON body
    for POST), a list of them for a batch, or RequestNotWellFormed."""
    if request.method == "GET":
        params = request.query_params
        return _graphql_request(
            {
                "query": params.get("query"),
                "documentId": params.get("documentId"),
                "doc_id": params.get("doc_id"),
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
        return _batch(payload, max_batch_size)
    if not isinstance(payload, dict):
        raise RequestNotWellFormed("The request body must be a JSON object, or an array of them.")
    return _graphql_request(payload)


def _batch(payload: list[Any], max_batch_size: int) -> list[GraphQLRequest]:
    """Every operation of a batch is read before any runs: one that cannot be read
    refuses the whole batch."""
    if not payload:
        raise RequestNotWellFormed("A batch must hold at least one operation.")
    if len(payload) > max_batch_size:
        raise RequestNotWellFormed(
            f"A batch may hold at most {max_batch_size} operations; this one holds "
            f"{len(payload)}. Send the rest in another request.",
            code=BATCH_LIMIT_EXCEEDED,
        )
    requests = []
    for index, params in enumerate(payload):
        try:
            if not isinstance(params, dict):
                raise RequestNotWellFormed("must be a JSON object.")
            requests.append(_graphql_request(params))
        except RequestNotWellFormed as exc:
            raise RequestNotWellFormed(
                f"Operation {index} of the batch: {exc.message}", code=exc.code
            ) from None
    return requests


def _graphql_request(params: dict[str, Any]) -> GraphQLRequest:
    query = params.get("query")
    if query is not None and not isinstance(query, str):
        raise RequestNotWellFormed("`query` must be a string.")
    document_id = _document_id(params)
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestNotWellFormed("`operationName` must be a string.")
    variables = params.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestNotWellFormed("`variables` must be a JSON object.")
    extensions = params.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestNotWellFormed("`extensions` must be a JSON object.")
    persisted = None if extensions is None else extensions.get("persistedQuery")
    if persisted is not None:
        _check_persisted_query(persisted)
    if document_id is not None and query is not None:
        raise RequestNotWellFormed("Send either `query` or `documentId`, not both.")
    if query is None and document_id is None and persisted is None:
        raise RequestNotWellFormed("No GraphQL query found in the request.")
    return GraphQLRequest(query, operation_name, variables, extensions, document_id)


def _document_id(params: dict[str, Any]) -> str | None:
    """`documentId` of the GraphQL-over-HTTP persisted documents appendix, or the
    `doc_id` Relay's persisted-queries guide sends."""
    for name in ("documentId", "doc_id"):
        value = params.get(name)
        if value is not None:
            if not isinstance(value, str) or not value:
                raise RequestNotWellFormed(f"`{name}` must be a non-empty string.")
            return value
    return None


def _check_persisted_query(persisted: Any) -> None:
    """Apollo's `extensions.persistedQuery`: version 1 and a hash."""
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise RequestNotWellFormed(
            "Unsupported persisted query version: send `extensions.persistedQuery.version` 1."
        )
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not sha256:
        raise RequestNotWellFormed(
            "`extensions.persistedQuery.sha256Hash` must be a non-empty string."
        )


def _json_param(value: str | None, name: str) -> Any:
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        raise RequestNotWellFormed(f"`{name}` must be JSON.") from None


def _wants_ide(request: Request) -> bool:
    if request.method != "GET" or any(name in request.query_params for name in _GRAPHQL_PARAMETERS):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "*/*" in accept


def _status(result: GraphQLResult, media_type: str) -> int:
    # With application/json every well-formed request is a 200; the newer media
    # type tells request errors apart by status.
    if result.executed:
        return 200
    code = (result.errors[0].extensions or {}).get("code") if result.errors else None
    if code in _ALWAYS_400:
        return 400
    if media_type == JSON:
        return 200
    return _REQUEST_ERROR_STATUS.get(str(code), 400)


def _errors(message: str, code: str = BAD_REQUEST) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


async def _send_get_answer(
    send: Send, request: Request, result: GraphQLResult, media_type: str
) -> None:
    """A GET query's answer (it ran: a 200): with an ETag, and 304 without a body
    when the client already holds it."""
    content = orjson.dumps(result.formatted())
    tag = http_caching.etag(content)
    cache_control = http_caching.CACHEABLE if not result.errors else http_caching.NOT_CACHEABLE
    headers = {"etag": tag, "cache-control": cache_control}
    if http_caching.not_modified(request.headers.get("if-none-match"), tag):
        await _start(send, 304, headers)
        await send({"type": "http.response.body", "body": b""})
        return
    await _send_content(send, 200, content, media_type, headers)


async def _send(
    send: Send,
    status: int,
    body: dict[str, Any] | list[dict[str, Any]],
    media_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    """An answer no cache may keep."""
    headers = {"cache-control": http_caching.NOT_CACHEABLE, **(headers or {})}
    await _send_content(send, status, orjson.dumps(body), media_type, headers)


async def _send_content(
    send: Send, status: int, content: bytes, media_type: str, headers: dict[str, str]
) -> None:
    await _start(
        send,
        status,
        {
            "content-type": _CONTENT_TYPES[media_type],
            "content-length": str(len(content)),
            **headers,
        },
    )
    await send({"type": "http.response.body", "body": content})


async def _start(send: Send, status: int, headers: dict[str, str]) -> None:
    raw_headers = [(name.encode(), value.encode()) for name, value in headers.items()]
    raw_headers.append((b"vary", http_caching.VARY.encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})

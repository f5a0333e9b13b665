"""The GraphQL endpoint: Strawberry's ASGI view with our context and fast JSON.

POSTed JSON queries that were seen before take the prepared path
(gateway/prepared.py); the view answers everything else.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.context import RequestContext
from gateway.credentials import Credentials
from gateway.prepared import PreparedQueries, execute_prepared
from gateway.services import Services
from gateway.upstream import request_scope


class GatewayGraphQL(GraphQL[RequestContext, None]):
    def __init__(
        self, schema: Any, *, prepared: PreparedQueries | None = None, graphql_ide: bool = True
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphql_ide else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )
        self.prepared = prepared

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.prepared is not None and _is_json_post(scope):
            request = Request(scope, receive)
            body = await request.body()
            if await self._answer_prepared(request, body, send):
                return
            receive = _replay(body, receive)
        await super().__call__(scope, receive, send)

    async def _answer_prepared(self, request: Request, body: bytes, send: Send) -> bool:
        assert self.prepared is not None
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False

        async def make_context() -> RequestContext:
            return await self.get_context(request, Response())

        answer = await execute_prepared(self.prepared, payload, make_context)
        if answer is None:
            return False
        content = orjson.dumps(answer)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(content)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})
        return True

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        services: Services = request.app.state.services
        request_scope.start(services.settings.request_deadline)
        return RequestContext(
            request=request,  # type: ignore[arg-type]
            response=response,  # type: ignore[arg-type]
            services=services,
            credentials=Credentials.from_headers(request.headers),
        )

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def _is_json_post(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type: bytes = value.split(b";", 1)[0].strip().lower()
            return media_type == b"application/json"
    return False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the view the body already read, then the client's events."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed

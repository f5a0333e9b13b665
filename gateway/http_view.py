"""The GraphQL endpoint: Strawberry's ASGI view with our context and fast JSON."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.context import RequestContext
from gateway.credentials import Credentials
from gateway.services import Services
from gateway.upstream import request_scope


class GatewayGraphQL(GraphQL[RequestContext, None]):
    def __init__(self, schema: Any, *, graphql_ide: bool = True) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphql_ide else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )

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

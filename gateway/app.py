"""The gateway as an ASGI app: /graphql (GraphiQL on GET), /healthz, /readyz, /metrics,
and the embedded sandbox under /sandbox when an upstream is not configured."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from gateway import heap
from gateway.body_limit import BodyLimitMiddleware
from gateway.execution.pipeline import build_pipeline
from gateway.graphiql import asset_routes, graphiql_page
from gateway.graphql_http import GraphQLEndpoint
from gateway.mirror.webhooks import PATH as WEBHOOK_PATH
from gateway.mirror.webhooks import Webhooks
from gateway.observability.logs import configure_logging
from gateway.observability.metrics import REGISTRY
from gateway.request_id import RequestIdMiddleware
from gateway.services import open_services
from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.sandbox.state import SandboxState

logger = logging.getLogger("gateway")

SANDBOX_PREFIX = "/sandbox"


def upstream_base_urls(settings: Settings, public_url: str | None) -> dict[str, str]:
    """Each upstream's base URL: the configured one, else the mounted sandbox's."""
    sandbox = f"{(public_url or '').rstrip('/')}{SANDBOX_PREFIX}"
    if settings.uses_sandbox and public_url is None:
        raise ValueError("the embedded sandbox needs the gateway's own URL to be reached")
    return {
        "moneybird": str(settings.moneybird_base_url or f"{sandbox}/moneybird"),
        "monite": str(settings.monite_base_url or f"{sandbox}/monite"),
    }


def create_app(
    settings: Settings | None = None,
    *,
    public_url: str | None = None,
    sandbox: SandboxState | None = None,
) -> Starlette:
    """`public_url` is where this app is served, needed only when it mounts the sandbox."""
    settings = settings if settings is not None else Settings()
    base_urls = upstream_base_urls(settings, public_url)
    routes: list[Route | Mount] = []
    if settings.uses_sandbox:
        # Imported here: the sandbox is no part of a gateway that does not mount it.
        from gateway.sandbox.app import create_sandbox_app, with_sandbox_defaults
        from gateway.sandbox.state import SandboxState

        sandbox_state = sandbox if sandbox is not None else SandboxState()
        settings = with_sandbox_defaults(settings, sandbox_state)
        routes.append(Mount(SANDBOX_PREFIX, app=create_sandbox_app(sandbox_state)))

    # Where Moneybird pushes changes: the configured public URL, or this app's own
    # when the sandbox stands in for Moneybird.
    public_base = settings.public_url or (public_url if settings.moneybird_is_sandbox else None)
    webhook_url = None if public_base is None else f"{str(public_base).rstrip('/')}{WEBHOOK_PATH}"

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for upstream, url in base_urls.items():
            logger.info("upstream %s at %s", upstream, url)
        async with open_services(
            settings,
            moneybird_base_url=base_urls["moneybird"],
            monite_base_url=base_urls["monite"],
        ) as services:
            if services.mirrors is not None and webhook_url is not None:
                services.mirrors.webhooks = Webhooks(
                    services.mirrors, services.state, url=webhook_url
                )
            app.state.services = services
            heap.settle()
            yield

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        services = getattr(request.app.state, "services", None)
        ready = services is not None and services.is_open
        return JSONResponse(
            {"status": "ready" if ready else "starting"}, status_code=200 if ready else 503
        )

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    async def moneybird_webhook(request: Request) -> Response:
        mirrors = request.app.state.services.mirrors
        if mirrors is None or mirrors.webhooks is None:
            return JSONResponse({"error": "This gateway takes no Moneybird pushes."}, 404)
        response: Response = await mirrors.webhooks.receive(request)
        return response

    async def graphiql(request: Request) -> Response:
        return graphiql_page(settings)

    graphql = GraphQLEndpoint(
        build_pipeline(settings),
        max_batch_size=settings.max_batch_size,
        ide=graphiql if settings.graphiql else None,
    )
    routes += [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route(WEBHOOK_PATH, moneybird_webhook, methods=["POST"]),
    ]
    if settings.graphiql:
        routes += asset_routes()
    middleware = [
        Middleware(RequestIdMiddleware),
        Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
    ]
    if settings.cors_origin_list:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origin_list,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=settings.cors_allow_header_list,
                # ETag for clients that revalidate GET answers themselves.
                expose_headers=["x-request-id", "etag"],
                max_age=600,
            ),
        )
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)


def create_production_app() -> Starlette:
    """The app each `gateway serve` worker process builds from the environment."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)

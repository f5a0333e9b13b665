"""What lives as long as the app: settings and one pooled HTTP client per upstream.

Opened and closed by the app lifespan; every GraphQL request borrows them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from gateway.settings import Settings
from gateway.upstream import moneybird, monite
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.http import ClientOptions, ErrorMessageReader, UpstreamHTTP, open_client


@dataclass
class Services:
    settings: Settings
    moneybird: UpstreamHTTP
    monite: UpstreamHTTP
    is_open: bool = True


def client_options(settings: Settings) -> ClientOptions:
    return ClientOptions(
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_read_timeout,
        pool_timeout=settings.upstream_pool_timeout,
        max_connections=settings.upstream_max_connections,
        transport=settings.http_transport,
    )


@asynccontextmanager
async def open_services(
    settings: Settings, *, moneybird_base_url: str, monite_base_url: str
) -> AsyncIterator[Services]:
    options = client_options(settings)

    def upstream(
        client: httpx.AsyncClient, name: str, read_error_message: ErrorMessageReader
    ) -> UpstreamHTTP:
        return UpstreamHTTP(
            client,
            name=name,
            read_error_message=read_error_message,
            concurrency=settings.upstream_concurrency,
            max_retries=settings.upstream_max_retries,
            breaker=CircuitBreaker(
                threshold=settings.breaker_threshold, cooldown=settings.breaker_cooldown
            ),
        )

    async with (
        open_client(moneybird_base_url, options) as moneybird_client,
        open_client(monite_base_url, options) as monite_client,
    ):
        services = Services(
            settings=settings,
            moneybird=upstream(moneybird_client, moneybird.UPSTREAM, moneybird.read_error_message),
            monite=upstream(monite_client, monite.UPSTREAM, monite.read_error_message),
        )
        try:
            yield services
        finally:
            services.is_open = False

"""What lives as long as the app: settings and one pooled HTTP client per upstream.

Opened and closed by the app lifespan; every GraphQL request borrows them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from gateway.settings import Settings
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.http import ClientOptions, UpstreamHTTP, open_client
from gateway.upstream.moneybird import moneybird_http
from gateway.upstream.monite import monite_http


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
        max_retries=settings.upstream_max_retries,
    )


@asynccontextmanager
async def open_services(
    settings: Settings, *, moneybird_base_url: str, monite_base_url: str
) -> AsyncIterator[Services]:
    options = client_options(settings)
    concurrency = settings.upstream_concurrency
    retries = settings.upstream_max_retries

    def breaker() -> CircuitBreaker:
        return CircuitBreaker(
            threshold=settings.breaker_threshold, cooldown=settings.breaker_cooldown
        )

    async with (
        open_client(moneybird_base_url, options) as moneybird_client,
        open_client(monite_base_url, options) as monite_client,
    ):
        services = Services(
            settings=settings,
            moneybird=moneybird_http(
                moneybird_client, concurrency=concurrency, retries=retries, breaker=breaker()
            ),
            monite=monite_http(
                monite_client, concurrency=concurrency, retries=retries, breaker=breaker()
            ),
        )
        try:
            yield services
        finally:
            services.is_open = False

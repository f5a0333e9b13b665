"""What lives as long as the app: settings, one pooled client per upstream, and
the state shared with the other processes of the gateway (call budgets, mirrors,
and with Redis the registered persisted queries).

Opened and closed by the app lifespan; every GraphQL request borrows them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from gateway.mirror.mirrors import Mirrors
from gateway.persisted_queries import SharedAPQStore
from gateway.settings import Settings
from gateway.state import KeyHasher, MemoryState, RedisConfig, State, open_state
from gateway.upstream import moneybird, monite
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.budget import CallBudget
from gateway.upstream.http import UpstreamHTTP
from gateway.upstream.reuse import ReadReuse
from gateway.upstream.statuses import ErrorMessageReader
from gateway.upstream.transport import Transport, TransportOptions, open_transport


@dataclass
class Services:
    settings: Settings
    moneybird: UpstreamHTTP
    monite: UpstreamHTTP
    # The Moneybird contact mirrors; None when GATEWAY_MONEYBIRD_MIRROR is off.
    mirrors: Mirrors | None = None
    is_open: bool = True
    # Shared by the worker processes: Moneybird's call budgets (`moneybird.budget`).
    state: State = field(default_factory=MemoryState)
    # Registered persisted queries shared by the replicas; None without Redis.
    apq_shared: SharedAPQStore | None = None


def redis_config(settings: Settings) -> RedisConfig | None:
    """Redis as GATEWAY_REDIS_URL names it, None when it is not set."""
    if settings.redis_url is None:
        return None
    return RedisConfig(
        url=settings.redis_url.get_secret_value(),
        prefix=settings.redis_prefix,
        timeout=settings.redis_timeout,
        retry_every=settings.redis_retry,
        idle_ttl=settings.redis_ttl,
        # `gateway serve` sets GATEWAY_WORKERS for its workers.
        processes=settings.replicas * (settings.workers or 1),
    )


def open_mirrors(
    settings: Settings, state: State, hasher: KeyHasher, budget: CallBudget | None
) -> Mirrors | None:
    if not settings.moneybird_mirror:
        return None
    return Mirrors(
        state,
        hasher,
        budget=budget,
        max_staleness=settings.moneybird_max_staleness,
        token_ttl=settings.moneybird_token_ttl,
        max_contacts=settings.mirror_max_contacts,
    )


def transport_options(settings: Settings) -> TransportOptions:
    return TransportOptions(
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_read_timeout,
        pool_timeout=settings.upstream_pool_timeout,
        max_connections=settings.upstream_max_connections,
    )


@asynccontextmanager
async def open_services(
    settings: Settings, *, moneybird_base_url: str, monite_base_url: str
) -> AsyncIterator[Services]:
    options = transport_options(settings)

    def upstream(
        transport: Transport,
        name: str,
        base_url: str,
        read_error_message: ErrorMessageReader,
        budget: CallBudget | None = None,
        reuse: ReadReuse | None = None,
    ) -> UpstreamHTTP:
        return UpstreamHTTP(
            transport,
            name=name,
            base_url=base_url,
            read_error_message=read_error_message,
            concurrency=settings.upstream_concurrency,
            max_retries=settings.upstream_max_retries,
            breaker=CircuitBreaker(
                threshold=settings.breaker_threshold, cooldown=settings.breaker_cooldown
            ),
            budget=budget,
            reuse=reuse,
        )

    async with (
        open_state(settings.state_path, redis=redis_config(settings)) as state,
        open_transport(settings.http_transport, options) as moneybird_transport,
        open_transport(settings.http_transport, options) as monite_transport,
    ):
        hasher = await KeyHasher.for_state(state)
        # Monite limits calls by rules of its own: its calls take no budget.
        rate = settings.moneybird_rate
        moneybird_budget = (
            None
            if rate is None
            else CallBudget(state, hasher, upstream=moneybird.UPSTREAM, rate=rate)
        )
        services = Services(
            settings=settings,
            state=state,
            moneybird=upstream(
                moneybird_transport,
                moneybird.UPSTREAM,
                moneybird_base_url,
                moneybird.read_error_message,
                moneybird_budget,
            ),
            monite=upstream(
                monite_transport,
                monite.UPSTREAM,
                monite_base_url,
                monite.read_error_message,
                reuse=ReadReuse(
                    upstream=monite.UPSTREAM,
                    # What MoniteClient sends as credentials: the token and the entity.
                    credential_headers=("authorization", "x-monite-entity-id"),
                    max_staleness=settings.monite_max_staleness,
                    max_bytes=settings.monite_reuse_bytes,
                ),
            ),
            mirrors=open_mirrors(settings, state, hasher, moneybird_budget),
            apq_shared=(
                SharedAPQStore(state, ttl=settings.redis_ttl)
                if settings.redis_url is not None
                and settings.apq
                and not settings.trusted_documents_only
                else None
            ),
        )
        try:
            yield services
        finally:
            services.is_open = False

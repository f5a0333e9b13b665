"""Settings, read once from the environment.

Every name is the environment variable an operator sets. With no upstream URL
set, `gateway serve` mounts the embedded sandbox and fills in its
administration and entity ids, so that it works on a fresh machine.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, HttpUrl, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.credentials import CREDENTIAL_HEADERS
from gateway.ids import MONEYBIRD_ID_PATTERN
from gateway.upstream.budget import Rate

# What browsers send to a GraphQL endpoint beyond the headers CORS always allows:
# the credentials, request ids and tracing (W3C Trace Context and Baggage,
# Sentry), the client identification Apollo Client sends, Apollo's CSRF
# prevention headers, and Cache-Control for a fresh read.
CORS_ALLOW_HEADERS = (
    "content-type",
    *CREDENTIAL_HEADERS,
    "x-request-id",
    "traceparent",
    "tracestate",
    "baggage",
    "sentry-trace",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollographql-library-name",
    "apollographql-library-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "cache-control",
)


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """What the gateway reads from its environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    moneybird_base_url: HttpUrl | None = Field(
        default=None,
        validation_alias=_env("MONEYBIRD_BASE_URL"),
        description="e.g. https://moneybird.com/api/v2; unset: the embedded sandbox",
    )
    monite_base_url: HttpUrl | None = Field(
        default=None,
        validation_alias=_env("MONITE_BASE_URL"),
        description="e.g. https://api.monite.com/v1; unset: the embedded sandbox",
    )
    moneybird_administration_id: str | None = Field(
        default=None,
        validation_alias=_env("MONEYBIRD_ADMINISTRATION_ID"),
        description="the administration of requests without X-Moneybird-Administration-Id",
    )
    monite_entity_id: str | None = Field(
        default=None,
        validation_alias=_env("MONITE_ENTITY_ID"),
        description="the Monite entity of requests without X-Monite-Entity-Id",
    )
    monite_version: str = Field(default="2024-01-31", validation_alias=_env("MONITE_VERSION"))

    upstream_connect_timeout: float = Field(
        default=3.0, gt=0, validation_alias=_env("GATEWAY_UPSTREAM_CONNECT_TIMEOUT")
    )
    upstream_read_timeout: float = Field(
        default=10.0, gt=0, validation_alias=_env("GATEWAY_UPSTREAM_READ_TIMEOUT")
    )
    upstream_pool_timeout: float = Field(
        default=3.0, gt=0, validation_alias=_env("GATEWAY_UPSTREAM_POOL_TIMEOUT")
    )
    upstream_max_connections: int = Field(
        default=50, ge=1, validation_alias=_env("GATEWAY_UPSTREAM_MAX_CONNECTIONS")
    )
    request_deadline: float = Field(
        default=15.0,
        gt=0,
        validation_alias=_env("GATEWAY_REQUEST_DEADLINE"),
        description="seconds one GraphQL request may spend on upstream calls, retries included",
    )
    upstream_max_retries: int = Field(
        default=2,
        ge=0,
        validation_alias=_env("GATEWAY_UPSTREAM_MAX_RETRIES"),
        description="retries of a call that is safe to repeat (reads, synchronization)",
    )
    breaker_threshold: int = Field(
        default=5,
        ge=1,
        validation_alias=_env("GATEWAY_BREAKER_THRESHOLD"),
        description="consecutive upstream failures that open the circuit",
    )
    breaker_cooldown: float = Field(
        default=10.0,
        gt=0,
        validation_alias=_env("GATEWAY_BREAKER_COOLDOWN"),
        description="seconds an open circuit fails fast before it lets a probe through",
    )
    upstream_concurrency: int = Field(
        default=20,
        ge=1,
        validation_alias=_env("GATEWAY_UPSTREAM_CONCURRENCY"),
        description="calls in flight to one upstream at once, across all requests",
    )
    moneybird_budget: str = Field(
        default="150/300",
        validation_alias=_env("GATEWAY_MONEYBIRD_BUDGET"),
        description="calls/seconds: the most Moneybird calls per token in any window of that "
        "many seconds, across all workers (Moneybird allows 150 per 5 minutes); `off` for a "
        "stand-in that does not limit calls",
    )
    monite_max_staleness: float = Field(
        default=5.0,
        ge=0,
        validation_alias=_env("GATEWAY_MONITE_MAX_STALENESS"),
        description="seconds a Monite list or get answer is reused for the same credentials; "
        "0: only reads in flight are shared",
    )
    monite_reuse_bytes: int = Field(
        default=16_000_000,
        ge=0,
        validation_alias=_env("GATEWAY_MONITE_REUSE_BYTES"),
        description="size of the Monite answers kept for reuse per process, least recently "
        "used leaving first",
    )
    state_path: Path | None = Field(
        default=None,
        validation_alias=_env("GATEWAY_STATE_PATH"),
        description="SQLite file the worker processes share call budgets in; "
        "unset: in memory, or a run directory `gateway serve` makes for several workers",
    )
    redis_url: SecretStr | None = Field(
        default=None,
        validation_alias=_env("GATEWAY_REDIS_URL"),
        description="redis:// or rediss:// URL of the Redis that replicas share budgets, "
        "mirrors and persisted queries in; unset: memory, or SQLite for the workers of a host",
    )
    redis_prefix: str = Field(
        default="gateway:",
        min_length=1,
        validation_alias=_env("GATEWAY_REDIS_PREFIX"),
        description="prefix of every key the gateway keeps in Redis",
    )
    redis_timeout: float = Field(
        default=0.25,
        gt=0,
        validation_alias=_env("GATEWAY_REDIS_TIMEOUT"),
        description="seconds a Redis command may take before the process goes on alone",
    )
    redis_retry: float = Field(
        default=1.0,
        gt=0,
        validation_alias=_env("GATEWAY_REDIS_RETRY"),
        description="seconds between attempts to reach Redis again while it cannot be reached",
    )
    redis_ttl: float = Field(
        default=604_800.0,
        gt=0,
        validation_alias=_env("GATEWAY_REDIS_TTL"),
        description="seconds a mirror's feed stays in Redis after its last change, and a "
        "registered persisted query after its registration",
    )
    replicas: int = Field(
        default=1,
        ge=1,
        validation_alias=_env("GATEWAY_REPLICAS"),
        description="gateway replicas sharing one Redis; while Redis cannot be reached, each "
        "process keeps to the call budget divided by replicas times workers",
    )
    http_transport: str = Field(
        default="aiohttp",
        pattern="^(aiohttp|httpcore)$",
        validation_alias=_env("GATEWAY_HTTP_TRANSPORT"),
        description="aiohttp (less work per call) or httpcore (httpx's own pool)",
    )
    executor: str = Field(
        default="planned",
        pattern="^(planned|graphql-core)$",
        validation_alias=_env("GATEWAY_EXECUTOR"),
        description="planned (queries the planner covers run from cached plans) or graphql-core",
    )
    max_query_depth: int = Field(default=10, ge=1, validation_alias=_env("GATEWAY_MAX_QUERY_DEPTH"))
    max_aliases: int = Field(default=30, ge=0, validation_alias=_env("GATEWAY_MAX_ALIASES"))
    max_tokens: int = Field(default=2000, ge=10, validation_alias=_env("GATEWAY_MAX_TOKENS"))
    max_body_bytes: int = Field(
        default=100_000, ge=1_000, validation_alias=_env("GATEWAY_MAX_BODY_BYTES")
    )
    max_ids: int = Field(
        default=1000,
        ge=1,
        validation_alias=_env("GATEWAY_MAX_IDS"),
        description="ids one list argument may hold (contactsByIds)",
    )
    introspection: bool = Field(default=True, validation_alias=_env("GATEWAY_INTROSPECTION"))
    graphiql: bool = Field(default=True, validation_alias=_env("GATEWAY_GRAPHIQL"))
    cors_origins: str = Field(
        default="",
        validation_alias=_env("GATEWAY_CORS_ORIGINS"),
        description="comma-separated origins allowed to call the gateway from a browser",
    )
    cors_allow_headers: str = Field(
        default=",".join(CORS_ALLOW_HEADERS),
        validation_alias=_env("GATEWAY_CORS_ALLOW_HEADERS"),
        description="comma-separated request headers a browser may send from those origins",
    )
    max_batch_size: int = Field(
        default=10,
        ge=1,
        validation_alias=_env("GATEWAY_MAX_BATCH_SIZE"),
        description="operations one batched request may hold (a JSON array of them)",
    )
    apq: bool = Field(
        default=True,
        validation_alias=_env("GATEWAY_APQ"),
        description="automatic persisted queries: keep the texts clients register by hash",
    )
    apq_cache_bytes: int = Field(
        default=10_000_000,
        ge=1_000,
        validation_alias=_env("GATEWAY_APQ_CACHE_BYTES"),
        description="size of the registered texts kept, least recently used leaving first",
    )
    persisted_documents: Path | None = Field(
        default=None,
        validation_alias=_env("GATEWAY_PERSISTED_DOCUMENTS"),
        description="manifest of trusted documents: Apollo's persisted query manifest or "
        "Relay's persisted_queries.json",
    )
    trusted_documents_only: bool = Field(
        default=False,
        validation_alias=_env("GATEWAY_TRUSTED_DOCUMENTS_ONLY"),
        description="run only the documents of the manifest; nothing else, nothing registered",
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        validation_alias=_env("GATEWAY_WORKERS"),
        description="server processes; unset: one per CPU (one on the embedded sandbox)",
    )
    moneybird_mirror: bool = Field(
        default=True,
        validation_alias=_env("GATEWAY_MONEYBIRD_MIRROR"),
        description="answer contact reads from a synchronized mirror per administration",
    )
    moneybird_max_staleness: float = Field(
        default=30.0,
        gt=0,
        validation_alias=_env("GATEWAY_MONEYBIRD_MAX_STALENESS"),
        description="seconds a mirror answers before it is brought up to date again",
    )
    moneybird_token_ttl: float = Field(
        default=300.0,
        gt=0,
        validation_alias=_env("GATEWAY_MONEYBIRD_TOKEN_TTL"),
        description="seconds a token Moneybird accepted may read the mirror before a new check",
    )
    public_url: HttpUrl | None = Field(
        default=None,
        validation_alias=_env("GATEWAY_PUBLIC_URL"),
        description="where Moneybird reaches this gateway to push changes (webhooks)",
    )
    mirror_max_contacts: int = Field(
        # Sized from the memory a mirrored contact takes (README, "Deploying").
        default=20_000,
        ge=1,
        validation_alias=_env("GATEWAY_MIRROR_MAX_CONTACTS"),
        description="contacts held in all mirrors; least recently used administrations leave first",
    )
    log_level: str = Field(default="info", validation_alias=_env("GATEWAY_LOG_LEVEL"))

    @model_validator(mode="after")
    def _trusted_documents_need_a_manifest(self) -> Settings:
        if self.trusted_documents_only and self.persisted_documents is None:
            raise ValueError(
                "GATEWAY_TRUSTED_DOCUMENTS_ONLY needs GATEWAY_PERSISTED_DOCUMENTS, the manifest"
            )
        return self

    @field_validator("moneybird_administration_id")
    @classmethod
    def _administration_id_is_numeric(cls, value: str | None) -> str | None:
        if value is not None and not MONEYBIRD_ID_PATTERN.fullmatch(value):
            raise ValueError("MONEYBIRD_ADMINISTRATION_ID must be digits only")
        return value

    @field_validator("moneybird_budget")
    @classmethod
    def _budget_is_a_rate(cls, value: str) -> str:
        if value.strip().lower() == "off":
            return "off"
        return str(Rate.parse(value))

    @property
    def moneybird_rate(self) -> Rate | None:
        """The Moneybird call budget; None when it is off."""
        return None if self.moneybird_budget == "off" else Rate.parse(self.moneybird_budget)

    @property
    def moneybird_is_sandbox(self) -> bool:
        return self.moneybird_base_url is None

    @property
    def monite_is_sandbox(self) -> bool:
        return self.monite_base_url is None

    @property
    def uses_sandbox(self) -> bool:
        return self.moneybird_is_sandbox or self.monite_is_sandbox

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def cors_allow_header_list(self) -> list[str]:
        return [h.strip().lower() for h in self.cors_allow_headers.split(",") if h.strip()]

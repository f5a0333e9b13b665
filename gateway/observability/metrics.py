"""Prometheus metrics, served at /metrics.

Endpoint labels are path templates (ids replaced by `:id`) so that their number
stays small whatever clients ask for.
"""

from __future__ import annotations

import functools
import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "gateway_requests", "GraphQL operations by outcome", ["outcome"], registry=REGISTRY
)
REQUEST_SECONDS = Histogram(
    "gateway_request_seconds",
    "GraphQL operation duration",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20),
    registry=REGISTRY,
)
UPSTREAM_CALLS = Counter(
    "gateway_upstream_calls",
    "Upstream calls by upstream, endpoint and status",
    ["upstream", "method", "endpoint", "status"],
    registry=REGISTRY,
)
UPSTREAM_RETRIES = Counter(
    "gateway_upstream_retries", "Retries of calls safe to repeat", ["upstream"], registry=REGISTRY
)
BUDGET_ADMITTED = Counter(
    "gateway_upstream_budget_admitted",
    "Upstream calls the call budget let through, at once or after a wait",
    ["upstream"],
    registry=REGISTRY,
)
BUDGET_WAITS = Counter(
    "gateway_upstream_budget_waits",
    "Upstream calls that waited for a free slot in their token's call budget",
    ["upstream"],
    registry=REGISTRY,
)
BUDGET_REFUSALS = Counter(
    "gateway_upstream_budget_refusals",
    "Upstream calls refused as RATE_LIMITED, without calling, because their token's "
    "next free slot was beyond the request's deadline",
    ["upstream"],
    registry=REGISTRY,
)
BUDGET_HOLDS = Counter(
    "gateway_upstream_budget_holds",
    "Rate-limit answers whose Retry-After now holds back every call of their token",
    ["upstream"],
    registry=REGISTRY,
)
UPSTREAM_REUSED = Counter(
    "gateway_upstream_reused",
    "Reads answered without a call of their own: joined to the same read in flight, "
    "or from an answer kept for the same credentials",
    ["upstream", "how"],
    registry=REGISTRY,
)
STATE_DEGRADED = Gauge(
    "gateway_state_degraded",
    "1 while this process cannot reach the shared state (Redis) and goes on alone",
    registry=REGISTRY,
)
STATE_FALLBACKS = Counter(
    "gateway_state_fallbacks",
    "Operations on the shared state this process answered alone, Redis being unreachable",
    registry=REGISTRY,
)
MIRROR_ADMINISTRATIONS = Gauge(
    "gateway_mirror_administrations",
    "Administrations whose Moneybird contacts this process holds a mirror of",
    registry=REGISTRY,
)
MIRROR_CONTACTS = Gauge(
    "gateway_mirror_contacts",
    "Contacts held in this process's mirrors, all administrations together "
    "(GATEWAY_MIRROR_MAX_CONTACTS bounds them)",
    registry=REGISTRY,
)
BREAKER_STATE = Gauge(
    "gateway_upstream_breaker_state",
    "Circuit breaker state: 0 closed, 1 open, 2 half-open",
    ["upstream"],
    registry=REGISTRY,
)

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NUMBER = re.compile(r"(?<=/)\d+(?=[/.]|$)")
_CUSTOMER_ID = re.compile(r"(?<=/customer_id/)[^/]+(?=\.json$)")


@functools.lru_cache(maxsize=4096)
def endpoint_template(path: str) -> str:
    """`123/contacts/456.json` -> `:id/contacts/:id.json`; cached, as every
    upstream call asks and a request's paths repeat across requests."""
    path = _UUID.sub(":id", "/" + path.lstrip("/"))
    path = _CUSTOMER_ID.sub(":id", path)
    return _NUMBER.sub(":id", path)

"""One structured log line and the request metrics for every GraphQL operation:
request id, operation name and type, the executor that ran it, the persisted
document id it named, duration, upstream calls, outcome, error codes. Never tokens."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from gateway.observability.metrics import REQUEST_SECONDS, REQUESTS
from gateway.upstream import request_scope

logger = logging.getLogger("gateway.requests")


def record_operation(
    *,
    request_id: str | None,
    operation_name: str | None,
    operation_type: str | None,
    executor: str | None,
    persisted: str | None,
    document_id: str | None,
    data: Any,
    errors: list[GraphQLError],
    duration: float,
) -> None:
    """Count the operation in the metrics and write its log line.

    `executor` is None when the request stopped before execution (a request error).
    `document_id` is the persisted document id the request named; `persisted` says
    where its text came from: "trusted" (the manifest), "apq" (registered by a
    client), or None (sent as text, or not found).
    """
    outcome = "ok" if not errors else ("partial" if data else "error")
    REQUESTS.labels(outcome).inc()
    REQUEST_SECONDS.observe(duration)
    if not logger.isEnabledFor(logging.INFO):
        return
    codes = sorted({str((error.extensions or {}).get("code", "INTERNAL")) for error in errors})
    extra: dict[str, Any] = {
        "request_id": request_id,
        "operation": operation_name,
        "operation_type": operation_type,
        "executor": executor,
        "persisted": persisted,
        "document_id": document_id,
        "duration_ms": round(duration * 1000, 2),
        "upstream_calls": request_scope.calls_made(),
        "outcome": outcome,
        "error_codes": codes,
    }
    logger.info("graphql operation", extra=extra)

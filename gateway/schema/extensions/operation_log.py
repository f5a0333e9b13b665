"""One structured log line and the request metrics for every GraphQL operation:
request id, operation name, duration, upstream calls, error codes. Never tokens."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from gateway.observability.metrics import REQUEST_SECONDS, REQUESTS
from gateway.upstream import request_scope

logger = logging.getLogger("gateway.requests")


def record_operation(
    result: Any,
    context: Any,
    operation_name: str | None,
    operation_type: str | None,
    duration: float,
) -> None:
    """Count the operation in the metrics and write its log line."""
    errors = getattr(result, "errors", None) or []
    data = getattr(result, "data", None)
    outcome = "ok" if not errors else ("partial" if data else "error")
    REQUESTS.labels(outcome).inc()
    REQUEST_SECONDS.observe(duration)
    if not logger.isEnabledFor(logging.INFO):
        return
    codes = sorted({str((error.extensions or {}).get("code", "INTERNAL")) for error in errors})
    request = getattr(context, "request", None)
    extra: dict[str, Any] = {
        "request_id": getattr(getattr(request, "state", None), "request_id", None),
        "operation": operation_name,
        "operation_type": operation_type,
        "duration_ms": round(duration * 1000, 2),
        "upstream_calls": request_scope.calls_made(),
        "outcome": outcome,
        "error_codes": codes,
    }
    logger.info("graphql operation", extra=extra)


class OperationLog(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        record_operation(
            context.result,
            context.context,
            context.operation_name,
            getattr(context.operation_type, "value", None),
            time.perf_counter() - started,
        )

"""One deadline per GraphQL request, seen by every upstream call it makes.

Set where the request starts; read where calls are made and retried. A context
variable carries it into the tasks DataLoaders start for the request.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("gateway_request_deadline", default=None)


def start(seconds: float) -> None:
    _deadline.set(time.monotonic() + seconds)


def remaining() -> float | None:
    """Seconds left for this request, never negative; None outside a request."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())

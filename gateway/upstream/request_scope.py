"""What one GraphQL request carries into every upstream call it makes: its deadline
and a count of the calls, for the request's log line.

Set where the request starts; context variables carry both into the tasks
DataLoaders start for the request.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("gateway_request_deadline", default=None)
_calls: ContextVar[list[int] | None] = ContextVar("gateway_upstream_calls", default=None)


def start(deadline_seconds: float) -> None:
    _deadline.set(time.monotonic() + deadline_seconds)
    _calls.set([0])


def remaining() -> float | None:
    """Seconds left for this request, never negative; None outside a request."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def count_call() -> None:
    calls = _calls.get()
    if calls is not None:
        calls[0] += 1


def calls_made() -> int:
    calls = _calls.get()
    return 0 if calls is None else calls[0]

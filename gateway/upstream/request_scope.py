"""What one GraphQL request carries into every upstream call it makes: its deadline
and a count of the calls, for the request's log line.

Set where the request starts; a context variable carries it into the tasks
DataLoaders start for the request.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from types import TracebackType

_scope: ContextVar[RequestScope | None] = ContextVar("gateway_request_scope", default=None)


class RequestScope:
    """The request's deadline, enforced with one timer for all its calls in flight.

    `asyncio.timeout` around each call would arm and cancel a timer per call,
    a noticeable share of a small call's cost when a page of counterparts makes
    twenty at once. Here the first call in flight arms the timer and the last
    one out cancels it. When it fires, every call still in flight is cancelled
    and raises TimeoutError, with the same bookkeeping as `asyncio.timeout`: a
    cancellation from elsewhere stays a cancellation.
    """

    __slots__ = ("_in_flight", "_loop", "_timer", "_when", "calls", "expired")

    def __init__(self, seconds: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._when = self._loop.time() + seconds
        self._in_flight: dict[asyncio.Task[object], int] = {}
        self._timer: asyncio.TimerHandle | None = None
        self.expired = False
        self.calls = 0

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._when - self._loop.time())

    def call(self) -> Call:
        """Count a call and put it under the deadline, for the `with` block of the
        call; TimeoutError at once when the deadline has passed already."""
        return Call(self, self._enter())

    def _enter(self) -> asyncio.Task[object]:
        """Count a call and put it under the deadline; pair with `_leave`."""
        self.calls += 1
        if self.expired:
            raise TimeoutError
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - upstream calls run in tasks
            raise RuntimeError("an upstream call must run in a task")
        if not self._in_flight:
            self._timer = self._loop.call_at(self._when, self._expire)
        self._in_flight[task] = task.cancelling()
        return task

    def _leave(self, task: asyncio.Task[object]) -> bool:
        """Take the call off the deadline. True when the deadline cancelled it: a
        CancelledError it raised is then the deadline's, to raise as TimeoutError."""
        cancelling = self._in_flight.pop(task)
        if not self._in_flight and self._timer is not None:
            self._timer.cancel()
            self._timer = None
        # Every call in flight when the deadline passed was cancelled by it.
        return self.expired and task.uncancel() <= cancelling

    def _expire(self) -> None:
        self._timer = None
        self.expired = True
        for task in self._in_flight:
            task.cancel()


class Call:
    """One call under its request's deadline (`RequestScope.call`): leaving the block,
    however it ends, takes the call off the deadline, and a cancellation the
    deadline made leaves it as TimeoutError."""

    __slots__ = ("_scope", "_task")

    def __init__(self, scope: RequestScope, task: asyncio.Task[object]) -> None:
        self._scope = scope
        self._task = task

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._scope._leave(self._task) and isinstance(error, asyncio.CancelledError):
            raise TimeoutError from None


def start(deadline_seconds: float) -> RequestScope:
    scope = RequestScope(deadline_seconds)
    _scope.set(scope)
    return scope


def current() -> RequestScope | None:
    """The running request's scope; None outside a request."""
    return _scope.get()


def calls_made() -> int:
    scope = _scope.get()
    return 0 if scope is None else scope.calls

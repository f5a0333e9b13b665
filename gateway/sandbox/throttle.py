"""Moneybird's rate limit: so many requests per window from one IP address, then 429.

What Moneybird documents:

- 150 requests per 5 minutes, counted per client IP address: every token and
  administration used from one address shares the quota (the gateway's own
  address, when the gateway is the client). Report endpoints have a stricter quota
  of their own; the sandbox serves none of them.
- Past the limit, 429 with the JSON string "Retry later", `RateLimit-Limit`,
  `RateLimit-Remaining`, and `RateLimit-Reset` and `Retry-After` as the epoch second
  "at which the current rate limit window resets" (the spec's tax report answer).
  The spec gives these headers on the 429 only; answers within the limit carry none.

What it does not say, and the sandbox takes from the headers: windows are fixed
and aligned to the clock (multiples of the period since the epoch), so a window
ends at `RateLimit-Reset` whenever its first request came; Moneybird's `Retry-After`
times fall on such boundaries. Every request counts, whatever its answer, 429s
included, as a throttle in front of the application counts them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from starlette.types import Scope

from gateway.sandbox.recorder import PlannedFailure

RETRY_LATER = orjson.dumps("Retry later")


@dataclass(frozen=True)
class RateLimit:
    requests: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """`150/300`: 150 requests per 300 seconds."""
        requests, separator, seconds = text.partition("/")
        if not separator:
            raise ValueError(f"{text!r} is not REQUESTS/SECONDS, e.g. 150/300")
        limit = cls(int(requests), float(seconds))
        if limit.requests < 1 or not limit.seconds > 0:
            raise ValueError(f"{text!r}: both numbers must be positive")
        return limit


class Throttle:
    """Counts requests per client address and window; answers 429 past the limit."""

    def __init__(self, limit: Callable[[], tuple[int, float] | None], clock: Callable[[], float]):
        self._limit = limit
        self._clock = clock
        self._window: int | None = None
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def check(self, scope: Scope) -> PlannedFailure | None:
        """None when the request may go on; else the 429 to answer it with."""
        limit = self._limit()
        if limit is None:
            return None
        requests, seconds = limit
        window = math.floor(self._clock() / seconds)
        address = _client_address(scope)
        with self._lock:
            if window != self._window:
                self._window = window
                self._counts.clear()
            count = self._counts[address] = self._counts.get(address, 0) + 1
        if count <= requests:
            return None
        reset = str(math.ceil((window + 1) * seconds))
        headers = {
            "RateLimit-Limit": str(requests),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": reset,
            "Retry-After": reset,
        }
        return PlannedFailure(429, RETRY_LATER, headers)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


def _client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""

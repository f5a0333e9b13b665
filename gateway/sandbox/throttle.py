"""Moneybird's rate limit: so many requests per window, then 429.

What Moneybird documents:

- 150 requests per 5 minutes (its help center), a limit for the whole platform,
  not raised on request. Report endpoints have a stricter quota of their own; the
  sandbox serves none of them. What the quota is counted per, the documents do not
  settle: the help center speaks of an API client, a third-party reading of the
  developer guide of a client IP address. The sandbox counts per token (the
  Authorization header) by default, as the gateway's call budget does, and per
  client address when asked (`per="address"`), where every token and
  administration used from one address shares one quota.
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

import hashlib
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
    """Counts requests per token (or client address) and window; answers 429 past
    the limit."""

    def __init__(
        self,
        limit: Callable[[], tuple[int, float] | None],
        clock: Callable[[], float],
        per: Callable[[], str] = lambda: "token",
    ):
        self._limit = limit
        self._clock = clock
        self._per = per
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
        counted = _client_address(scope) if self._per() == "address" else _authorization(scope)
        with self._lock:
            if window != self._window:
                self._window = window
                self._counts.clear()
            count = self._counts[counted] = self._counts.get(counted, 0) + 1
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


def _authorization(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return hashlib.sha256(value).hexdigest()
    return ""

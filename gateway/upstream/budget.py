"""One call budget per token, shared by every process of the gateway.

Moneybird allows each client a number of calls per period and answers 429
beyond it. Every call to Moneybird with a token (reads, writes, retries, the
mirror's background refreshes) first takes a slot from that token's budget,
kept in the gateway's shared state (`gateway.state`), so that the limit holds
for the gateway as a whole, whatever the number of worker processes.

What the budget guarantees: no window of the configured length holds more
admitted calls than the configured number, for one token across all the
processes sharing the state. It keeps the times of the calls it admitted
(a sliding log, not a token bucket, which would let twice the number through
a window that straddles a refill), and a call takes the earliest slot that keeps
the guarantee. A slot may lie ahead: the call waits for it when it comes early
enough in the request's deadline to leave the call time to be answered (the
caller says how long it may wait); otherwise it is refused at once with
RATE_LIMITED and `retryAfter`, and nothing is sent. Writes wait the same way
and are never held past the deadline either.

Slots are spaced a little wider than the window, because Moneybird counts calls
when they arrive: a call that waited behind the concurrency cap or the network
would otherwise land in the same window as one admitted a whole window later.

A 429 holds back every call of its token until its Retry-After (or
RateLimit-Reset) has passed, for every request and process, calls already
waiting for a slot included: the upstream has said the budget it keeps is
spent, whatever this one says.

Keys are HMACs of the token with the state's salt (`gateway.state.KeyHasher`).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from gateway.errors import RateLimited
from gateway.observability.metrics import (
    BUDGET_ADMITTED,
    BUDGET_HOLDS,
    BUDGET_REFUSALS,
    BUDGET_WAITS,
)
from gateway.state import KeyHasher, State

_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*")
# How much wider than the window slots are spaced: a share of the window, capped.
_ARRIVAL_MARGIN_SHARE = 0.02
_ARRIVAL_MARGIN_CAP = 1.0
# One slot in this many is kept for the mirror's syncs (none below this many).
_RESERVE_SHARE = 10


@dataclass(frozen=True)
class Rate:
    """`calls` per `seconds`, written `calls/seconds` (e.g. `150/300`)."""

    calls: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = _RATE.fullmatch(text)
        if match is None:
            raise ValueError(f"a call budget is written calls/seconds, e.g. 150/300; not {text!r}")
        rate = cls(int(match[1]), float(match[2]))
        if rate.calls < 1 or rate.seconds <= 0:
            raise ValueError("a call budget needs at least one call in more than zero seconds")
        return rate

    def __str__(self) -> str:
        return f"{self.calls}/{self.seconds:g}"


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token an upstream request carries in its Authorization header."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token if scheme.lower() == "bearer" else value


class CallBudget:
    """The call budget of one upstream, one key per token."""

    def __init__(
        self,
        state: State,
        hasher: KeyHasher,
        *,
        upstream: str,
        rate: Rate,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.upstream = upstream
        self.rate = rate
        # Slots only the mirror's syncs may take, so that clients' reads and writes
        # cannot spend the calls that keep a mirror within its staleness bound.
        self.reserve = rate.calls // _RESERVE_SHARE
        # The slots everyone may take: the log of the token's key holds at most these.
        self.ordinary = rate.calls - self.reserve
        # The spacing of slots (see the module docstring).
        self.window = rate.seconds + min(_ARRIVAL_MARGIN_CAP, _ARRIVAL_MARGIN_SHARE * rate.seconds)
        self._state = state
        self._hasher = hasher
        self._sleep = sleep
        self._prefix = f"budget:{upstream.lower()}:"
        self._admitted = BUDGET_ADMITTED.labels(upstream)
        self._waits = BUDGET_WAITS.labels(upstream)
        self._refusals = BUDGET_REFUSALS.labels(upstream)
        self._holds = BUDGET_HOLDS.labels(upstream)

    def _key(self, token: str) -> str:
        return self._prefix + self._hasher.key(token)

    def _reserve_key(self, token: str) -> str:
        return self._key(token) + ":reserve"

    async def acquire(self, token: str, *, max_wait: float, from_reserve: bool = False) -> None:
        """Take a slot for one call with `token`, waiting for it when it is at most
        `max_wait` seconds away; otherwise raise RateLimited, having taken nothing.
        Also RateLimited when a hold began while the call waited.

        The reserve keeps a log of its own, so that its slots are free whatever
        clients' calls have queued in theirs: at most `reserve` calls in a window
        there, at most the rest in the other, never more than the limit in all. A
        call `from_reserve` takes an ordinary slot when one is free now, else a
        reserve slot when one is free now, else waits for an ordinary slot like
        any other call: the reserve is spent only when clients have spent the rest."""
        if from_reserve and self.reserve:
            for key, limit in (
                (self._key(token), self.ordinary),
                (self._reserve_key(token), self.reserve),
            ):
                now = await self._state.admit(key, limit=limit, window=self.window, max_wait=0)
                if now.admitted:
                    self._admitted.inc()
                    return
        admission = await self._state.admit(
            self._key(token),
            limit=self.ordinary,
            window=self.window,
            max_wait=max_wait,
        )
        if not admission.admitted:
            self._refusals.inc()
            raise self._refusal(admission.delay)
        self._admitted.inc()
        if admission.delay <= 0:
            return
        self._waits.inc()
        await self._sleep(admission.delay)
        # A 429 that came while this call waited holds it back too: the slot it took
        # is left unused rather than the upstream's word ignored.
        usage = await self._state.usage(self._key(token), limit=self.ordinary, window=self.window)
        if usage.held_for > 0:
            self._refusals.inc()
            raise self._refusal(usage.held_for)

    def _refusal(self, seconds: float) -> RateLimited:
        retry_after = math.ceil(seconds * 1000) / 1000
        return RateLimited(
            f"The {self.upstream} call budget of this token is spent; "
            f"retry after {retry_after:g} seconds.",
            upstream=self.upstream,
            status=None,
            retry_after=retry_after,
        )

    async def hold(self, token: str, seconds: float) -> None:
        """No call with `token` leaves for `seconds` (the upstream's Retry-After)."""
        self._holds.inc()
        await self._state.hold(self._key(token), seconds)
        if self.reserve:
            await self._state.hold(self._reserve_key(token), seconds)

    async def remaining(self, token: str, *, from_reserve: bool = False) -> int:
        """Calls `token` could make now without waiting, the reserve's included for
        a call `from_reserve`: none while a hold lasts, and none of the ordinary
        ones while earlier calls wait for their slots. The mirror asks before a
        sync, so that a client does not wait on a sync the budget cannot pay."""
        usage = await self._state.usage(self._key(token), limit=self.ordinary, window=self.window)
        free = 0 if usage.wait > 0 else max(0, self.ordinary - usage.calls)
        if from_reserve and self.reserve:
            reserved = await self._state.usage(
                self._reserve_key(token), limit=self.reserve, window=self.window
            )
            if reserved.wait <= 0:
                free += max(0, self.reserve - reserved.calls)
        return free

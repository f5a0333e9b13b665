"""Requests to one upstream under the gateway's send policy.

`UpstreamHTTP.send` is the one way a request leaves the gateway, one concern
per step:

    send            for an upstream whose reads may be reused (Monite), a GET
                    joins the same read in flight or takes a kept answer, and
                    a write forgets what its credentials kept
                    (`gateway.upstream.reuse`)
    _send_retrying  retries a request that is safe to repeat, with jittered
                    backoff or the upstream's Retry-After, within the deadline
    _send_once      the call budget of the request's token, for an upstream
                    that has one (`gateway.upstream.budget`): each attempt
                    takes a slot, and a 429 holds the token's calls back
    _send_unbudgeted  the circuit breaker; the answer read by `statuses`
    _exchange       the concurrency cap, the request's deadline, metrics;
                    the transport's errors turned into the gateway's
    transport       bytes on the wire (`gateway.upstream.transport`)

What comes back is the parsed answer or a `gateway.errors` exception.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import orjson

from gateway.errors import RateLimited, UpstreamError, UpstreamUnavailable
from gateway.observability.metrics import (
    BREAKER_STATE,
    UPSTREAM_CALLS,
    UPSTREAM_RETRIES,
    endpoint_template,
)
from gateway.upstream import request_scope
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.budget import CallBudget, bearer_token
from gateway.upstream.statuses import ErrorMessageReader, lost_answer, read_answer
from gateway.upstream.transport import (
    AnswerTimedOut,
    ConnectionLost,
    Exchange,
    NotSent,
    Transport,
)

if TYPE_CHECKING:
    from gateway.upstream.reuse import ReadReuse

logger = logging.getLogger("gateway.upstream")

_BACKOFF_BASE = 0.1
_BACKOFF_CAP = 2.0
# A client is better served by RATE_LIMITED with retryAfter than by a request held longer.
_MAX_RETRY_WAIT = 5.0
# What a call that waited for its budget slot keeps of the request's time, to be
# answered in: a share of what is left, capped. A slot later than that is refused.
_CALL_TIME_SHARE = 0.25
_CALL_TIME_CAP = 1.0


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    method: str
    # Below the upstream's base URL, built from validated ids (`path_segment`).
    path: str
    headers: Mapping[str, str]
    # A write is never retried: sending it twice could make the change twice.
    is_write: bool
    params: Sequence[tuple[str, str]] = ()
    json: Any = None
    # A call that keeps a mirror within its staleness bound, and so may take the
    # slots of the call budget that other calls leave to it.
    from_reserve: bool = False


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    # The parsed JSON body; None for an empty answer.
    body: Any
    headers: Mapping[str, str]


def path_segment(value: str) -> str:
    """One URL path segment: nothing a client sends can add a `/`, `?`, `#` or `..`."""
    return quote(value, safe="")


def _backoff(attempt: int) -> float:
    """Full jitter: a random wait up to base x 2^attempt, so retries do not stampede."""
    return random.uniform(0, min(_BACKOFF_CAP, _BACKOFF_BASE * 2**attempt))  # noqa: S311 - jitter


class UpstreamHTTP:
    """One upstream: its pooled transport, its error format, its breaker and cap."""

    def __init__(
        self,
        transport: Transport,
        *,
        name: str,
        base_url: str,
        read_error_message: ErrorMessageReader,
        concurrency: int = 20,
        max_retries: int = 2,
        breaker: CircuitBreaker | None = None,
        budget: CallBudget | None = None,
        reuse: ReadReuse | None = None,
    ) -> None:
        self.name = name
        self.max_retries = max_retries
        self.breaker = breaker or CircuitBreaker(threshold=5, cooldown=10.0)
        self.budget = budget
        self.reuse = reuse
        self._transport = transport
        self._base_url = base_url.rstrip("/") + "/"
        self._read_error_message = read_error_message
        # Caps the calls in flight to this upstream across all GraphQL requests.
        self._slots = asyncio.Semaphore(concurrency)
        self._breaker_gauge = BREAKER_STATE.labels(name)
        self._breaker_shown = self.breaker.state.value
        self._breaker_gauge.set(self._breaker_shown)
        self._call_counters: dict[tuple[str, str, int | str], Any] = {}

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        """Send a request; one safe to repeat is retried on connection failures,
        502/503/504 and 429 within the request's deadline. Writes never are."""
        if self.reuse is None:
            return await self._send_retrying(request)
        if request.method == "GET":
            return await self.reuse.read(request, self._send_retrying)
        try:
            return await self._send_retrying(request)
        finally:
            if request.is_write:
                # Whether it landed or not: what was read before may be out of date.
                self.reuse.forget(request.headers)

    async def _send_retrying(self, request: UpstreamRequest) -> UpstreamResponse:
        attempt = 0
        while True:
            try:
                return await self._send_once(request)
            except UpstreamUnavailable as exc:
                if request.is_write or not exc.transient:
                    raise
                delay = _backoff(attempt)
                failure: UpstreamError = exc
            except RateLimited as exc:
                # Without a status, the call budget refused: no slot it could wait
                # for leaves the call time before the deadline, nor will a later one.
                if request.is_write or exc.status is None:
                    raise
                delay = exc.retry_after
                failure = exc
            attempt += 1
            scope = request_scope.current()
            budget = _MAX_RETRY_WAIT if scope is None else min(scope.remaining(), _MAX_RETRY_WAIT)
            if attempt > self.max_retries or delay >= budget:
                raise failure
            UPSTREAM_RETRIES.labels(self.name).inc()
            logger.info("retrying %s %s in %.2fs (%s)", request.method, self.name, delay, failure)
            await asyncio.sleep(delay)

    async def _send_once(self, request: UpstreamRequest) -> UpstreamResponse:
        scope = request_scope.current()
        if scope is not None and scope.remaining() <= 0:
            raise self._deadline_passed()
        if self.budget is None:
            return await self._send_unbudgeted(request, scope)
        # A slot that leaves the call time within the request's deadline; outside
        # a request, within the longest wait a retry would accept.
        token = bearer_token(request.headers)
        if scope is None:
            max_wait = _MAX_RETRY_WAIT
        else:
            remaining = scope.remaining()
            max_wait = remaining - min(_CALL_TIME_CAP, _CALL_TIME_SHARE * remaining)
        await self.budget.acquire(token, max_wait=max_wait, from_reserve=request.from_reserve)
        try:
            return await self._send_unbudgeted(request, scope)
        except RateLimited as exc:
            await self.budget.hold(token, exc.retry_after)
            raise

    async def _send_unbudgeted(
        self, request: UpstreamRequest, scope: request_scope.RequestScope | None
    ) -> UpstreamResponse:
        if not self.breaker.allow():
            raise UpstreamUnavailable(
                f"{self.name} has been failing; calls are paused for "
                f"{self.breaker.retry_in():.1f} more seconds.",
                upstream=self.name,
            )
        try:
            status, headers, content = await self._exchange(request, scope)
        except UpstreamError:
            self._record(healthy=False)
            raise
        try:
            body = read_answer(
                status,
                headers,
                content,
                upstream=self.name,
                read_error_message=self._read_error_message,
                is_write=request.is_write,
            )
        except UpstreamError as exc:
            # A refusal (4xx, 429) comes from a healthy upstream; only failures count.
            self._record(healthy=not isinstance(exc, UpstreamUnavailable))
            raise
        self._record(healthy=True)
        return UpstreamResponse(body, headers)

    async def _exchange(
        self, request: UpstreamRequest, scope: request_scope.RequestScope | None
    ) -> Exchange:
        url = self._base_url + request.path
        if request.params:
            url = f"{url}?{urlencode(request.params)}"
        headers = dict(request.headers)
        content = None
        if request.json is not None:
            content = orjson.dumps(request.json)
            headers["content-type"] = "application/json"
        headers.setdefault("accept", "application/json")
        endpoint = endpoint_template(request.path)
        try:
            exchange = await self._exchange_in_scope(request.method, url, headers, content, scope)
        except NotSent as exc:
            self._count_call(request.method, endpoint, "error")
            # Nothing was sent: safe to report as plainly unavailable, even for a write.
            raise UpstreamUnavailable(
                f"{self.name} could not be reached.", upstream=self.name, transient=True
            ) from exc
        except (AnswerTimedOut, ConnectionLost, TimeoutError) as exc:
            self._count_call(request.method, endpoint, "error")
            if isinstance(exc, AnswerTimedOut):
                what = "did not answer in time"
            elif isinstance(exc, ConnectionLost):
                what = "closed the connection before answering"
            else:
                what = "did not answer within the request's deadline"
            raise lost_answer(self.name, request.is_write, what) from exc
        self._count_call(request.method, endpoint, exchange[0])
        return exchange

    async def _exchange_in_scope(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        scope: request_scope.RequestScope | None,
    ) -> Exchange:
        """The exchange under the concurrency cap and the request's deadline; a call
        the deadline cancelled raises TimeoutError."""
        try:
            deadline = nullcontext() if scope is None else scope.call()
        except TimeoutError:
            raise self._deadline_passed() from None
        with deadline:
            async with self._slots:
                return await self._transport.exchange(method, url, headers, content)

    def _deadline_passed(self) -> UpstreamUnavailable:
        return UpstreamUnavailable(
            f"The request's deadline passed before {self.name} was called.", upstream=self.name
        )

    def _count_call(self, method: str, endpoint: str, status: int | str) -> None:
        # Looking a labelled counter up takes a lock and builds its key: done once
        # per (method, endpoint template, status), a small set.
        key = (method, endpoint, status)
        counter = self._call_counters.get(key)
        if counter is None:
            counter = UPSTREAM_CALLS.labels(self.name, method, endpoint, str(status))
            self._call_counters[key] = counter
        counter.inc()

    def _record(self, *, healthy: bool) -> None:
        if healthy:
            self.breaker.record_success()
        else:
            self.breaker.record_failure()
        state = self.breaker.state.value
        if state != self._breaker_shown:  # the gauge takes a lock: set it on changes only
            self._breaker_gauge.set(state)
            self._breaker_shown = state


def expect_object(body: Any, upstream: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise UpstreamUnavailable(f"{upstream} sent a body of the wrong shape.", upstream=upstream)
    return body


def expect_objects(body: Any, upstream: str) -> list[dict[str, Any]]:
    """The objects of a JSON list; anything else in it is skipped."""
    if not isinstance(body, list):
        raise UpstreamUnavailable(f"{upstream} sent a body of the wrong shape.", upstream=upstream)
    return [item for item in body if isinstance(item, dict)]

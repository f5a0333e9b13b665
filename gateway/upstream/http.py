"""The one place where the gateway speaks HTTP to an upstream.

`UpstreamHTTP` owns one shared `httpx.AsyncClient` (pool, timeouts, limits) and
turns every answer into parsed JSON or a `gateway.errors` exception: no httpx
exception and no raw status code leaves this module.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote, urlencode

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions

from gateway.errors import (
    OutcomeUnknown,
    RateLimited,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRejected,
    UpstreamUnauthorized,
    UpstreamUnavailable,
)
from gateway.observability.metrics import (
    BREAKER_STATE,
    UPSTREAM_CALLS,
    UPSTREAM_RETRIES,
    endpoint_template,
)
from gateway.upstream import request_scope
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.retry_after import parse_retry_after

logger = logging.getLogger("gateway.upstream")

USER_AGENT = "contacts-gateway/0.1"

# The statuses an upstream uses to refuse a request it understood; mutations turn
# them into userErrors.
_REJECTION_STATUSES = frozenset({400, 409, 422})
# Answers from a proxy or an overloaded upstream: worth another try for a safe call.
_TRANSIENT_STATUSES = frozenset({502, 503, 504})
_BACKOFF_BASE = 0.1
_BACKOFF_CAP = 2.0
# A client is better served by RATE_LIMITED with retryAfter than by a request held longer.
_MAX_RETRY_WAIT = 5.0


def _backoff(attempt: int) -> float:
    """Full jitter: a random wait up to base x 2^attempt, so retries do not stampede."""
    return random.uniform(0, min(_BACKOFF_CAP, _BACKOFF_BASE * 2**attempt))  # noqa: S311


@dataclass(frozen=True)
class ClientOptions:
    connect_timeout: float
    read_timeout: float
    pool_timeout: float
    max_connections: int
    transport: str = "aiohttp"


def open_client(base_url: str, options: ClientOptions) -> httpx.AsyncClient:
    """A pooled client for one upstream; closed by the app lifespan."""
    timeout = httpx.Timeout(
        connect=options.connect_timeout,
        read=options.read_timeout,
        write=options.read_timeout,
        pool=options.pool_timeout,
    )
    limits = httpx.Limits(
        max_connections=options.max_connections,
        max_keepalive_connections=options.max_connections,
        keepalive_expiry=30.0,
    )
    transport: httpx.AsyncBaseTransport
    if options.transport == "aiohttp":
        # httpcore's pool cost most of the gateway's CPU per request when measured;
        # the aiohttp transport keeps httpx's API with a faster pool underneath.
        transport = AiohttpTransport(limits=limits, trust_env=False)
    else:
        transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/") + "/",
        timeout=timeout,
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
    )


@dataclass(frozen=True, slots=True)
class _Answer:
    """An upstream's raw answer, read in full."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


@dataclass(frozen=True)
class UpstreamResponse:
    body: Any
    headers: Mapping[str, str]


ErrorMessageReader = Callable[[Any], str | None]


def path_segment(value: str) -> str:
    """One URL path segment: nothing a client sends can add a `/`, `?`, `#` or `..`."""
    return quote(value, safe="")


def expect_object(body: Any, upstream: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise UpstreamUnavailable(f"{upstream} sent a body of the wrong shape.", upstream=upstream)
    return body


def expect_objects(body: Any, upstream: str) -> list[dict[str, Any]]:
    """The objects of a JSON list; anything else in it is skipped."""
    if not isinstance(body, list):
        raise UpstreamUnavailable(f"{upstream} sent a body of the wrong shape.", upstream=upstream)
    return [item for item in body if isinstance(item, dict)]


class UpstreamHTTP:
    """Requests to one upstream, with that upstream's error bodies understood."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        name: str,
        read_error_message: ErrorMessageReader,
        concurrency: int = 20,
        max_retries: int = 2,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._base_url = str(client.base_url)
        self._default_headers = dict(client.headers)
        self._timeout = client.timeout.as_dict()
        self._transport = client._transport  # the pool the client owns and closes
        self._aiohttp_timeout = aiohttp.ClientTimeout(
            sock_connect=client.timeout.connect,
            sock_read=client.timeout.read,
            connect=client.timeout.pool,
        )
        self.max_retries = max_retries
        self.breaker = breaker or CircuitBreaker(threshold=5, cooldown=10.0)
        self.name = name
        self._read_error_message = read_error_message
        self._breaker_gauge = BREAKER_STATE.labels(name)
        self._breaker_shown = self.breaker.state.value
        self._breaker_gauge.set(self._breaker_shown)
        self._call_counters: dict[tuple[str, str, int | str], Any] = {}
        # Caps the calls in flight to this upstream across all GraphQL requests.
        self._slots = asyncio.Semaphore(concurrency)

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        params: Any = None,
        json: Any = None,
        is_write: bool = False,
    ) -> Any:
        """Send one request and return its parsed JSON body (None when empty)."""
        response = await self.fetch(
            method, path, headers=headers, params=params, json=json, is_write=is_write
        )
        return response.body

    async def fetch(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        params: Any = None,
        json: Any = None,
        is_write: bool = False,
    ) -> UpstreamResponse:
        """Send a request; a call safe to repeat (`is_write=False`) is retried on
        connection failures, 502/503/504 and 429, with jittered exponential backoff
        or the upstream's Retry-After, within the request's deadline. Writes never are."""
        attempt = 0
        while True:
            try:
                return await self._send_once(
                    method, path, headers=headers, params=params, json=json, is_write=is_write
                )
            except UpstreamUnavailable as exc:
                if is_write or not exc.transient:
                    raise
                delay = _backoff(attempt)
                failure: UpstreamError = exc
            except RateLimited as exc:
                if is_write:
                    raise
                delay = exc.retry_after
                failure = exc
            attempt += 1
            scope = request_scope.current()
            budget = _MAX_RETRY_WAIT if scope is None else min(scope.remaining(), _MAX_RETRY_WAIT)
            if attempt > self.max_retries or delay >= budget:
                raise failure
            UPSTREAM_RETRIES.labels(self.name).inc()
            logger.info("retrying %s %s in %.2fs (%s)", method, self.name, delay, failure.message)
            await asyncio.sleep(delay)

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        params: Any = None,
        json: Any = None,
        is_write: bool = False,
    ) -> UpstreamResponse:
        """Send one request; its parsed JSON body (None when empty) and headers.

        `path` must already be built from validated, escaped ids. A write that
        may have reached the upstream and got no answer raises OutcomeUnknown.
        """
        content = orjson.dumps(json) if json is not None else None
        request_headers = dict(headers)
        if content is not None:
            request_headers["content-type"] = "application/json"
        request_headers.setdefault("accept", "application/json")
        scope = request_scope.current()
        if scope is not None and scope.remaining() <= 0:
            raise UpstreamUnavailable(
                f"The request's deadline passed before {self.name} was called.", upstream=self.name
            )
        if not self.breaker.allow():
            raise UpstreamUnavailable(
                f"{self.name} has been failing; calls are paused for "
                f"{self.breaker.retry_in():.1f} more seconds.",
                upstream=self.name,
            )
        try:
            response = await self._send(method, path, request_headers, params, content, scope)
        except (httpx.ConnectError, httpx.PoolTimeout) as exc:
            # Nothing was sent: safe to report as plainly unavailable.
            raise UpstreamUnavailable(
                f"{self.name} could not be reached.", upstream=self.name, transient=True
            ) from exc
        except TimeoutError as exc:
            raise self._lost(is_write, "did not answer within the request's deadline") from exc
        except httpx.TimeoutException as exc:
            raise self._lost(is_write, "did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise self._lost(is_write, "closed the connection before answering") from exc
        try:
            body = self._read(response, is_write=is_write)
        except UpstreamError as exc:
            # A refusal (4xx, 429) comes from a healthy upstream; only failures count.
            self._record(healthy=not isinstance(exc, UpstreamUnavailable))
            raise
        self._record(healthy=True)
        return UpstreamResponse(body, response.headers)

    async def _send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        params: Any,
        content: bytes | None,
        scope: request_scope.RequestScope | None,
    ) -> _Answer:
        endpoint = endpoint_template(path)
        try:
            task = None if scope is None else scope.enter()
            try:
                async with self._slots:
                    response = await self._exchange(method, path, headers, params, content)
            except BaseException as exc:
                # leave() says whether the deadline cancelled the call.
                timed_out = task is not None and scope is not None and scope.leave(task)
                if timed_out and isinstance(exc, asyncio.CancelledError):
                    raise TimeoutError from None
                raise
            if task is not None and scope is not None:
                scope.leave(task)
        except Exception:
            self._count_call(method, endpoint, "error")
            self._record(healthy=False)
            raise
        self._count_call(method, endpoint, response.status_code)
        return response

    def _count_call(self, method: str, endpoint: str, status: int | str) -> None:
        # Looking a labelled counter up takes a lock and builds its key: done once
        # per (method, endpoint template, status), a small set.
        key = (method, endpoint, status)
        counter = self._call_counters.get(key)
        if counter is None:
            counter = UPSTREAM_CALLS.labels(self.name, method, endpoint, str(status))
            self._call_counters[key] = counter
        counter.inc()

    async def _exchange(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        params: Any,
        content: bytes | None,
    ) -> _Answer:
        """One request straight through the client's transport.

        The client's auth, redirect, cookie and event-hook machinery is unused here
        and cost a third of the gateway's CPU on a page of 20 counterparts (21
        calls). On the aiohttp transport the request goes to its aiohttp session
        directly: building httpx's Request, Headers and Response around each call
        cost another fifth of the CPU of a one-contact query.
        """
        url = self._base_url + path
        if params:
            url = f"{url}?{urlencode(params)}"
        headers = {**self._default_headers, **headers}
        if isinstance(self._transport, AiohttpTransport):
            return await self._exchange_aiohttp(method, url, headers, content)
        request = httpx.Request(
            method, url, headers=headers, content=content, extensions={"timeout": self._timeout}
        )
        response = await self._transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return _Answer(response.status_code, response.headers, response.content)

    async def _exchange_aiohttp(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None
    ) -> _Answer:
        transport = cast(AiohttpTransport, self._transport)
        if not isinstance(transport.client, aiohttp.ClientSession):
            transport.client = transport.get_client()
        # aiohttp's exceptions become httpx's, as the transport would raise them.
        with map_aiohttp_exceptions():
            async with transport.client.request(
                method,
                url,
                headers=headers,
                data=content,
                allow_redirects=False,
                timeout=self._aiohttp_timeout,
            ) as response:
                body = await response.read()
        return _Answer(response.status, response.headers, body)

    def _record(self, *, healthy: bool) -> None:
        if healthy:
            self.breaker.record_success()
        else:
            self.breaker.record_failure()
        state = self.breaker.state.value
        if state != self._breaker_shown:  # the gauge takes a lock: set it on changes only
            self._breaker_gauge.set(state)
            self._breaker_shown = state

    def _lost(self, is_write: bool, what: str) -> UpstreamUnavailable:
        if is_write:
            return OutcomeUnknown(
                f"{self.name} {what} after the change was sent; the outcome is unknown. "
                "Read the object again before retrying.",
                upstream=self.name,
            )
        return UpstreamUnavailable(f"{self.name} {what}.", upstream=self.name, transient=True)

    def _read(self, response: _Answer, *, is_write: bool) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return None
            try:
                return orjson.loads(response.content)
            except orjson.JSONDecodeError as exc:
                raise self._lost(is_write, "sent a body that is not JSON") from exc
        body = self._decode_error_body(response)
        message = self._read_error_message(body) or f"{self.name} answered {status}."
        if status == 401:
            raise UpstreamUnauthorized(
                f"{self.name} rejected the credentials.", upstream=self.name, status=status
            )
        if status == 403:
            raise UpstreamForbidden(
                f"{self.name} refused access: {message}", upstream=self.name, status=status
            )
        if status == 404:
            raise UpstreamNotFound(message, upstream=self.name, status=status, body=body)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise RateLimited(
                f"{self.name} is rate limiting; retry after {retry_after:g} seconds.",
                upstream=self.name,
                retry_after=retry_after,
            )
        if status in _REJECTION_STATUSES:
            raise UpstreamRejected(message, upstream=self.name, status=status, body=body)
        if status >= 500:
            if is_write and status in (502, 504):
                # A gateway in front of the upstream timed out: the write may have landed.
                raise OutcomeUnknown(
                    f"{self.name} answered {status} after the change was sent; "
                    "the outcome is unknown. Read the object again before retrying.",
                    upstream=self.name,
                    status=status,
                )
            raise UpstreamUnavailable(
                f"{self.name} is unavailable (HTTP {status}).",
                upstream=self.name,
                status=status,
                transient=status in _TRANSIENT_STATUSES,
            )
        logger.warning("unexpected status %s from %s", status, self.name)
        raise UpstreamUnavailable(
            f"{self.name} answered with unexpected status {status}.",
            upstream=self.name,
            status=status,
        )

    @staticmethod
    def _decode_error_body(response: _Answer) -> Any:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return None

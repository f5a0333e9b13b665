"""Reads that share a call: one answer for identical reads with the same credentials.

For an upstream whose reads may be reused (Monite's counterparts and their
contacts), a GET with the same credentials, path and parameters as one in
flight waits for that one's answer instead of calling; an answer is kept and
given again for `max_staleness` seconds after its call started. A write with
the same credentials drops everything kept for them and keeps the reads then
in flight from being kept, so that a read after a write always calls.

Credentials are the token and the entity together, kept only as a keyed hash
(BLAKE2b with a key drawn per process). Answers are kept as bytes and parsed
afresh for each reader, so no reader changes what another is given; the bytes
kept are bounded, the least recently used leaving first.

Per process: each worker keeps its own answers. That is enough here: the point
is the calls one process saves, and a worker that misses costs one call, which
Monite's limits allow, unlike Moneybird's.

The shared call runs in a task of its own, outside any request's deadline
(the transport's timeouts and the retry policy bound it); each reader waits for
it within its own deadline, so a request that runs out of time leaves the call
to the others. The call counts in the log line of the request that started it.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from gateway.errors import UpstreamUnavailable
from gateway.observability.metrics import UPSTREAM_REUSED
from gateway.upstream import request_scope
from gateway.upstream.http import UpstreamRequest, UpstreamResponse

# (credentials, path, parameters)
Key = tuple[str, str, tuple[tuple[str, str], ...]]
Send = Callable[[UpstreamRequest], Awaitable[UpstreamResponse]]

# Bytes counted for a kept answer beyond its body: its key, headers and bookkeeping.
_ENTRY_OVERHEAD = 512


@dataclass(slots=True)
class _Kept:
    credentials: str
    content: bytes
    headers: Mapping[str, str]
    expires: float
    size: int


@dataclass(eq=False, slots=True)
class _Call:
    credentials: str
    started: float
    task: asyncio.Task[UpstreamResponse] | None = None
    # False once a write with the same credentials ended while this call was in flight.
    keep: bool = True
    joined: int = 0
    # The answer as bytes, for readers who joined; made once, when the call ends.
    content: bytes | None = field(default=None, repr=False)


class ReadReuse:
    def __init__(
        self,
        *,
        upstream: str,
        credential_headers: Sequence[str],
        max_staleness: float,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.upstream = upstream
        self._credential_headers = tuple(credential_headers)
        self._max_staleness = max_staleness
        self._max_bytes = max_bytes
        self._clock = clock
        self._secret = secrets.token_bytes(32)
        self._in_flight: dict[Key, _Call] = {}
        self._kept: OrderedDict[Key, _Kept] = OrderedDict()
        self._kept_by_credentials: dict[str, set[Key]] = {}
        self._kept_bytes = 0
        self._joined_metric = UPSTREAM_REUSED.labels(upstream, "in_flight")
        self._kept_metric = UPSTREAM_REUSED.labels(upstream, "kept")

    @property
    def kept_bytes(self) -> int:
        return self._kept_bytes

    def credentials(self, headers: Mapping[str, str]) -> str:
        digest = hashlib.blake2b(key=self._secret, digest_size=16)
        for name in self._credential_headers:
            value = headers.get(name, "").encode()
            digest.update(len(value).to_bytes(4, "big") + value)
        return digest.hexdigest()

    async def read(self, request: UpstreamRequest, send: Send) -> UpstreamResponse:
        """The answer to a read: kept, joined to the same read in flight, or sent."""
        credentials = self.credentials(request.headers)
        key: Key = (credentials, request.path, tuple(request.params))
        now = self._clock()
        kept = self._kept.get(key)
        if kept is not None:
            if kept.expires > now:
                self._kept.move_to_end(key)
                self._kept_metric.inc()
                return UpstreamResponse(orjson.loads(kept.content), kept.headers)
            self._drop(key)
        call = self._in_flight.get(key)
        if call is not None:
            call.joined += 1
            self._joined_metric.inc()
            return await self._join(call)
        call = _Call(credentials, started=now)
        # An empty context: the call is no request's, and no request's deadline cancels it.
        call.task = asyncio.create_task(
            self._call(key, call, request, send), context=contextvars.Context()
        )
        call.task.add_done_callback(_retrieve)
        self._in_flight[key] = call
        return await self._lead(call.task)

    def forget(self, headers: Mapping[str, str]) -> None:
        """A write with these credentials ended: nothing read before it is given again."""
        credentials = self.credentials(headers)
        for key in self._kept_by_credentials.get(credentials, set()).copy():
            self._drop(key)
        for key, call in list(self._in_flight.items()):
            if call.credentials == credentials:
                call.keep = False
                del self._in_flight[key]

    async def _call(
        self, key: Key, call: _Call, request: UpstreamRequest, send: Send
    ) -> UpstreamResponse:
        try:
            response = await send(request)
        finally:
            if self._in_flight.get(key) is call:
                del self._in_flight[key]
        keep = call.keep and self._max_staleness > 0
        if keep or call.joined:
            call.content = orjson.dumps(response.body)
        if keep and call.content is not None:
            self._keep(key, call, call.content, response.headers)
        return response

    async def _lead(self, task: asyncio.Task[UpstreamResponse]) -> UpstreamResponse:
        """Wait for the call this request started; it counts as this request's call."""
        scope = request_scope.current()
        if scope is None:
            return await asyncio.shield(task)
        try:
            with scope.call():
                return await asyncio.shield(task)
        except TimeoutError:
            # The deadline had passed, or passed while the call ran: the call itself
            # raises no TimeoutError (the transport's timeouts are the gateway's errors).
            raise self._deadline_passed() from None

    async def _join(self, call: _Call) -> UpstreamResponse:
        """Wait for a call another read started, within this request's deadline."""
        task = call.task
        if task is None:  # pragma: no cover - set before the call is in flight
            raise RuntimeError("a call in flight has its task")
        scope = request_scope.current()
        try:
            if scope is None:
                response = await asyncio.shield(task)
            else:
                response = await asyncio.wait_for(asyncio.shield(task), scope.remaining())
        except TimeoutError:
            raise self._deadline_passed() from None
        content = call.content
        if content is None:  # pragma: no cover - made whenever a reader joined
            return response
        return UpstreamResponse(orjson.loads(content), response.headers)

    def _keep(self, key: Key, call: _Call, content: bytes, headers: Mapping[str, str]) -> None:
        size = len(content) + _ENTRY_OVERHEAD
        if size > self._max_bytes:
            return
        self._drop(key)
        self._kept[key] = _Kept(
            call.credentials, content, headers, call.started + self._max_staleness, size
        )
        self._kept_by_credentials.setdefault(call.credentials, set()).add(key)
        self._kept_bytes += size
        while self._kept_bytes > self._max_bytes:
            self._drop(next(iter(self._kept)))

    def _drop(self, key: Key) -> None:
        kept = self._kept.pop(key, None)
        if kept is None:
            return
        self._kept_bytes -= kept.size
        keys = self._kept_by_credentials.get(kept.credentials)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._kept_by_credentials[kept.credentials]

    def _deadline_passed(self) -> UpstreamUnavailable:
        return UpstreamUnavailable(
            f"{self.upstream} did not answer within the request's deadline.",
            upstream=self.upstream,
            transient=True,
        )


def _retrieve(task: asyncio.Task[UpstreamResponse]) -> None:
    """A call whose readers all gave up still ends; its error is theirs, not the loop's."""
    if not task.cancelled():
        task.exception()

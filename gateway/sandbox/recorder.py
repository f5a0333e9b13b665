"""The sandbox's request log, rate limit and fault injection, as one ASGI middleware."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class RecordedRequest:
    upstream: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    status: int | None = None
    # Epoch seconds at which the request arrived, as an upstream counts it against a
    # rate limit; the log itself is in the order the answers were given.
    received_at: float = 0.0

    def json(self) -> dict[str, Any]:
        return {
            "upstream": self.upstream,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "status": self.status,
            "received_at": self.received_at,
        }


@dataclass
class PlannedFailure:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FaultRule:
    """A fault for every request whose `METHOD path?query body` matches `pattern`.

    `fail_next` hands failures to whichever requests come next, which with
    concurrent calls depends on timing. A rule keys the fault on what a request
    asks for (an id in its path, query or body; an endpoint), so the same
    requests fail however calls interleave. The delay ends early when the client
    hangs up (its timeout, or its caller cancelling the call), as a real upstream
    would go on working for nobody: the request is then logged without a status.
    A long delay is thus an upstream that does not answer.
    """

    pattern: re.Pattern[str]
    # None: answer normally, after the delay.
    status: int | None
    delay: float
    body: bytes
    headers: dict[str, str]


@dataclass
class Faults:
    """What the sandbox does to requests before answering them, per upstream."""

    latency: float = 0.0
    planned: deque[PlannedFailure] = field(default_factory=deque)
    rules: list[FaultRule] = field(default_factory=list)

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = body if body is not None else {"error": "Service Unavailable"}
        raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        for _ in range(count):
            self.planned.append(PlannedFailure(status, raw, dict(headers or {})))

    def add_rule(
        self,
        pattern: str,
        *,
        status: int | None = None,
        delay: float = 0.0,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> FaultRule:
        """Delay, or fail with `status`, every request matching `pattern` (a regular
        expression searched in `METHOD path?query body`); the first rule added wins."""
        payload = body if body is not None else {"error": "Service Unavailable"}
        raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        rule = FaultRule(re.compile(pattern), status, delay, raw, dict(headers or {}))
        self.rules.append(rule)
        return rule

    def rule_for(self, request_text: str) -> FaultRule | None:
        return next((rule for rule in self.rules if rule.pattern.search(request_text)), None)

    def clear(self) -> None:
        self.latency = 0.0
        self.planned.clear()
        self.rules.clear()


class RequestLog:
    """Every request the sandbox received, in order; safe to read from another thread."""

    def __init__(self, limit: int = 10_000) -> None:
        self._entries: deque[RecordedRequest] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._in_flight = 0

    def begin(self) -> None:
        """A request arrived; it is logged when answered (or given up on)."""
        with self._lock:
            self._in_flight += 1

    def append(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def end(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._settled.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is in flight: the log then holds every request that
        arrived. False when `timeout` seconds passed first."""
        with self._lock:
            return self._settled.wait_for(lambda: self._in_flight == 0, timeout)

    def entries(self, upstream: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [e for e in self._entries if upstream is None or e.upstream == upstream]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# Decides, before any fault, whether the upstream refuses a request (its rate limit):
# None lets it through.
Gate = Callable[[Scope], PlannedFailure | None]


class Recorder:
    """Logs each request to one upstream and applies that upstream's gate and faults."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        upstream: str,
        log: RequestLog,
        faults: Faults,
        gate: Gate | None = None,
    ) -> None:
        self.app = app
        self.upstream = upstream
        self.log = log
        self.faults = faults
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.log.begin()
        try:
            await self._handle(scope, receive, send)
        finally:
            self.log.end()

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        received_at = time.time()
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        status_seen: list[int] = []

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_seen.append(message["status"])
            await send(message)

        method: str = scope["method"]
        path = _relative_path(scope)
        query = scope.get("query_string", b"").decode("latin-1")
        rule = (
            self.faults.rule_for(f"{method} {path}?{query} {body.decode('utf-8', 'replace')}")
            if self.faults.rules
            else None
        )
        refusal = self.gate(scope) if self.gate is not None else None
        if self.faults.latency > 0:
            await asyncio.sleep(self.faults.latency)
        if refusal is not None:
            await self._answer(capture, refusal)
        elif rule is not None and rule.delay > 0 and await _hangs_up_within(rule.delay, receive):
            pass  # nobody to answer
        elif self.faults.planned:
            await self._answer(capture, self.faults.planned.popleft())
        elif rule is not None and rule.status is not None:
            await self._answer(capture, PlannedFailure(rule.status, rule.body, rule.headers))
        else:
            await self.app(scope, replay, capture)
        self.log.append(
            RecordedRequest(
                upstream=self.upstream,
                method=method,
                path=path,
                query=query,
                headers=headers,
                body=_parse(body),
                status=status_seen[0] if status_seen else None,
                received_at=received_at,
            )
        )

    @staticmethod
    async def _answer(send: Send, failure: PlannedFailure) -> None:
        headers = [(b"content-type", b"application/json")]
        headers += [(k.lower().encode(), v.encode()) for k, v in failure.headers.items()]
        headers.append((b"content-length", str(len(failure.body)).encode()))
        await send({"type": "http.response.start", "status": failure.status, "headers": headers})
        await send({"type": "http.response.body", "body": failure.body})


async def _hangs_up_within(seconds: float, receive: Receive) -> bool:
    """Wait `seconds` for the client to disconnect (the request body is already read,
    so the server's next message is the disconnect); True when it did."""
    try:
        async with asyncio.timeout(seconds):
            while (await receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        return False
    return True


def _relative_path(scope: Scope) -> str:
    """The path below the upstream's base URL, as it came on the wire (still escaped)."""
    root: str = scope.get("root_path", "")
    raw: bytes | None = scope.get("raw_path")
    path: str = raw.decode("latin-1") if raw else scope["path"]
    return path[len(root) :] if root and path.startswith(root) else path


def _parse(body: bytes) -> Any:
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace")

"""A webhook receiver for tests: records every request it gets, answers as told.

It checks signatures with its own code, written from Moneybird's documentation,
not with the sandbox's.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def signed(self) -> bool:
        return "moneybird-signature" in self.headers

    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def key(self) -> str:
        return self.headers["idempotency-key"]


def signature_parts(header: str) -> tuple[int, list[str]]:
    """`t` and every `v1` of a Moneybird-Signature header; other schemes are ignored."""
    timestamp = None
    digests = []
    for part in header.split(","):
        name, _, value = part.partition("=")
        if name == "t":
            timestamp = int(value)
        elif name == "v1":
            digests.append(value)
    assert timestamp is not None, header
    return timestamp, digests


def verifies(received: Received, secret: str, tolerance: float = 300) -> bool:
    """Moneybird's verification: HMAC-SHA256 over "{t}.{raw body}", any v1 matching,
    `t` within five minutes."""
    timestamp, digests = signature_parts(received.headers["moneybird-signature"])
    expected = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + received.body, hashlib.sha256
    ).hexdigest()
    fresh = abs(time.time() - timestamp) <= tolerance
    return fresh and any(hmac.compare_digest(expected, digest) for digest in digests)


class Receiver:
    """An ASGI app; `answer(path, 500, 503)` makes the next requests to `path` get those
    statuses, then 200."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._received: list[Received] = []
        self._answers: dict[str, deque[int]] = {}

    def answer(self, path: str, *statuses: int, always: int | None = None) -> None:
        with self._lock:
            self._answers[path] = deque(statuses)
            if always is not None:
                self._answers[path] = _Always(always)

    def received(self, path: str, *, signed_only: bool = True) -> list[Received]:
        with self._lock:
            return [r for r in self._received if r.path == path and (r.signed or not signed_only)]

    def wait_for(
        self,
        path: str,
        count: int,
        timeout: float = 10.0,
        when: Callable[[list[Received]], bool] | None = None,
    ) -> list[Received]:
        """The signed requests to `path` once there are `count` (and `when` holds)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.received(path)
            if len(got) >= count and (when is None or when(got)):
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(got)} of {count} requests to {path}: {got}")
            time.sleep(0.01)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path: str = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with self._lock:
            self._received.append(Received(path, headers, body, time.time()))
            answers = self._answers.get(path)
            status = answers.popleft() if answers else 200
        reply = b"ok" if status == 200 else f"refused with {status}".encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": reply})


class _Always(deque[int]):
    """An endless supply of one status."""

    def __init__(self, status: int) -> None:
        super().__init__([status])
        self.status = status

    def popleft(self) -> int:
        return self.status

"""Moneybird's webhooks in the sandbox: the registered webhooks, and the pushes that
tell them about changes.

As Moneybird documents it (developer.moneybird.com, Webhooks):

- A push is a POST of a JSON payload (`administration_id`, `webhook_id`,
  `webhook_token`, `entity_type`, `entity_id`, `state`, `action`, `entity`) to the
  webhook's URL, to every webhook of the administration subscribed to the event;
  `enabled_events` empty means every event.
- `Moneybird-Signature: t=<epoch>,v1=<hex>`: HMAC-SHA256, keyed with the webhook's
  signing secret, of `"{t}.{raw body}"`; one `v1` per active secret while a secret
  is being rotated. `t` is the time of each delivery attempt.
- `Idempotency-Key`: unique per push, the same on each retry of it.
- The receiver must answer 200. Any other answer, or none, is retried 10 times at
  growing intervals. After each attempt the webhook stores the status and body it
  got back (`last_http_status`, `last_http_body`).
- A deactivated webhook gets no new pushes; retries of pushes already made go on.

Where the documentation says nothing, the sandbox chooses, and says so here:

- Pushes to one webhook go out one at a time, in the order of the changes: a push
  being retried holds back the later ones.
- Retry n waits n times `retry_interval` (60 s by default; tests make it short).
- Every contact event carries the contact (`entity_type` "Contact", `state` null),
  as the API returns it right after the change; notes and contact people are part
  of it. Ids in the payload's envelope are strings.
- An event group is an event name's prefix: `contact` stands for `contact_created`,
  `contact_person_updated` and the rest.

Pushes run on the event loop of the sandbox's server, in tasks of their own, with
an aiohttp client: never inside the request that made the change, which answers
first (see `Outbox`), and never waiting on that server, so a webhook pointing at the
sandbox's own process is answered too. The request log holds what the sandbox
receives; pushes are listed by `Webhooks.deliveries`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import secrets
import string
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.sandbox import seed

MAX_RETRIES = 10
# Seconds a receiver has to answer a push, or the registration check.
RECEIVER_TIMEOUT = 10.0
_TOKEN_ALPHABET = string.ascii_letters + string.digits


def signature(secrets_in_use: Iterable[str], timestamp: int, body: bytes) -> str:
    """The `Moneybird-Signature` value: `t=...` and a `v1=...` per secret."""
    signed = f"{timestamp}.".encode() + body
    digests = (hmac.new(key.encode(), signed, hashlib.sha256).hexdigest() for key in secrets_in_use)
    return ",".join([f"t={timestamp}", *(f"v1={digest}" for digest in digests)])


def new_token() -> str:
    """A webhook's `token` (the legacy shared secret sent as `webhook_token`)."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(24))


@dataclass
class Webhook:
    id: str
    administration_id: str
    url: str
    enabled_events: list[str]
    token: str
    # Signing secrets in use, oldest first: more than one while a secret is rotated.
    secrets: list[str]
    last_http_status: int | None = None
    last_http_body: str | None = None
    deactivated_at: str | None = None

    @property
    def active(self) -> bool:
        return self.deactivated_at is None

    def wants(self, action: str) -> bool:
        return not self.enabled_events or any(
            action == event or action.startswith(f"{event}_") for event in self.enabled_events
        )

    def json(self, *, with_secret: bool = False) -> dict[str, Any]:
        """Moneybird's webhook_response; the secret only in the answer to its creation."""
        body: dict[str, Any] = {
            "id": self.id,
            "administration_id": int(self.administration_id),
            "url": self.url,
            "enabled_events": list(self.enabled_events),
            "last_http_status": self.last_http_status,
            "last_http_body": self.last_http_body,
            "token": self.token,
        }
        if with_secret:
            body["secret"] = self.secrets[-1]
        body["deactivated_at"] = self.deactivated_at
        return body


@dataclass(frozen=True)
class Attempt:
    at: float
    status: int | None
    error: str | None


@dataclass
class Push:
    """One event for one webhook, delivered once or retried until it gives up."""

    id: int
    webhook_id: str
    url: str
    action: str
    entity_type: str
    entity_id: str
    version: int | None
    idempotency_key: str
    body: bytes
    created_at: float
    # pending, delivered, failed (retries used up), dropped (deleted, or the drop control)
    state: str = "pending"
    attempts: list[Attempt] = field(default_factory=list)
    delivered_at: float | None = None

    def json(self) -> dict[str, Any]:
        last = self.attempts[-1] if self.attempts else None
        return {
            "id": self.id,
            "webhook_id": self.webhook_id,
            "url": self.url,
            "event": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "version": self.version,
            "idempotency_key": self.idempotency_key,
            "state": self.state,
            "attempts": len(self.attempts),
            "last_status": None if last is None else last.status,
            "last_error": None if last is None else last.error,
            "created_at": self.created_at,
            "attempted_at": [attempt.at for attempt in self.attempts],
            "delivered_at": self.delivered_at,
        }


# The pushes a request's changes made, held until its answer has been sent.
_OUTBOX: ContextVar[list[Push] | None] = ContextVar("sandbox_webhook_outbox", default=None)


class Webhooks:
    """The registered webhooks of the sandbox's Moneybird, and their pushes.

    Requests change it on the server's event loop; tests read and reset it from their
    own thread. Shared data is read and changed under one lock, and asyncio objects
    only on the loop (`_on_loop`)."""

    def __init__(self, retry_interval: Callable[[], float], history: int = 10_000) -> None:
        self._retry_interval = retry_interval
        self._lock = threading.Lock()
        self._hooks: dict[str, Webhook] = {}
        self._pushes: deque[Push] = deque(maxlen=history)
        self._queues: dict[str, deque[Push]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._push_ids = itertools.count(1)
        # A reset ends the work of an earlier generation, whatever it is waiting on.
        self._generation = 0
        self._paused = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._resumed: asyncio.Event | None = None

    # -- the webhooks API -----------------------------------------------------

    def create(
        self, webhook_id: str, administration_id: str, url: str, enabled_events: list[str]
    ) -> Webhook:
        hook = Webhook(
            id=webhook_id,
            administration_id=administration_id,
            url=url,
            enabled_events=enabled_events,
            token=new_token(),
            secrets=[secrets.token_hex(32)],
        )
        with self._lock:
            self._hooks[webhook_id] = hook
        return hook

    def of(self, administration_id: str) -> list[Webhook]:
        with self._lock:
            return [h for h in self._hooks.values() if h.administration_id == administration_id]

    def get(self, administration_id: str, webhook_id: str) -> Webhook | None:
        with self._lock:
            hook = self._hooks.get(webhook_id)
        return hook if hook is not None and hook.administration_id == administration_id else None

    def delete(self, webhook_id: str) -> None:
        with self._lock:
            self._hooks.pop(webhook_id, None)
            self._drop(self._queues.pop(webhook_id, ()))

    def deactivate(self, hook: Webhook) -> None:
        if hook.deactivated_at is None:
            hook.deactivated_at = seed.now_stamp()

    def activate(self, hook: Webhook) -> None:
        hook.deactivated_at = None

    def rotate_secret(self, hook: Webhook) -> str:
        """A new signing secret, used beside the old ones until `end_rotation`."""
        new = secrets.token_hex(32)
        with self._lock:
            hook.secrets = [*hook.secrets, new]
        return new

    def end_rotation(self, hook: Webhook) -> None:
        with self._lock:
            hook.secrets = hook.secrets[-1:]

    # -- pushes -----------------------------------------------------------------

    def publish(self, administration_id: str, action: str, contact: dict[str, Any]) -> None:
        """Push `action` on `contact`, as it is now, to every active webhook that wants it."""
        with self._lock:
            hooks = [
                h
                for h in self._hooks.values()
                if h.administration_id == administration_id and h.active and h.wants(action)
            ]
            pushes = [self._push_for(hook, action, contact) for hook in hooks]
            self._pushes.extend(pushes)
        if not pushes:
            return
        outbox = _OUTBOX.get()
        if outbox is not None:
            outbox.extend(pushes)
        else:
            self.release(pushes)

    def _push_for(self, hook: Webhook, action: str, contact: dict[str, Any]) -> Push:
        payload = {
            "administration_id": hook.administration_id,
            "webhook_id": hook.id,
            "webhook_token": hook.token,
            "entity_type": "Contact",
            "entity_id": contact["id"],
            "state": None,
            "action": action,
            "entity": contact,
        }
        return Push(
            id=next(self._push_ids),
            webhook_id=hook.id,
            url=hook.url,
            action=action,
            entity_type="Contact",
            entity_id=contact["id"],
            version=contact.get("version"),
            idempotency_key=str(uuid.uuid4()),
            body=orjson.dumps(payload),
            created_at=time.time(),
        )

    def release(self, pushes: list[Push]) -> None:
        """Queue `pushes` for delivery, on the server's loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            if self._loop is None:
                raise RuntimeError("no event loop to deliver webhook pushes on") from None
            self._loop.call_soon_threadsafe(self._enqueue, pushes)
            return
        self._enqueue(pushes)

    def _enqueue(self, pushes: list[Push]) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._resumed = asyncio.Event()
            if not self._paused:
                self._resumed.set()
        with self._lock:
            for push in pushes:
                if push.state != "pending" or push.webhook_id not in self._hooks:
                    continue
                self._queues.setdefault(push.webhook_id, deque()).append(push)
                if push.webhook_id not in self._workers:
                    self._workers[push.webhook_id] = loop.create_task(
                        self._work(push.webhook_id, self._generation)
                    )

    async def _work(self, webhook_id: str, generation: int) -> None:
        """Deliver a webhook's pushes in order, until its queue is empty."""
        timeout = aiohttp.ClientTimeout(total=RECEIVER_TIMEOUT)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                while True:
                    with self._lock:
                        queue = self._queues.get(webhook_id)
                        if generation != self._generation or not queue:
                            self._forget_worker(webhook_id)
                            return
                        push = queue[0]
                    await self._deliver(session, push, generation)
                    with self._lock:
                        if queue and queue[0] is push:
                            queue.popleft()
        finally:
            with self._lock:
                self._forget_worker(webhook_id)

    def _forget_worker(self, webhook_id: str) -> None:
        if self._workers.get(webhook_id) is asyncio.current_task():
            del self._workers[webhook_id]

    async def _deliver(self, session: aiohttp.ClientSession, push: Push, generation: int) -> None:
        for attempt in range(MAX_RETRIES + 1):
            if attempt:
                await asyncio.sleep(self._retry_interval() * attempt)
            if self._resumed is not None:
                await self._resumed.wait()
            if generation != self._generation or push.state != "pending":
                return
            status, body, error = await self._post(session, push)
            with self._lock:
                push.attempts.append(Attempt(time.time(), status, error))
                hook = self._hooks.get(push.webhook_id)
                if hook is not None:
                    hook.last_http_status = status
                    hook.last_http_body = body
                if status == 200:
                    push.state = "delivered"
                    push.delivered_at = push.attempts[-1].at
                    return
        with self._lock:
            if push.state == "pending":
                push.state = "failed"

    async def _post(
        self, session: aiohttp.ClientSession, push: Push
    ) -> tuple[int | None, str | None, str | None]:
        with self._lock:
            hook = self._hooks.get(push.webhook_id)
            keys = list(hook.secrets) if hook is not None else []
        headers = {
            "Content-Type": "application/json",
            "Moneybird-Signature": signature(keys, int(time.time()), push.body),
            "Idempotency-Key": push.idempotency_key,
        }
        try:
            async with session.post(push.url, data=push.body, headers=headers) as response:
                return response.status, await response.text(errors="replace"), None
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return None, None, f"{type(exc).__name__}: {exc}"

    # -- controls ---------------------------------------------------------------

    def deliveries(self, webhook_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [p.json() for p in self._pushes if webhook_id in (None, p.webhook_id)]

    def forget_finished(self) -> None:
        """Empty the list of deliveries, but for the pushes still to go out."""
        with self._lock:
            pending = [p for p in self._pushes if p.state == "pending"]
            self._pushes.clear()
            self._pushes.extend(pending)

    def pause(self) -> None:
        """Hold every push (a late webhook) until `resume`."""
        self._paused = True
        self._on_loop(lambda: self._resumed.clear() if self._resumed else None)

    def resume(self) -> None:
        self._paused = False
        self._on_loop(lambda: self._resumed.set() if self._resumed else None)

    @property
    def paused(self) -> bool:
        return self._paused

    def drop_pending(self) -> int:
        """Give up every push not delivered yet (lost webhooks); how many there were."""
        with self._lock:
            dropped = [p for p in self._pushes if p.state == "pending"]
            for queue in self._queues.values():
                queue.clear()
            self._drop(dropped)
        return len(dropped)

    @staticmethod
    def _drop(pushes: Iterable[Push]) -> None:
        for push in pushes:
            if push.state == "pending":
                push.state = "dropped"

    def reset(self) -> None:
        """No webhooks, no pushes, not paused; work under way stops."""
        with self._lock:
            self._generation += 1
            self._hooks.clear()
            self._drop(self._pushes)
            self._pushes.clear()
            self._queues.clear()
            workers = list(self._workers.values())
            self._workers.clear()
        self._paused = False

        def stop() -> None:
            for task in workers:
                task.cancel()
            if self._resumed is not None:
                self._resumed.set()

        self._on_loop(stop)

    async def aclose(self) -> None:
        """Stop delivering, for the server's shutdown."""
        with self._lock:
            self._generation += 1
            workers = list(self._workers.values())
            self._workers.clear()
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _on_loop(self, action: Callable[[], object]) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            action()
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing to stop
                loop.call_soon_threadsafe(action)


class Outbox:
    """Holds the pushes a request's changes make until its answer is sent, then queues
    them: a receiver never hears of a change before the client that made it."""

    def __init__(self, app: ASGIApp, webhooks: Webhooks) -> None:
        self.app = app
        self.webhooks = webhooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pushes: list[Push] = []
        token = _OUTBOX.set(pushes)
        try:
            await self.app(scope, receive, send)
        finally:
            _OUTBOX.reset(token)
            if pushes:
                self.webhooks.release(pushes)


async def answers_200(url: str) -> bool:
    """Moneybird's check on registration: does `url` answer 200? Moneybird does not say
    how it asks; the sandbox POSTs to it without a payload or a signature."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=RECEIVER_TIMEOUT)) as session,
            session.post(url, data=b"") as response,
        ):
            await response.read()
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False

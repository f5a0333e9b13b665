"""Moneybird's webhooks, which push each change to a mirror as it happens.

With a public URL configured (GATEWAY_PUBLIC_URL, or the gateway's own URL when
it mounts the sandbox), the first sync of an administration registers a webhook
for the contact events at `{public URL}/webhooks/moneybird`. Moneybird gives
the webhook's signing secret only in the answer to its creation, so a webhook
of ours whose secret is not known (one made before a restart) is deleted and
made again.

The registration (the webhook's id, secret and token) is kept in the gateway's
coordination state, so that one worker registers it and every worker verifies
the pushes that reach it.

A push is applied only when it proves it comes from Moneybird: the
`Moneybird-Signature` header (`t=<epoch>,v1=<hex>`, HMAC-SHA256 of "{t}.{raw
body}" with the signing secret; any one `v1` may match, as during a rotation of
the secret) with `t` within five minutes of now; or, for a push without that
header, the webhook's own token in `webhook_token`, Moneybird's older scheme.
Anything else is refused with 401 and changes nothing. A push applies the
contact it carries only when it is not older than the one held, so pushes that
come twice or out of order are harmless; an `Idempotency-Key` seen before is
answered without being applied again.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.ids import upstream_key
from gateway.mirror.mirrors import Mirrors
from gateway.state import State
from gateway.upstream.moneybird import MoneybirdClient

logger = logging.getLogger("gateway.mirror")

PATH = "/webhooks/moneybird"
# The events that change a contact, embedded notes and people included.
CONTACT_EVENTS = (
    "contact_created",
    "contact_changed",
    "contact_archived",
    "contact_destroyed",
    "note_created",
    "note_destroyed",
    "contact_person_created",
    "contact_person_updated",
    "contact_person_destroyed",
)
DELETED = "contact_destroyed"
# Moneybird's window for a push's timestamp, against replays.
MAX_SKEW = 300.0
_SEEN_KEYS = 10_000
# A registration that failed is tried again after this many seconds, not on every request.
_RETRY_REGISTRATION = 300.0
# How long one worker may take to register before another may try.
_REGISTRATION_LEASE = 30.0


@dataclass(frozen=True)
class Registration:
    webhook_id: str
    # The signing secret, and the older shared token sent as `webhook_token`.
    secret: str
    token: str


class Webhooks:
    """This gateway's webhook with each administration, and the pushes it receives."""

    def __init__(self, mirrors: Mirrors, state: State, *, url: str) -> None:
        self._mirrors = mirrors
        self._state = state
        self.url = url
        # Registrations this process has read from the state or made.
        self._registrations: dict[str, Registration] = {}
        self._registering: dict[str, asyncio.Task[None]] = {}
        self._failed_at: dict[str, float] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def registered(
        self, administration: str, *, webhook_id: str | None = None
    ) -> Registration | None:
        """The webhook registered with `administration`; read again from the state
        when the one this process holds is not `webhook_id` (another process made a
        new one since)."""
        registration = self._registrations.get(administration)
        if registration is None or (
            webhook_id is not None and registration.webhook_id != webhook_id
        ):
            stored = await self._state.get(_registration_key(administration))
            if stored is not None:
                registration = self._registrations[administration] = Registration(
                    **orjson.loads(stored)
                )
        return registration

    def ensure_registered(self, client: MoneybirdClient, administration: str) -> None:
        """Register the webhook for `administration` in the background, once."""
        if administration in self._registrations or administration in self._registering:
            return
        failed_at = self._failed_at.get(administration)
        if failed_at is not None and time.monotonic() - failed_at < _RETRY_REGISTRATION:
            return
        # An empty context: the registration is no request's, and no request's
        # deadline cancels it halfway.
        task = asyncio.create_task(
            self._register(client, administration), context=contextvars.Context()
        )
        self._registering[administration] = task
        task.add_done_callback(lambda _: self._registering.pop(administration, None))

    async def _register(self, client: MoneybirdClient, administration: str) -> None:
        lease = f"{_registration_key(administration)}:lease"
        owner = secrets.token_hex(8)
        if not await self._state.try_lease(lease, owner, _REGISTRATION_LEASE):
            return  # another worker is registering it
        try:
            if await self.registered(administration) is None:
                await self._create(client, administration)
        finally:
            await self._state.release_lease(lease, owner)

    async def _create(self, client: MoneybirdClient, administration: str) -> None:
        try:
            for hook in await client.list_webhooks():
                if hook.get("url") == self.url and hook.get("id") is not None:
                    await client.delete_webhook(str(hook["id"]))
            created = await client.create_webhook(self.url, list(CONTACT_EVENTS))
        except Exception:
            logger.exception("could not register the Moneybird webhook for an administration")
            self._failed_at[administration] = time.monotonic()
            return
        webhook_id, secret, token = created.get("id"), created.get("secret"), created.get("token")
        if webhook_id is None or not isinstance(secret, str) or not isinstance(token, str):
            logger.error("Moneybird answered a webhook registration without id, secret or token")
            self._failed_at[administration] = time.monotonic()
            return
        registration = Registration(str(webhook_id), secret, token)
        await self._state.put(
            _registration_key(administration), orjson.dumps(dataclasses.asdict(registration))
        )
        self._registrations[administration] = registration

    async def receive(self, request: Request) -> Response:
        """POST /webhooks/moneybird."""
        body = await request.body()
        if not body.strip():
            # Moneybird checks a new webhook's URL with an empty POST: nothing to apply.
            return JSONResponse({"status": "ok"})
        try:
            payload: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _refused("The push is not JSON.", 400)
        if not isinstance(payload, dict):
            return _refused("The push is not a JSON object.", 400)
        administration = upstream_key(payload.get("administration_id"))
        webhook_id = str(payload.get("webhook_id"))
        registration = (
            None
            if administration is None
            else await self.registered(administration, webhook_id=webhook_id)
        )
        if registration is None or webhook_id != registration.webhook_id:
            return _refused("No webhook of this gateway sent that push.", 401)
        if not authentic(request.headers, body, payload, registration, now=time.time()):
            logger.warning("refused a Moneybird push that failed verification")
            return _refused("The push failed verification.", 401)
        key = request.headers.get("idempotency-key")
        if key is not None and key in self._seen:
            return JSONResponse({"status": "ok"})
        assert administration is not None
        await self._apply(administration, payload)
        if key is not None:
            self._seen[key] = None
            if len(self._seen) > _SEEN_KEYS:
                self._seen.popitem(last=False)
        return JSONResponse({"status": "ok"})

    async def _apply(self, administration: str, payload: dict[str, Any]) -> None:
        if payload.get("entity_type") != "Contact":
            return
        entity = payload.get("entity")
        if payload.get("action") == DELETED:
            key = upstream_key(payload.get("entity_id"))
            if key is not None:
                await self._mirrors.record_deleted(administration, key, at=int(time.time()))
        elif isinstance(entity, dict):
            await self._mirrors.record(administration, entity)


def authentic(
    headers: Mapping[str, str],
    body: bytes,
    payload: dict[str, Any],
    registration: Registration,
    *,
    now: float,
) -> bool:
    header = headers.get("moneybird-signature")
    if header is None:
        token = payload.get("webhook_token")
        return isinstance(token, str) and hmac.compare_digest(token, registration.token)
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
        # Schemes this gateway does not know are ignored, against downgrades.
    if timestamp is None or abs(now - timestamp) > MAX_SKEW:
        return False
    expected = hmac.new(
        registration.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


def _registration_key(administration: str) -> str:
    return f"mirror:{administration}:webhook"


def _refused(message: str, status: int) -> Response:
    return JSONResponse({"error": message}, status_code=status)

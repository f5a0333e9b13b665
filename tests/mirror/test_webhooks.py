"""Moneybird's pushes keep the mirror fresh: registered on first use, verified,
applied in version order, refused when they do not prove where they come from."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.mirror.mirrors import Mirrors
from gateway.mirror.webhooks import CONTACT_EVENTS, Registration, Webhooks
from gateway.sandbox.state import SandboxState
from gateway.state import KeyHasher, MemoryState
from tests.conftest import MONEYBIRD_HEADERS, calls, gateway_settings
from tests.servers import free_port, serve

ADMINISTRATION = "123456789"
READ = "query($id: ID!) { contact(id: $id) { id city version } }"


@dataclass
class Gateway:
    url: str
    app: Starlette
    sandbox: SandboxState

    def read(self, contact_id: str) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": READ, "variables": {"id": contact_id}},
            headers=MONEYBIRD_HEADERS,
        )
        contact: dict[str, Any] = response.json()["data"]["contact"]
        return contact

    def registration(self) -> Registration:
        """The webhook the gateway registered, as Moneybird (the sandbox) holds it."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            hooks = self.sandbox.webhooks.of(ADMINISTRATION)
            if hooks:
                [hook] = hooks
                registration = Registration(hook.id, hook.secrets[-1], hook.token)
                # and as the gateway knows it: a push of nothing it applies is taken
                idle = {"id": "1", "version": 0}
                if push(self, registration, idle, entity_type="Note").status_code == 200:
                    return registration
            time.sleep(0.02)
        raise AssertionError("the gateway registered no webhook")


@pytest.fixture
def gateway(sandbox_url: str, sandbox: SandboxState) -> Iterator[Gateway]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(
        gateway_settings(
            sandbox_url, moneybird_mirror=True, moneybird_max_staleness=3600, public_url=url
        )
    )
    with serve(app, port=port):
        yield Gateway(url, app, sandbox)


def push(
    gateway: Gateway,
    registration: Registration,
    contact: dict[str, Any],
    *,
    action: str = "contact_changed",
    secret: str | None = None,
    timestamp: int | None = None,
    signed: bool = True,
    token: str | None = None,
    key: str | None = None,
    entity_type: str = "Contact",
) -> httpx.Response:
    body = orjson.dumps(
        {
            "administration_id": ADMINISTRATION,
            "webhook_id": registration.webhook_id,
            "webhook_token": token if token is not None else registration.token,
            "entity_type": entity_type,
            "entity_id": contact["id"],
            "state": None,
            "action": action,
            "entity": contact,
        }
    )
    headers = {"content-type": "application/json", "idempotency-key": key or str(uuid.uuid4())}
    if signed:
        t = int(time.time()) if timestamp is None else timestamp
        digest = hmac.new(
            (secret or registration.secret).encode(), f"{t}.".encode() + body, hashlib.sha256
        ).hexdigest()
        headers["moneybird-signature"] = f"t={t},v1={digest}"
    return httpx.post(f"{gateway.url}/webhooks/moneybird", content=body, headers=headers)


def changed(sandbox: SandboxState, contact_id: str, **fields: Any) -> dict[str, Any]:
    contact = sandbox.moneybird.contacts[contact_id]
    return {**contact, **fields, "version": contact["version"] + fields.pop("bump", 1)}


def test_the_first_use_registers_a_webhook_for_the_contact_events(
    gateway: Gateway, sandbox: SandboxState
) -> None:
    gateway.read(next(iter(sandbox.moneybird.contacts)))
    registration = gateway.registration()
    [hook] = sandbox.webhooks.of(ADMINISTRATION)
    assert hook.url == f"{gateway.url}/webhooks/moneybird"
    assert hook.id == registration.webhook_id
    assert sorted(hook.enabled_events) == sorted(CONTACT_EVENTS)


def test_a_registration_outlasts_the_deadline_of_the_request_that_started_it(
    sandbox_url: str, sandbox: SandboxState
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = gateway_settings(
        sandbox_url, moneybird_mirror=True, public_url=url, request_deadline=1.0
    )
    # Moneybird takes longer to make the webhook than the first read may take.
    sandbox.faults["moneybird"].add_rule(r"^POST /123456789/webhooks", delay=1.5)
    app = create_app(settings)
    with serve(app, port=port):
        gateway = Gateway(url, app, sandbox)
        gateway.read(next(iter(sandbox.moneybird.contacts)))
        registration = gateway.registration()
    [hook] = sandbox.webhooks.of(ADMINISTRATION)
    assert hook.id == registration.webhook_id


def test_a_change_made_in_moneybird_is_seen_within_a_second_without_a_sync(
    gateway: Gateway, sandbox: SandboxState
) -> None:
    contact_id = next(iter(sandbox.moneybird.contacts))
    gateway.read(contact_id)
    gateway.registration()
    sandbox.log.clear()
    # changed through Moneybird's API by someone else: the sandbox pushes the change
    response = httpx.patch(
        f"{sandbox_base(gateway)}/moneybird/{ADMINISTRATION}/contacts/{contact_id}.json",
        json={"contact": {"city": "Harlingen"}},
        headers={"authorization": "Bearer someone-else"},
    )
    assert response.status_code == 200
    changed_at = time.monotonic()
    while gateway.read(contact_id)["city"] != "Harlingen":
        assert time.monotonic() - changed_at < 1.0
        time.sleep(0.02)
    assert [call.method for call in calls(sandbox)] == ["PATCH"]  # no sync call: the push did it


def sandbox_base(gateway: Gateway) -> str:
    settings = gateway.app.state.services.settings
    return str(settings.moneybird_base_url).removesuffix("/moneybird").rstrip("/")


def test_pushes_apply_in_version_order_and_once(gateway: Gateway, sandbox: SandboxState) -> None:
    contact_id = next(iter(sandbox.moneybird.contacts))
    gateway.read(contact_id)
    registration = gateway.registration()
    newer = changed(sandbox, contact_id, city="Sneek", bump=2)
    older = changed(sandbox, contact_id, city="Bolsward", bump=1)
    assert push(gateway, registration, newer, key="k1").status_code == 200
    assert push(gateway, registration, older).status_code == 200
    assert gateway.read(contact_id)["city"] == "Sneek"
    # the same push again is answered and not applied again
    replayed = {**newer, "city": "Franeker", "version": newer["version"] + 5}
    assert push(gateway, registration, replayed, key="k1").status_code == 200
    assert gateway.read(contact_id)["city"] == "Sneek"


def test_a_deletion_push_removes_the_contact(gateway: Gateway, sandbox: SandboxState) -> None:
    contact_id = next(iter(sandbox.moneybird.contacts))
    gateway.read(contact_id)
    registration = gateway.registration()
    contact = sandbox.moneybird.contacts[contact_id]
    assert push(gateway, registration, contact, action="contact_destroyed").status_code == 200
    assert gateway.read(contact_id) is None


@pytest.mark.parametrize(
    "forgery",
    [
        {"secret": "not-the-secret"},
        {"timestamp": int(time.time()) - 400},
        {"signed": False, "token": "not-the-token"},
    ],
    ids=["wrong secret", "too old", "wrong webhook token"],
)
def test_a_push_that_fails_verification_is_refused_and_changes_nothing(
    gateway: Gateway, sandbox: SandboxState, forgery: dict[str, Any]
) -> None:
    contact_id = next(iter(sandbox.moneybird.contacts))
    before = gateway.read(contact_id)
    registration = gateway.registration()
    forged = changed(sandbox, contact_id, city="Atlantis", bump=10)
    assert push(gateway, registration, forged, **forgery).status_code == 401
    assert gateway.read(contact_id) == before


def test_the_older_webhook_token_is_accepted_without_a_signature(
    gateway: Gateway, sandbox: SandboxState
) -> None:
    contact_id = next(iter(sandbox.moneybird.contacts))
    gateway.read(contact_id)
    registration = gateway.registration()
    update = changed(sandbox, contact_id, city="Dokkum")
    assert push(gateway, registration, update, signed=False).status_code == 200
    assert gateway.read(contact_id)["city"] == "Dokkum"


def test_any_signature_may_match_during_a_secret_rotation(
    gateway: Gateway, sandbox: SandboxState
) -> None:
    contact_id = next(iter(sandbox.moneybird.contacts))
    gateway.read(contact_id)
    registration = gateway.registration()
    body = orjson.dumps(
        {
            "administration_id": ADMINISTRATION,
            "webhook_id": registration.webhook_id,
            "entity_type": "Contact",
            "entity_id": contact_id,
            "action": "contact_changed",
            "entity": changed(sandbox, contact_id, city="Joure"),
        }
    )
    t = int(time.time())
    good = hmac.new(registration.secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
    response = httpx.post(
        f"{gateway.url}/webhooks/moneybird",
        content=body,
        headers={"moneybird-signature": f"t={t},v1={'0' * 64},v0=old,v1={good.hexdigest()}"},
    )
    assert response.status_code == 200
    assert gateway.read(contact_id)["city"] == "Joure"


def test_a_webhook_another_process_made_since_is_read_again() -> None:
    async def run() -> None:
        state = MemoryState()
        mirrors = Mirrors(
            state,
            await KeyHasher.for_state(state),
            max_staleness=30,
            token_ttl=300,
            max_contacts=10,
        )
        webhooks = Webhooks(mirrors, state, url="http://gateway.test/webhooks/moneybird")
        key = f"mirror:{ADMINISTRATION}:webhook"
        old = Registration("1", "old-secret", "old-token")
        await state.put(key, orjson.dumps(dataclasses.asdict(old)))
        assert await webhooks.registered(ADMINISTRATION) == old
        # another process deleted that webhook and made a new one
        new = Registration("2", "new-secret", "new-token")
        await state.put(key, orjson.dumps(dataclasses.asdict(new)))
        assert await webhooks.registered(ADMINISTRATION, webhook_id="2") == new

    asyncio.run(run())

"""Moneybird's webhooks in the sandbox: the API against the official spec, and pushes
over real HTTP to a receiver served by uvicorn, checked as a receiver would."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from gateway.sandbox.app import create_sandbox_app
from gateway.sandbox.state import SandboxState
from gateway.sandbox.webhooks import MAX_RETRIES
from tests.sandbox.receiver import Received, Receiver, signature_parts, verifies
from tests.sandbox.spec import validate
from tests.servers import serve

ADMIN = "123456789"
WEBHOOKS = "/{administration_id}/webhooks{format}"
WEBHOOK = "/{administration_id}/webhooks/{id}{format}"
ACTIVATE = "/{administration_id}/webhooks/{id}/activate{format}"
DEACTIVATE = "/{administration_id}/webhooks/{id}/deactivate{format}"
SPEC = "moneybird-webhooks"


@pytest.fixture(scope="module")
def receiving() -> Iterator[tuple[str, Receiver]]:
    receiver = Receiver()
    with serve(receiver) as url:
        yield url, receiver


@pytest.fixture
def receiver(receiving: tuple[str, Receiver]) -> Receiver:
    return receiving[1]


@pytest.fixture
def hook_url(receiving: tuple[str, Receiver], request: pytest.FixtureRequest) -> str:
    """A receiver URL of this test's own."""
    return f"{receiving[0]}{path_of(request)}"


def path_of(request: pytest.FixtureRequest) -> str:
    return "/hooks/" + re.sub(r"\W+", "-", request.node.name)


@pytest.fixture
def moneybird(sandbox: SandboxState, sandbox_url: str) -> Iterator[httpx.Client]:
    # retries within a fraction of a second; reset() puts back the default
    sandbox.moneybird_webhook_retry_interval = 0.02
    with httpx.Client(
        base_url=f"{sandbox_url}/moneybird/{ADMIN}",
        headers={"Authorization": "Bearer demo"},
        timeout=30,
    ) as client:
        yield client


@pytest.fixture
def controls(sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sandbox_url}/_sandbox/moneybird") as client:
        yield client


def register(moneybird: httpx.Client, url: str, events: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url}
    if events is not None:
        body["enabled_events"] = events
    created = moneybird.post("/webhooks.json", json=body)
    assert created.status_code == 201, created.text
    answer: dict[str, Any] = created.json()
    return answer


def new_contact(moneybird: httpx.Client, name: str = "Webhook B.V.") -> dict[str, Any]:
    created = moneybird.post("/contacts.json", json={"contact": {"company_name": name}})
    assert created.status_code == 201, created.text
    contact: dict[str, Any] = created.json()
    return contact


def path(url: str) -> str:
    return httpx.URL(url).path


def deliveries(controls: httpx.Client, webhook_id: str) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = controls.get(
        "/deliveries", params={"webhook_id": webhook_id}
    ).json()
    return answer


def settled(controls: httpx.Client, webhook_id: str, count: int) -> list[dict[str, Any]]:
    """The webhook's deliveries once `count` of them are no longer pending."""
    deadline = time.monotonic() + 10
    while True:
        listed = deliveries(controls, webhook_id)
        if sum(d["state"] != "pending" for d in listed) >= count:
            return listed
        assert time.monotonic() < deadline, listed
        time.sleep(0.01)


# -- the webhooks API ----------------------------------------------------------


def test_registration_checks_the_url_then_answers_the_spec_201(
    moneybird: httpx.Client, receiver: Receiver, hook_url: str
) -> None:
    # when
    created = moneybird.post(
        "/webhooks.json", json={"url": hook_url, "enabled_events": ["contact_created"]}
    )
    # then
    assert created.status_code == 201
    body = created.json()
    validate(SPEC, WEBHOOKS, "POST", 201, body)
    assert body["url"] == hook_url
    assert body["enabled_events"] == ["contact_created"]
    assert body["administration_id"] == int(ADMIN)
    assert (body["last_http_status"], body["last_http_body"], body["deactivated_at"]) == (
        None,
        None,
        None,
    )
    assert re.fullmatch(r"[A-Za-z0-9]{24}", body["token"])
    assert re.fullmatch(r"[0-9a-f]{64}", body["secret"])
    # the check: one unsigned request, before the answer
    [check] = receiver.received(path(hook_url), signed_only=False)
    assert not check.signed
    # the secret is shown on creation only
    listed = moneybird.get("/webhooks.json")
    validate(SPEC, WEBHOOKS, "GET", 200, listed.json())
    assert listed.json() == [{k: v for k, v in body.items() if k != "secret"}]


def test_without_enabled_events_a_webhook_takes_every_event(
    moneybird: httpx.Client, hook_url: str
) -> None:
    assert register(moneybird, hook_url)["enabled_events"] == []


@pytest.mark.parametrize("status", [201, 404, 500])
def test_a_url_that_does_not_answer_200_is_refused(
    moneybird: httpx.Client, receiver: Receiver, hook_url: str, status: int
) -> None:
    receiver.answer(path(hook_url), status)
    refused = moneybird.post("/webhooks.json", json={"url": hook_url})
    assert refused.status_code == 400
    assert refused.json() == {"error": "Url is invalid", "symbolic": {"url": "invalid"}}
    validate(SPEC, WEBHOOKS, "POST", 400, refused.json())
    assert moneybird.get("/webhooks.json").json() == []


def test_a_url_nobody_answers_is_refused(moneybird: httpx.Client) -> None:
    with serve(Receiver()) as gone:
        pass  # the port is closed again
    for url in (f"{gone}/hook", "not a url", "ftp://example.com/hook"):
        refused = moneybird.post("/webhooks.json", json={"url": url})
        assert refused.status_code == 400, url
        assert refused.json()["symbolic"] == {"url": "invalid"}


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ({}, {"error": "Url is required", "symbolic": {"url": "required"}}),
        ({"url": ""}, {"error": "Url is required", "symbolic": {"url": "required"}}),
        (
            {"url": "http://127.0.0.1:9/hook", "events": ["contact_created"]},
            {
                "error": "'events' has been removed from webhooks, use 'enabled_events'",
                "symbolic": {"events": "removed"},
            },
        ),
    ],
)
def test_the_documented_400s(
    moneybird: httpx.Client, body: dict[str, Any], answer: dict[str, Any]
) -> None:
    refused = moneybird.post("/webhooks.json", json=body)
    assert (refused.status_code, refused.json()) == (400, answer)
    validate(SPEC, WEBHOOKS, "POST", 400, refused.json())


def test_deactivate_activate_and_delete_answer_as_the_spec_says(
    moneybird: httpx.Client, hook_url: str
) -> None:
    hook = register(moneybird, hook_url)
    deactivated = moneybird.patch(f"/webhooks/{hook['id']}/deactivate.json")
    assert deactivated.status_code == 200
    validate(SPEC, DEACTIVATE, "PATCH", 200, deactivated.json())
    assert deactivated.json()["deactivated_at"] is not None
    assert "secret" not in deactivated.json()
    activated = moneybird.patch(f"/webhooks/{hook['id']}/activate.json")
    assert activated.status_code == 200
    validate(SPEC, ACTIVATE, "PATCH", 200, activated.json())
    assert activated.json()["deactivated_at"] is None
    assert moneybird.delete(f"/webhooks/{hook['id']}.json").status_code == 204
    assert moneybird.get("/webhooks.json").json() == []
    for method, url, spec_path in (
        ("PATCH", f"/webhooks/{hook['id']}/activate.json", ACTIVATE),
        ("PATCH", f"/webhooks/{hook['id']}/deactivate.json", DEACTIVATE),
        ("DELETE", f"/webhooks/{hook['id']}.json", WEBHOOK),
    ):
        missing = moneybird.request(method, url)
        assert missing.status_code == 404
        assert missing.json() == {"error": "Record not found for model name: Webhook"}
        validate(SPEC, spec_path, method, 404, missing.json())


# -- pushes ---------------------------------------------------------------------


def test_each_change_to_a_contact_is_pushed_signed_in_order(
    moneybird: httpx.Client, receiver: Receiver, hook_url: str, controls: httpx.Client
) -> None:
    # given
    hook = register(moneybird, hook_url)
    # when: every kind of change, in turn
    contact = new_contact(moneybird)
    contact_path = f"/contacts/{contact['id']}"
    moneybird.patch(f"{contact_path}.json", json={"contact": {"city": "Utrecht"}})
    note = moneybird.post(f"{contact_path}/notes.json", json={"note": {"note": "Call"}}).json()
    moneybird.delete(f"{contact_path}/notes/{note['id']}.json")
    person = moneybird.post(
        f"{contact_path}/contact_people.json",
        json={"contact_person": {"firstname": "Ada", "lastname": "Lovelace"}},
    ).json()
    moneybird.patch(
        f"{contact_path}/contact_people/{person['id']}.json",
        json={"contact_person": {"department": "Sales"}},
    )
    moneybird.delete(f"{contact_path}/contact_people/{person['id']}.json")
    moneybird.patch(f"{contact_path}/archive.json")
    final = moneybird.get(f"{contact_path}.json", params={"include_archived": "true"}).json()
    assert moneybird.delete(f"{contact_path}.json").status_code == 204
    # then
    actions = [
        "contact_created",
        "contact_changed",
        "note_created",
        "note_destroyed",
        "contact_person_created",
        "contact_person_updated",
        "contact_person_destroyed",
        "contact_archived",
        "contact_destroyed",
    ]
    pushes = receiver.wait_for(path(hook_url), len(actions))
    payloads = [push.json() for push in pushes]
    assert [p["action"] for p in payloads] == actions
    for push, payload in zip(pushes, payloads, strict=True):
        assert verifies(push, hook["secret"])
        assert push.headers["content-type"] == "application/json"
        assert list(payload) == [
            "administration_id",
            "webhook_id",
            "webhook_token",
            "entity_type",
            "entity_id",
            "state",
            "action",
            "entity",
        ]
        assert payload["administration_id"] == ADMIN
        assert payload["webhook_id"] == hook["id"]
        assert payload["webhook_token"] == hook["token"]
        assert (payload["entity_type"], payload["entity_id"]) == ("Contact", contact["id"])
        assert payload["state"] is None
    assert len({push.key for push in pushes}) == len(actions)
    # the contact as the API answered it, at each step
    assert payloads[0]["entity"] == contact
    assert payloads[1]["entity"]["city"] == "Utrecht"
    assert [n["id"] for n in payloads[2]["entity"]["notes"]][-1] == note["id"]
    assert note["id"] not in [n["id"] for n in payloads[3]["entity"]["notes"]]
    assert payloads[5]["entity"]["contact_people"][-1]["department"] == "Sales"
    assert payloads[8]["entity"] == final
    versions = [p["entity"]["version"] for p in payloads]
    assert versions == sorted(versions)
    # and the sandbox lists them
    listed = settled(controls, hook["id"], len(actions))
    assert [d["event"] for d in listed] == actions
    assert all(d["state"] == "delivered" and d["attempts"] == 1 for d in listed)
    assert all(d["last_status"] == 200 and d["url"] == hook_url for d in listed)
    assert [d["idempotency_key"] for d in listed] == [push.key for push in pushes]
    assert [d["version"] for d in listed] == versions
    assert all(d["created_at"] <= d["delivered_at"] for d in listed)


def test_a_change_that_changes_nothing_pushes_nothing(
    moneybird: httpx.Client, receiver: Receiver, hook_url: str
) -> None:
    register(moneybird, hook_url)
    contact = new_contact(moneybird)
    moneybird.patch(f"/contacts/{contact['id']}.json", json={"contact": {"city": ""}})
    moneybird.patch(f"/contacts/{contact['id']}.json", json={"contact": {"city": "Delft"}})
    receiver.wait_for(path(hook_url), 2)
    time.sleep(0.1)
    assert [p.json()["action"] for p in receiver.received(path(hook_url))] == [
        "contact_created",
        "contact_changed",
    ]


def test_a_refused_change_pushes_nothing(
    moneybird: httpx.Client, sandbox: SandboxState, hook_url: str, controls: httpx.Client
) -> None:
    hook = register(moneybird, hook_url)
    undeletable = next(iter(sandbox.moneybird.undeletable))
    assert moneybird.delete(f"/contacts/{undeletable}.json").status_code == 422
    assert moneybird.post("/contacts.json", json={"contact": {}}).status_code == 422
    assert deliveries(controls, hook["id"]) == []


def test_retries_carry_the_same_key_and_body_until_the_receiver_answers_200(
    moneybird: httpx.Client, receiver: Receiver, hook_url: str, controls: httpx.Client
) -> None:
    # given a receiver that fails twice
    hook = register(moneybird, hook_url)
    receiver.answer(path(hook_url), 500, 503)
    # when
    new_contact(moneybird)
    # then
    attempts = receiver.wait_for(path(hook_url), 3)
    assert len({a.key for a in attempts}) == 1
    assert len({a.body for a in attempts}) == 1
    assert all(verifies(a, hook["secret"]) for a in attempts)
    [listed] = settled(controls, hook["id"], 1)
    assert (listed["state"], listed["attempts"], listed["last_status"]) == ("delivered", 3, 200)
    first, second, third = listed["attempted_at"]
    assert second - first >= 0.02
    assert third - second >= 0.04  # retry n waits n intervals
    assert listed["delivered_at"] == third
    time.sleep(0.1)
    assert len(receiver.received(path(hook_url))) == 3
    stored = moneybird.get("/webhooks.json").json()[0]
    assert (stored["last_http_status"], stored["last_http_body"]) == (200, "ok")


def test_a_push_is_given_up_after_ten_retries(
    moneybird: httpx.Client,
    receiver: Receiver,
    hook_url: str,
    controls: httpx.Client,
    sandbox: SandboxState,
) -> None:
    sandbox.moneybird_webhook_retry_interval = 0.005
    hook = register(moneybird, hook_url)
    receiver.answer(path(hook_url), always=500)
    new_contact(moneybird)
    [listed] = settled(controls, hook["id"], 1)
    assert (listed["state"], listed["attempts"]) == ("failed", 1 + MAX_RETRIES)
    assert len(receiver.received(path(hook_url))) == 11
    stored = moneybird.get("/webhooks.json").json()[0]
    assert (stored["last_http_status"], stored["last_http_body"]) == (500, "refused with 500")


def test_a_later_push_waits_for_the_earlier_one_to_be_delivered(
    moneybird: httpx.Client, receiver: Receiver, hook_url: str
) -> None:
    register(moneybird, hook_url)
    receiver.answer(path(hook_url), 500, 500)
    contact = new_contact(moneybird)
    for city in ("Zwolle", "Breda", "Venlo"):
        moneybird.patch(f"/contacts/{contact['id']}.json", json={"contact": {"city": city}})
    got = receiver.wait_for(path(hook_url), 6)
    actions = [g.json()["action"] for g in got]
    cities = [g.json()["entity"]["city"] for g in got[3:]]
    assert actions == ["contact_created"] * 3 + ["contact_changed"] * 3
    assert cities == ["Zwolle", "Breda", "Venlo"]


def test_only_the_events_a_webhook_enabled_are_pushed_to_it(
    moneybird: httpx.Client,
    receiver: Receiver,
    receiving: tuple[str, Receiver],
    request: pytest.FixtureRequest,
) -> None:
    base = f"{receiving[0]}{path_of(request)}"
    register(moneybird, f"{base}/created", ["contact_created"])
    register(moneybird, f"{base}/people", ["contact_person"])  # an event group
    register(moneybird, f"{base}/all")
    contact = new_contact(moneybird)
    moneybird.post(
        f"/contacts/{contact['id']}/contact_people.json",
        json={"contact_person": {"firstname": "Grace", "lastname": "Hopper"}},
    )
    moneybird.patch(f"/contacts/{contact['id']}.json", json={"contact": {"city": "Ede"}})
    every = receiver.wait_for(f"{path_of(request)}/all", 3)
    time.sleep(0.1)

    def actions(sub: str) -> list[str]:
        return [r.json()["action"] for r in receiver.received(f"{path_of(request)}/{sub}")]

    assert [r.json()["action"] for r in every] == [
        "contact_created",
        "contact_person_created",
        "contact_changed",
    ]
    assert actions("created") == ["contact_created"]
    assert actions("people") == ["contact_person_created"]


def test_a_deactivated_webhook_gets_no_pushes_until_activated_again(
    moneybird: httpx.Client, receiver: Receiver, hook_url: str, controls: httpx.Client
) -> None:
    hook = register(moneybird, hook_url)
    moneybird.patch(f"/webhooks/{hook['id']}/deactivate.json")
    new_contact(moneybird, "Unheard B.V.")
    time.sleep(0.2)
    assert receiver.received(path(hook_url)) == []
    assert deliveries(controls, hook["id"]) == []
    moneybird.patch(f"/webhooks/{hook['id']}/activate.json")
    new_contact(moneybird, "Heard B.V.")
    [push] = receiver.wait_for(path(hook_url), 1)
    assert push.json()["entity"]["company_name"] == "Heard B.V."


def test_deactivating_lets_retries_of_earlier_pushes_go_on(
    moneybird: httpx.Client, receiver: Receiver, hook_url: str
) -> None:
    hook = register(moneybird, hook_url)
    receiver.answer(path(hook_url), 500)
    new_contact(moneybird)
    receiver.wait_for(path(hook_url), 1)
    moneybird.patch(f"/webhooks/{hook['id']}/deactivate.json")
    retried = receiver.wait_for(path(hook_url), 2)
    assert retried[0].key == retried[1].key


def test_during_a_rotation_a_push_carries_a_v1_per_secret(
    moneybird: httpx.Client, receiver: Receiver, hook_url: str, controls: httpx.Client
) -> None:
    hook = register(moneybird, hook_url)
    rotated = controls.post(f"/webhooks/{hook['id']}/rotate_secret").json()
    assert rotated["secrets"] == 2
    new_contact(moneybird)
    [push] = receiver.wait_for(path(hook_url), 1)
    _, digests = signature_parts(push.headers["moneybird-signature"])
    assert len(digests) == 2
    assert verifies(push, hook["secret"])
    assert verifies(push, rotated["secret"])
    assert not verifies(push, "0" * 64)
    controls.post(f"/webhooks/{hook['id']}/end_rotation")
    new_contact(moneybird)
    _, after = receiver.wait_for(path(hook_url), 2)
    assert len(signature_parts(after.headers["moneybird-signature"])[1]) == 1
    assert verifies(after, rotated["secret"])
    assert not verifies(after, hook["secret"])
    assert controls.post("/webhooks/1/rotate_secret").status_code == 404
    [listed] = controls.get("/webhooks").json()
    assert listed["secrets"] == [rotated["secret"]]


def test_a_tampered_body_or_a_stale_timestamp_does_not_verify(
    moneybird: httpx.Client, receiver: Receiver, hook_url: str
) -> None:
    hook = register(moneybird, hook_url)
    new_contact(moneybird)
    [push] = receiver.wait_for(path(hook_url), 1)
    tampered = Received(push.path, push.headers, push.body.replace(b"Webhook", b"W3bhook"), 0)
    assert not verifies(tampered, hook["secret"])
    assert not verifies(push, hook["secret"], tolerance=-1)


def test_paused_pushes_go_out_late_on_resume_and_dropped_ones_never(
    moneybird: httpx.Client, receiver: Receiver, hook_url: str, controls: httpx.Client
) -> None:
    hook = register(moneybird, hook_url)
    assert controls.post("/deliveries/pause").json() == {"paused": True}
    late = new_contact(moneybird, "Late B.V.")
    time.sleep(0.2)
    assert receiver.received(path(hook_url)) == []
    assert [d["state"] for d in deliveries(controls, hook["id"])] == ["pending"]
    assert controls.post("/deliveries/resume").json() == {"paused": False}
    [push] = receiver.wait_for(path(hook_url), 1)
    assert push.json()["entity_id"] == late["id"]
    # lost: paused, then dropped
    controls.post("/deliveries/pause")
    new_contact(moneybird, "Lost B.V.")
    assert controls.post("/deliveries/drop").json() == {"dropped": 1}
    controls.post("/deliveries/resume")
    new_contact(moneybird, "Found B.V.")
    pushes = receiver.wait_for(path(hook_url), 2)
    time.sleep(0.1)
    assert [p.json()["entity"]["company_name"] for p in pushes] == ["Late B.V.", "Found B.V."]
    assert [d["state"] for d in deliveries(controls, hook["id"])] == [
        "delivered",
        "dropped",
        "delivered",
    ]
    assert controls.delete("/deliveries").status_code == 204
    assert deliveries(controls, hook["id"]) == []


def test_deleting_a_webhook_drops_what_it_had_pending(
    moneybird: httpx.Client, receiver: Receiver, hook_url: str, controls: httpx.Client
) -> None:
    hook = register(moneybird, hook_url)
    controls.post("/deliveries/pause")
    new_contact(moneybird)
    moneybird.delete(f"/webhooks/{hook['id']}.json")
    controls.post("/deliveries/resume")
    time.sleep(0.2)
    assert receiver.received(path(hook_url)) == []
    assert [d["state"] for d in deliveries(controls, hook["id"])] == ["dropped"]


def test_reset_forgets_webhooks_and_pushes_and_stops_retrying(
    moneybird: httpx.Client,
    receiver: Receiver,
    hook_url: str,
    controls: httpx.Client,
    sandbox: SandboxState,
) -> None:
    register(moneybird, hook_url)
    receiver.answer(path(hook_url), always=500)
    sandbox.moneybird_webhook_retry_interval = 0.05
    new_contact(moneybird)
    receiver.wait_for(path(hook_url), 2)
    sandbox.reset()
    seen = len(receiver.received(path(hook_url)))
    time.sleep(0.3)
    assert len(receiver.received(path(hook_url))) == seen
    assert controls.get("/deliveries").json() == []
    assert moneybird.get("/webhooks.json").json() == []
    assert sandbox.moneybird_webhook_retry_interval == 60


def test_settings_set_the_retry_interval(controls: httpx.Client, sandbox: SandboxState) -> None:
    answer = controls.post("/settings", json={"webhook_retry_interval": 0.5})
    assert answer.json() == {
        "rate_limit": None,
        "rate_limit_per": "token",
        "webhook_retry_interval": 0.5,
    }
    assert sandbox.moneybird_webhook_retry_interval == 0.5
    for wrong in (-1, "soon", True):
        assert controls.post("/settings", json={"webhook_retry_interval": wrong}).status_code == 400


def test_a_webhook_on_the_same_server_as_the_sandbox_is_answered() -> None:
    """The gateway mounts the sandbox in its own app; a receiver there is the same
    process, and the same event loop, as the pushes."""
    state = SandboxState(contact_count=3, counterpart_count=1)
    state.moneybird_webhook_retry_interval = 0.02
    receiver = Receiver()
    app = Starlette(
        routes=[Mount("/sandbox", app=create_sandbox_app(state)), Mount("/hook", app=receiver)]
    )
    with (
        serve(app) as url,
        httpx.Client(
            base_url=f"{url}/sandbox/moneybird/{ADMIN}",
            headers={"Authorization": "Bearer demo"},
            timeout=30,
        ) as moneybird,
    ):
        hook = register(moneybird, f"{url}/hook/")
        contact = new_contact(moneybird)
        [push] = receiver.wait_for("/hook/", 1)
        assert push.json()["entity_id"] == contact["id"]
        assert verifies(push, hook["secret"])

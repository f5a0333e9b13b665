"""A gateway with the mirror on, against the sandbox over real HTTP: what it calls,
what it answers, and when it trusts a token.

Each test starts its own gateway, so that each starts with no mirror.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.sandbox.state import SandboxState
from tests.conftest import MONEYBIRD_HEADERS, calls, gateway_settings
from tests.servers import serve

VERSIONS = ("GET", "/123456789/contacts/synchronization.json")
BY_IDS = ("POST", "/123456789/contacts/synchronization.json")
CONTACT = "id displayName email city version archived notes { note } contactPeople { firstname }"

QUESTIONS: list[tuple[str, dict[str, Any]]] = [
    (f"query($id: ID!) {{ contact(id: $id) {{ {CONTACT} }} }}", {"id": "first"}),
    (f"query($ids: [ID!]!) {{ contactsByIds(ids: $ids) {{ {CONTACT} }} }}", {"ids": "some"}),
    ('{ contactByCustomerId(customerId: "3") { id customerId } }', {}),
    ("{ contactVersions { moneybirdId version } }", {}),
    ("{ contactVersions(includeArchived: true) { moneybirdId version } }", {}),
    (
        f'{{ contacts(first: 7, query: "amsterdam") {{ edges {{ cursor node {{ {CONTACT} }} }}'
        " pageInfo { hasNextPage endCursor } } }",
        {},
    ),
    (
        '{ contacts(first: 30, after: "Y29udGFjdDo0Mg==", includeArchived: true,'
        " filter: { contactType: COMPANY, deliveryMethod: EMAIL }) {"
        " edges { cursor node { id companyName } } pageInfo { hasNextPage } } }",
        {},
    ),
]


def read_settings(sandbox_url: str, **overrides: Any) -> Any:
    return gateway_settings(sandbox_url, moneybird_mirror=True, **overrides)


@pytest.fixture
def mirrored(sandbox_url: str, sandbox: SandboxState) -> Iterator[str]:
    with serve(create_app(read_settings(sandbox_url))) as url:
        yield url


@pytest.fixture
def read_through(sandbox_url: str, sandbox: SandboxState) -> Iterator[str]:
    with serve(create_app(gateway_settings(sandbox_url))) as url:
        yield url


def post(url: str, query: str, variables: dict[str, Any] | None = None, **headers: str) -> Any:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={**MONEYBIRD_HEADERS, **headers},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def called(sandbox: SandboxState) -> list[tuple[str, str]]:
    return [(call.method, call.path) for call in calls(sandbox)]


def resolve(variables: dict[str, Any], sandbox: SandboxState) -> dict[str, Any]:
    ids = list(sandbox.moneybird.contacts)
    values = {"first": ids[0], "some": [*ids[5:60:4], "999999999999999999", ids[5]]}
    return {name: values.get(value, value) for name, value in variables.items()}


def test_the_first_read_builds_the_mirror_and_later_reads_call_nothing(
    mirrored: str, sandbox: SandboxState
) -> None:
    first = post(mirrored, "{ contactVersions { moneybirdId } }")
    contacts = len(sandbox.moneybird.contacts)
    assert called(sandbox) == [VERSIONS] + [BY_IDS] * -(-contacts // 100)
    [versions_call] = [c for c in calls(sandbox) if c.method == "GET"]
    assert versions_call.query == "include_archived=true"
    assert len(first["data"]["contactVersions"]) == sum(
        not c["archived"] for c in sandbox.moneybird.contacts.values()
    )
    sandbox.log.clear()
    for query, variables in QUESTIONS:
        assert "errors" not in post(mirrored, query, resolve(variables, sandbox))
    assert called(sandbox) == []


@pytest.mark.parametrize(("query", "variables"), QUESTIONS)
def test_the_mirror_answers_as_moneybird_does(
    mirrored: str, read_through: str, sandbox: SandboxState, query: str, variables: dict[str, Any]
) -> None:
    values = resolve(variables, sandbox)
    ours = post(mirrored, query, values)
    theirs = post(read_through, query, values)
    assert ours["data"] == theirs["data"]
    assert "errors" not in ours
    # the answer says when the mirrored data last matched Moneybird; a read-through
    # answer does not
    synced_at = datetime.fromisoformat(ours["extensions"]["mirror"]["syncedAt"])
    assert 0 <= (datetime.now(UTC) - synced_at).total_seconds() < 60
    assert "extensions" not in theirs


def test_a_change_made_elsewhere_is_seen_once_the_mirror_is_stale(
    sandbox_url: str, sandbox: SandboxState
) -> None:
    with serve(create_app(read_settings(sandbox_url, moneybird_max_staleness=0.3))) as url:
        contact_id = next(iter(sandbox.moneybird.contacts))
        query = "query($id: ID!) { contact(id: $id) { city } }"
        assert post(url, query, {"id": contact_id})["data"]["contact"]["city"] != "Zwolle"
        # changed in Moneybird, not through the gateway
        sandbox.moneybird.contacts[contact_id] = {
            **sandbox.moneybird.contacts[contact_id],
            "city": "Zwolle",
            "version": sandbox.moneybird.contacts[contact_id]["version"] + 1,
        }
        sandbox.log.clear()
        assert post(url, query, {"id": contact_id})["data"]["contact"]["city"] != "Zwolle"
        assert called(sandbox) == []
        time.sleep(0.4)
        assert post(url, query, {"id": contact_id})["data"]["contact"]["city"] == "Zwolle"
        # one versions call, then only the contact that changed
        assert called(sandbox) == [VERSIONS, BY_IDS]
        assert calls(sandbox)[1].body == {"ids": [int(contact_id)]}


def test_writes_update_the_mirror_at_once(mirrored: str, sandbox: SandboxState) -> None:
    post(mirrored, "{ contactVersions { moneybirdId } }")
    created = post(
        mirrored,
        'mutation { createContact(input: { companyName: "Mirror Test B.V.", city: "Urk" })'
        " { contact { id moneybirdId } userErrors { message } } }",
    )["data"]["createContact"]["contact"]
    sandbox.log.clear()
    listed = post(
        mirrored,
        '{ contacts(first: 5, query: "mirror test") { edges { node { id city } } } }',
    )["data"]["contacts"]["edges"]
    assert listed == [{"node": {"id": created["id"], "city": "Urk"}}]
    assert called(sandbox) == []
    # archiving answers 204: the contact is read back once, then served from the mirror
    archived = post(
        mirrored,
        "mutation($id: ID!) { archiveContact(id: $id) { contact { archived } } }",
        {"id": created["id"]},
    )["data"]["archiveContact"]["contact"]
    assert archived == {"archived": True}
    assert called(sandbox) == [
        ("PATCH", f"/123456789/contacts/{created['moneybirdId']}/archive.json"),
        BY_IDS,
    ]
    sandbox.log.clear()
    assert (
        post(mirrored, '{ contacts(query: "mirror test") { edges { node { id } } } }')["data"][
            "contacts"
        ]["edges"]
        == []
    )
    post(
        mirrored,
        "mutation($id: ID!) { deleteContact(id: $id) { deletedId } }",
        {"id": created["id"]},
    )
    sandbox.log.clear()
    gone = post(mirrored, "query($id: ID!) { contact(id: $id) { id } }", {"id": created["id"]})
    assert gone["data"]["contact"] is None
    assert called(sandbox) == []


def test_a_token_is_trusted_only_after_moneybird_accepted_it(
    sandbox_url: str, sandbox: SandboxState
) -> None:
    with serve(create_app(read_settings(sandbox_url, moneybird_token_ttl=0.3))) as url:
        post(url, "{ contactVersions { moneybirdId } }")
        sandbox.log.clear()
        # another token: one versions call proves it, nothing else is fetched
        post(url, "{ contactVersions { moneybirdId } }", **{"X-Moneybird-Token": "another"})
        assert called(sandbox) == [VERSIONS]
        assert calls(sandbox)[0].headers["authorization"] == "Bearer another"
        sandbox.log.clear()
        post(url, "{ contactVersions { moneybirdId } }", **{"X-Moneybird-Token": "another"})
        assert called(sandbox) == []
        # once the TTL has passed, Moneybird is asked again; a refusal is UNAUTHENTICATED
        time.sleep(0.4)
        sandbox.faults["moneybird"].fail_next(1, status=401, body={"error": "revoked"})
        refused = post(
            url, "{ contactVersions { moneybirdId } }", **{"X-Moneybird-Token": "another"}
        )
        assert refused["data"] == {"contactVersions": None}
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert called(sandbox) == [VERSIONS]


def test_an_administration_the_token_cannot_reach_gets_no_data(
    mirrored: str, sandbox: SandboxState
) -> None:
    post(mirrored, "{ contactVersions { moneybirdId } }")
    sandbox.log.clear()
    other = post(
        mirrored,
        "{ contactVersions { moneybirdId } }",
        **{"X-Moneybird-Administration-Id": "987654321"},
    )
    assert other["data"] == {"contactVersions": None}
    assert other["errors"][0]["extensions"]["upstreamStatus"] == 404
    assert called(sandbox) == [("GET", "/987654321/contacts/synchronization.json")]


def metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    return float(next(line.split()[1] for line in text.splitlines() if line.startswith(name + " ")))


def test_administrations_moneybird_refuses_leave_nothing_behind(
    mirrored: str, sandbox: SandboxState
) -> None:
    post(mirrored, "{ contactVersions { moneybirdId } }")
    held = len(sandbox.moneybird.contacts)
    assert metric(mirrored, "gateway_mirror_administrations") == 1
    assert metric(mirrored, "gateway_mirror_contacts") == held
    for administration in range(987654300, 987654320):
        refused = post(
            mirrored,
            "{ contactVersions { moneybirdId } }",
            **{"X-Moneybird-Administration-Id": str(administration)},
        )
        assert refused["errors"][0]["extensions"]["upstreamStatus"] == 404
    sandbox.faults["moneybird"].fail_next(1, status=401, body={"error": "revoked"})
    post(
        mirrored,
        "{ contactVersions { moneybirdId } }",
        **{"X-Moneybird-Token": "made-up", "X-Moneybird-Administration-Id": "987654399"},
    )
    assert metric(mirrored, "gateway_mirror_administrations") == 1
    assert metric(mirrored, "gateway_mirror_contacts") == held


def test_no_cache_reads_through(mirrored: str, sandbox: SandboxState) -> None:
    post(mirrored, "{ contactVersions { moneybirdId } }")
    sandbox.log.clear()
    fresh = post(mirrored, "{ contactVersions { moneybirdId } }", **{"Cache-Control": "no-cache"})
    assert "extensions" not in fresh
    assert called(sandbox) == [VERSIONS]
    assert calls(sandbox)[0].query == ""


def test_a_spent_budget_answers_from_the_mirror_with_its_age(
    sandbox_url: str, sandbox: SandboxState
) -> None:
    contacts = len(sandbox.moneybird.contacts)
    # a budget that the build spends entirely: the versions list and 100 contacts a call
    build = 1 + -(-contacts // 100)
    settings = read_settings(
        sandbox_url, moneybird_budget=f"{build}/600", moneybird_max_staleness=0.2
    )
    with serve(create_app(settings)) as url:
        contact_id = next(iter(sandbox.moneybird.contacts))
        query = "query($id: ID!) { contact(id: $id) { moneybirdId } }"
        first = post(url, query, {"id": contact_id})
        built_at = first["extensions"]["mirror"]["syncedAt"]
        time.sleep(0.3)
        sandbox.log.clear()
        stale = post(url, query, {"id": contact_id})
        assert stale["data"] == {"contact": {"moneybirdId": contact_id}}
        assert "errors" not in stale
        assert stale["extensions"]["mirror"]["syncedAt"] == built_at
        assert called(sandbox) == []
        # a token Moneybird never accepted cannot read the mirror without a call
        refused = post(url, query, {"id": contact_id}, **{"X-Moneybird-Token": "new"})
        assert called(sandbox) == [VERSIONS]
        assert "errors" not in refused


def test_a_build_larger_than_the_budget_completes_over_several_windows(
    sandbox_url: str, sandbox: SandboxState
) -> None:
    contacts = len(sandbox.moneybird.contacts)
    batches = -(-contacts // 100)
    # one window's budget holds the versions list and all but one batch
    settings = read_settings(sandbox_url, moneybird_budget=f"{batches}/2", request_deadline=1.0)
    with serve(create_app(settings)) as url:
        query = "{ contactVersions { moneybirdId } }"
        first = post(url, query)
        assert first["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert called(sandbox) == [VERSIONS] + [BY_IDS] * (batches - 1)
        sandbox.log.clear()
        deadline = time.monotonic() + 10
        while "errors" in (answer := post(url, query)):
            assert answer["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
            assert time.monotonic() < deadline
            time.sleep(0.2)
        # the next window asked only for the batch the first one could not afford
        assert called(sandbox) == [VERSIONS, BY_IDS]
        assert len(answer["data"]["contactVersions"]) == sum(
            not c["archived"] for c in sandbox.moneybird.contacts.values()
        )


def test_clients_cannot_spend_the_calls_kept_for_syncs(
    sandbox_url: str, sandbox: SandboxState
) -> None:
    # a budget of 20 a window keeps 2 for syncs; the build takes 4 of the 20
    settings = read_settings(
        sandbox_url, moneybird_budget="20/600", moneybird_max_staleness=0.3, request_deadline=1.0
    )
    with serve(create_app(settings)) as url:
        contact_id = next(iter(sandbox.moneybird.contacts))
        query = "query($id: ID!) { contact(id: $id) { moneybirdId city } }"
        post(url, query, {"id": contact_id})
        # clients reading through spend every call but the two kept back
        fresh = {"Cache-Control": "no-cache"}
        while "errors" not in post(url, query, {"id": contact_id}, **fresh):
            pass
        spent = len(calls(sandbox))
        assert spent == 18
        # changed in Moneybird; once the mirror is stale, its sync still has calls
        contact = sandbox.moneybird.contacts[contact_id]
        contact.update(city="Lemmer", version=contact["version"] + 1)
        time.sleep(0.4)
        assert post(url, query, {"id": contact_id})["data"]["contact"]["city"] == "Lemmer"
        assert called(sandbox)[spent:] == [VERSIONS, BY_IDS]

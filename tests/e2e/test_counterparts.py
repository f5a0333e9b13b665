"""Counterparts and their contacts through the gateway, against the sandbox over HTTP."""

from __future__ import annotations

from typing import Any

from gateway.ids import global_id
from gateway.sandbox.state import SandboxState
from tests.conftest import GraphQLClient, calls

ENTITY = "9d2b4c8f-2087-4738-ba91-7359683c49a4"
ERRORS = "userErrors { field message code }"
ADDRESS = '{ line1: "Flughafenstrasse 52", city: "Berlin", postalCode: "10115", country: "DE" }'


def organization(sandbox: SandboxState, *, contacts: int = 2) -> dict[str, Any]:
    return next(
        c
        for c in sandbox.monite.counterparts.values()
        if c["type"] == "organization" and len(c["contacts"]) >= contacts
    )


def test_every_monite_call_carries_the_three_headers(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    counterpart = organization(sandbox)
    gateway.post("query($id: ID!) { counterpart(id: $id) { name } }", {"id": counterpart["id"]})
    [call] = calls(sandbox, "monite")
    assert call.headers["authorization"] == "Bearer monite-test-token"
    assert call.headers["x-monite-version"] == "2024-01-31"
    assert call.headers["x-monite-entity-id"] == ENTITY
    assert (call.method, call.path) == ("GET", "/counterparts")
    assert call.query == f"id__in={counterpart['id']}&limit=100"


def test_a_page_with_default_contacts_costs_one_plus_one_per_counterpart(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post(
        "{ counterparts(first: 20) { edges { node { name defaultContact { email }"
        " contacts { id counterpart { name } } } } pageInfo { hasNextPage endCursor } } }"
    )
    assert "errors" not in body
    edges = body["data"]["counterparts"]["edges"]
    assert len(edges) == 20
    seeded = list(sandbox.monite.counterparts.values())[:20]
    for edge, counterpart in zip(edges, seeded, strict=True):
        default = next((c for c in counterpart["contacts"] if c["is_default"]), None)
        expected = None if default is None else {"email": default["email"]}
        assert edge["node"]["defaultContact"] == expected
    monite = calls(sandbox, "monite")
    assert len(monite) == 1 + 20
    assert monite[0].query == "limit=20"
    assert {call.path for call in monite[1:]} == {
        f"/counterparts/{c['id']}/contacts" for c in seeded
    }
    assert calls(sandbox, "moneybird") == []


def test_pages_follow_monite_tokens(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    query = "query($after: String) { counterparts(first: 25, after: $after, isCustomer: true) { edges { node { moniteId isCustomer } } pageInfo { hasNextPage endCursor } } }"
    first = gateway.post(query)["data"]["counterparts"]
    second = gateway.post(query, {"after": first["pageInfo"]["endCursor"]})["data"]["counterparts"]
    customers = [
        c["id"]
        for c in sandbox.monite.counterparts.values()
        if (c.get("organization") or c.get("individual"))["is_customer"]
    ]
    got = [e["node"]["moniteId"] for e in first["edges"] + second["edges"]]
    assert got == customers[: len(got)]
    assert all(e["node"]["isCustomer"] for e in first["edges"] + second["edges"])
    assert "pagination_token=" in calls(sandbox, "monite")[1].query


def test_contact_counterparts_are_batched(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    # given contacts of three counterparts, asked for one by one
    picks = [c for c in sandbox.monite.counterparts.values() if c["contacts"]][:3]
    fields = " ".join(
        f'c{i}: counterpartContact(counterpartId: "{c["id"]}", id: "{c["contacts"][0]["id"]}")'
        " { firstName counterpart { moniteId name } }"
        for i, c in enumerate(picks)
    )
    body = gateway.post(f"{{ {fields} }}")
    assert "errors" not in body
    assert [body["data"][f"c{i}"]["counterpart"]["moniteId"] for i in range(3)] == [
        c["id"] for c in picks
    ]
    monite = calls(sandbox, "monite")
    listing = [call for call in monite if call.path == "/counterparts"]
    assert len(listing) == 1  # the three counterparts in one id__in call
    assert listing[0].query.count("id__in=") == 3
    assert len(monite) == 3 + 1


def test_contact_of_a_loaded_counterpart_costs_nothing_more(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    counterpart = organization(sandbox)
    contact = counterpart["contacts"][1]
    body = gateway.post(
        "query($c: ID!, $id: ID!) { counterpart(id: $c) { contacts { id } defaultContact { id } }"
        " counterpartContact(counterpartId: $c, id: $id) { id email isDefault"
        " address { city postalCode country } } }",
        {"c": counterpart["id"], "id": contact["id"]},
    )
    assert body["data"]["counterpartContact"]["email"] == contact["email"]
    assert (
        body["data"]["counterpartContact"]["address"]["postalCode"]
        == contact["address"]["postal_code"]
    )
    paths = [call.path for call in calls(sandbox, "monite")]
    assert paths.count(f"/counterparts/{counterpart['id']}/contacts") == 1


def test_missing_objects_are_null(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    counterpart = organization(sandbox)
    body = gateway.post(
        f'{{ counterpart(id: "{missing}") {{ id }} counterpartContact(counterpartId: "{counterpart["id"]}", id: "{missing}") {{ id }} }}'
    )
    assert body == {"data": {"counterpart": None, "counterpartContact": None}}


def test_create_counterpart_contact(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    counterpart = organization(sandbox)
    body = gateway.post(
        "mutation($c: ID!) { createCounterpartContact(counterpartId: $c, input: {"
        f' firstName: "Mary", lastName: "O\'Brien", email: "mary@example.org", address: {ADDRESS} }})'
        f" {{ contact {{ id firstName isDefault counterpart {{ moniteId }} }} {ERRORS} }} }}",
        {"c": counterpart["id"]},
    )
    payload = body["data"]["createCounterpartContact"]
    assert payload["userErrors"] == []
    assert payload["contact"]["firstName"] == "Mary"
    assert payload["contact"]["counterpart"]["moniteId"] == counterpart["id"]
    create = calls(sandbox, "monite")[0]
    assert (create.method, create.path, create.status) == (
        "POST",
        f"/counterparts/{counterpart['id']}/contacts",
        200,
    )
    assert create.body == {
        "first_name": "Mary",
        "last_name": "O'Brien",
        "email": "mary@example.org",
        "address": {
            "line1": "Flughafenstrasse 52",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
    }
    assert create.headers["x-monite-entity-id"] == ENTITY


def test_monite_validation_errors_point_at_the_input(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    counterpart = organization(sandbox)
    before = sandbox.snapshot()
    body = gateway.post(
        "mutation($c: ID!) { createCounterpartContact(counterpartId: $c, input: {"
        ' firstName: "Mary", lastName: "X", address: { line1: "a", city: "b", postalCode: "c", country: "Germany" } })'
        f" {{ contact {{ id }} {ERRORS} }} }}",
        {"c": counterpart["id"]},
    )
    assert body["data"]["createCounterpartContact"] == {
        "contact": None,
        "userErrors": [
            {
                "field": ["input", "address", "country"],
                "message": "value is not a valid enumeration member",
                "code": "INVALID",
            }
        ],
    }
    assert sandbox.snapshot() == before


def test_update_sends_only_given_fields(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    counterpart = organization(sandbox)
    contact = counterpart["contacts"][0]
    body = gateway.post(
        "mutation($c: ID!, $id: ID!) { updateCounterpartContact(counterpartId: $c, id: $id,"
        f' input: {{ title: "Dr." }}) {{ contact {{ title firstName }} {ERRORS} }} }}',
        {"c": counterpart["id"], "id": contact["id"]},
    )
    assert body["data"]["updateCounterpartContact"] == {
        "contact": {"title": "Dr.", "firstName": contact["first_name"]},
        "userErrors": [],
    }
    [call] = calls(sandbox, "monite")
    assert (call.method, call.body) == ("PATCH", {"title": "Dr."})


def test_make_default_flips_the_previous_default(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    # given
    counterpart = organization(sandbox)
    previous, chosen = counterpart["contacts"][0], counterpart["contacts"][1]
    assert previous["is_default"]
    assert not chosen["is_default"]
    # when, with a read of the counterpart after it in the same request
    body = gateway.post(
        "mutation($c: ID!, $id: ID!) { makeCounterpartContactDefault(counterpartId: $c, id: $id)"
        f" {{ contact {{ moniteId isDefault counterpart {{ defaultContact {{ moniteId }} contacts {{ moniteId isDefault }} }} }} {ERRORS} }} }}",
        {"c": counterpart["id"], "id": chosen["id"]},
    )
    # then
    payload = body["data"]["makeCounterpartContactDefault"]
    assert payload["userErrors"] == []
    assert payload["contact"]["isDefault"] is True
    assert payload["contact"]["counterpart"]["defaultContact"] == {"moniteId": chosen["id"]}
    flags = {c["moniteId"]: c["isDefault"] for c in payload["contact"]["counterpart"]["contacts"]}
    assert flags[previous["id"]] is False
    assert sum(flags.values()) == 1
    make_default = calls(sandbox, "monite")[0]
    assert (make_default.method, make_default.path) == (
        "POST",
        f"/counterparts/{counterpart['id']}/contacts/{chosen['id']}/make_default",
    )


def test_delete_contact_and_the_default_conflict(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    counterpart = organization(sandbox)
    default, other = counterpart["contacts"][0], counterpart["contacts"][1]
    query = f"mutation($c: ID!, $id: ID!) {{ deleteCounterpartContact(counterpartId: $c, id: $id) {{ deletedId {ERRORS} }} }}"
    refused = gateway.post(query, {"c": counterpart["id"], "id": default["id"]})
    assert refused["data"]["deleteCounterpartContact"]["userErrors"][0]["code"] == "CONFLICT"
    deleted = gateway.post(query, {"c": counterpart["id"], "id": other["id"]})
    assert deleted["data"]["deleteCounterpartContact"] == {
        "deletedId": global_id("CounterpartContact", counterpart["id"], other["id"]),
        "userErrors": [],
    }
    assert calls(sandbox, "monite")[-1].status == 204
    again = gateway.post(query, {"c": counterpart["id"], "id": other["id"]})
    assert again["data"]["deleteCounterpartContact"]["userErrors"] == [
        {"field": ["id"], "message": "Contact not found", "code": "NOT_FOUND"}
    ]


def test_tokens_never_cross_upstreams(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    counterpart = organization(sandbox)
    gateway.post(
        'query($c: ID!) { counterpart(id: $c) { name } contact(id: "1") { id } }',
        {"c": counterpart["id"]},
        headers={"X-Moneybird-Token": "mb-secret", "X-Monite-Token": "monite-secret"},
    )
    [moneybird] = calls(sandbox, "moneybird")
    [monite] = calls(sandbox, "monite")
    assert "monite-secret" not in str(moneybird.headers)
    assert "mb-secret" not in str(monite.headers)
    assert moneybird.headers["authorization"] == "Bearer mb-secret"
    assert monite.headers["authorization"] == "Bearer monite-secret"
    assert not any(name.startswith("x-monite") for name in moneybird.headers)


def test_no_monite_token_is_unauthenticated_without_a_call(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post("{ counterparts { edges { cursor } } }", headers={"X-Moneybird-Token": "t"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "X-Monite-Token" in body["errors"][0]["message"]
    assert calls(sandbox, "monite") == []


def test_a_malformed_id_is_bad_input(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    body = gateway.post('{ counterpart(id: "../entities") { id } }')
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "id"}
    assert calls(sandbox, "monite") == []

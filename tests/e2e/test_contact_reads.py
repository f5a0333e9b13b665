"""Contact reads through the gateway against the sandbox, over real HTTP."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

from gateway.sandbox.state import SandboxState
from tests.conftest import GraphQLClient, calls

CONTACT_FIELDS = "moneybirdId displayName email city version notes { note } events { action }"


def seeded_ids(sandbox: SandboxState, count: int) -> list[str]:
    return list(sandbox.moneybird.contacts)[:count]


def test_contact_by_id_is_one_synchronization_call(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    # given
    contact_id = seeded_ids(sandbox, 1)[0]
    # when
    body = gateway.post(
        f"query($id: ID!) {{ contact(id: $id) {{ {CONTACT_FIELDS} contactPeople {{ id }} }} }}",
        {"id": contact_id},
    )
    # then
    assert "errors" not in body
    contact = body["data"]["contact"]
    seeded = sandbox.moneybird.contacts[contact_id]
    assert contact["moneybirdId"] == contact_id
    assert contact["email"] == seeded["email"]
    assert contact["version"] == seeded["version"]
    assert [n["note"] for n in contact["notes"]] == [n["note"] for n in seeded["notes"]]
    [call] = calls(sandbox)
    assert call.method == "POST"
    assert call.path == "/123456789/contacts/synchronization.json"
    assert call.headers["authorization"] == "Bearer mb-test-token"
    assert call.headers["content-type"] == "application/json"
    assert call.body == {"ids": [int(contact_id)]}


def test_ids_travel_as_exact_integers_and_come_back_as_exact_strings(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    contact_id = seeded_ids(sandbox, 1)[0]
    gateway.post("query($id: ID!) { contact(id: $id) { id } }", {"id": contact_id})
    [call] = calls(sandbox)
    assert call.body["ids"][0] == int(contact_id)
    assert str(call.body["ids"][0]) == contact_id


def test_three_aliased_contacts_cost_one_call(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    a, b, c = seeded_ids(sandbox, 3)
    body = gateway.post(
        "query($a: ID!, $b: ID!, $c: ID!) {"
        " a: contact(id: $a) { moneybirdId } b: contact(id: $b) { moneybirdId }"
        " c: contact(id: $c) { moneybirdId } }",
        {"a": a, "b": b, "c": c},
    )
    assert [body["data"][k]["moneybirdId"] for k in "abc"] == [a, b, c]
    [call] = calls(sandbox)
    assert sorted(call.body["ids"]) == sorted(int(x) for x in (a, b, c))


def test_250_contacts_by_ids_cost_three_calls_in_order(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    # given 248 real ids and two that do not exist, in a scrambled order
    ids = [*seeded_ids(sandbox, 248)[::-1], "1", "2"]
    # when
    body = gateway.post(
        "query($ids: [ID!]!) { contactsByIds(ids: $ids) { moneybirdId } }", {"ids": ids}
    )
    # then
    assert "errors" not in body
    result = body["data"]["contactsByIds"]
    assert [item["moneybirdId"] if item else None for item in result] == [
        *ids[:248],
        None,
        None,
    ]
    sync_calls = calls(sandbox)
    assert len(sync_calls) == 3
    assert all(call.path.endswith("/contacts/synchronization.json") for call in sync_calls)
    assert sorted(len(call.body["ids"]) for call in sync_calls) == [50, 100, 100]


def test_repeated_ids_are_fetched_once(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    a = seeded_ids(sandbox, 1)[0]
    body = gateway.post(
        "query($ids: [ID!]!) { contactsByIds(ids: $ids) { moneybirdId } }", {"ids": [a, a]}
    )
    assert [item["moneybirdId"] for item in body["data"]["contactsByIds"]] == [a, a]
    [call] = calls(sandbox)
    assert call.body == {"ids": [int(a)]}


def test_a_missing_contact_is_null_without_error(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post('{ contact(id: "42") { id } }')
    assert body == {"data": {"contact": None}}


def test_embedded_lists_cost_no_extra_calls(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    body = gateway.post(
        "{ contacts(first: 100) { edges { node { id notes { note } events { action data } "
        "customFields { moneybirdId name value } contactPeople { firstname } } } } }"
    )
    assert "errors" not in body
    assert len(body["data"]["contacts"]["edges"]) == 100
    [call] = calls(sandbox)
    assert call.method == "GET"
    assert call.path == "/123456789/contacts.json"
    assert call.query == "page=1&per_page=100"


def test_a_page_primes_the_loader(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    # given ids that the page will bring, asked for beside it in the same request
    a, b = seeded_ids(sandbox, 2)
    # when
    body = gateway.post(
        "query($a: ID!, $b: ID!) { contacts(first: 5) { edges { node { id } } }"
        " a: contact(id: $a) { moneybirdId displayName } b: contact(id: $b) { moneybirdId } }",
        {"a": a, "b": b},
    )
    # then
    assert body["data"]["a"]["moneybirdId"] == a
    assert body["data"]["b"]["moneybirdId"] == b
    assert [(call.method, call.path) for call in calls(sandbox)] == [
        ("GET", "/123456789/contacts.json")
    ]


def test_pages_follow_cursors(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    query = (
        "query($after: String) { contacts(first: 10, after: $after) {"
        " edges { cursor node { moneybirdId } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"
    )
    first = gateway.post(query)["data"]["contacts"]
    second = gateway.post(query, {"after": first["pageInfo"]["endCursor"]})["data"]["contacts"]
    visible = [c["id"] for c in sandbox.moneybird.contacts.values() if not c["archived"]]
    assert [e["node"]["moneybirdId"] for e in first["edges"]] == visible[:10]
    assert [e["node"]["moneybirdId"] for e in second["edges"]] == visible[10:20]
    assert first["pageInfo"]["hasNextPage"] is True
    assert second["pageInfo"]["hasPreviousPage"] is True
    assert [call.query for call in calls(sandbox)] == [
        "page=1&per_page=10",
        "page=2&per_page=10",
    ]


def test_a_changed_page_size_still_returns_the_next_items(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    after = base64.urlsafe_b64encode(b"contact:6").decode()
    body = gateway.post(
        "query($after: String) {"
        " contacts(first: 5, after: $after) { edges { node { moneybirdId } } } }",
        {"after": after},
    )
    visible = [c["id"] for c in sandbox.moneybird.contacts.values() if not c["archived"]]
    assert [e["node"]["moneybirdId"] for e in body["data"]["contacts"]["edges"]] == visible[7:12]
    assert len(calls(sandbox)) == 1


def test_the_last_page_says_there_is_no_next(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    body = gateway.post(
        '{ contacts(first: 5, query: "nobody-is-called-this") {'
        " edges { node { id } } pageInfo { hasNextPage endCursor } } }"
    )
    assert body["data"]["contacts"] == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }


def test_a_filter_uses_the_filter_endpoint(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    body = gateway.post(
        "{ contacts(first: 50, filter: { contactType: PRIVATE_INDIVIDUAL,"
        ' createdAfter: "2026-01-20T00:00:00Z" }) { edges { node { id companyName } } } }'
    )
    assert "errors" not in body
    nodes = [edge["node"] for edge in body["data"]["contacts"]["edges"]]
    assert nodes
    assert all(node["companyName"] is None for node in nodes)
    [call] = calls(sandbox)
    assert call.path == "/123456789/contacts/filter.json"
    assert parse_qs(call.query)["filter"] == [
        "created_after:2026-01-20 00:00:00 UTC,contact_type:private_individual"
    ]


def test_a_comma_in_a_filter_value_is_refused(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post(
        '{ contacts(filter: { firstName: "a,contact_type:company" }) { edges { cursor } } }'
    )
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "filter.firstName",
    }
    assert calls(sandbox) == []


def test_archived_contacts_only_when_asked(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    query = (
        "query($all: Boolean) {"
        " contacts(first: 30, includeArchived: $all) { edges { node { archived } } } }"
    )
    without = gateway.post(query)["data"]["contacts"]["edges"]
    with_archived = gateway.post(query, {"all": True})["data"]["contacts"]["edges"]
    assert not any(edge["node"]["archived"] for edge in without)
    assert any(edge["node"]["archived"] for edge in with_archived)
    assert "include_archived=true" in calls(sandbox)[1].query


def test_contact_by_customer_id(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    body = gateway.post('{ contactByCustomerId(customerId: "7") { id customerId } }')
    assert body["data"]["contactByCustomerId"]["customerId"] == "7"
    [call] = calls(sandbox)
    assert call.path == "/123456789/contacts/customer_id/7.json"


def test_customer_id_cannot_change_the_upstream_path(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post('{ contactByCustomerId(customerId: "../../other/contacts?x=1#") { id } }')
    assert body == {"data": {"contactByCustomerId": None}}
    [call] = calls(sandbox)
    assert call.path == "/123456789/contacts/customer_id/..%2F..%2Fother%2Fcontacts%3Fx=1%23.json"
    assert call.query == ""


def test_contact_versions(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    body = gateway.post("{ contactVersions { moneybirdId version } }")
    versions = body["data"]["contactVersions"]
    expected = [
        {"moneybirdId": c["id"], "version": c["version"]}
        for c in sandbox.moneybird.contacts.values()
        if not c["archived"]
    ]
    assert versions == expected
    [call] = calls(sandbox)
    assert (call.method, call.path) == ("GET", "/123456789/contacts/synchronization.json")


def test_administration_header_overrides_the_setting(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post(
        '{ contact(id: "1") { id } }',
        headers={"X-Moneybird-Token": "t", "X-Moneybird-Administration-Id": "999"},
    )
    # the sandbox knows only administration 123456789, and says so with a 404
    assert body["errors"][0]["extensions"]["code"] in ("NOT_FOUND", "UPSTREAM_UNAVAILABLE")
    [call] = calls(sandbox)
    assert call.path == "/999/contacts/synchronization.json"

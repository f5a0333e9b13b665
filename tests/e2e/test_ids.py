"""Global ids, `node` and `nodes`, the id arguments, and one upstream failing
beside the other, through the gateway against the sandbox over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.ids import global_id
from gateway.sandbox.state import SandboxState
from tests.conftest import MONEYBIRD_HEADERS, GraphQLClient, calls

EVERYTHING = """
query($id: ID!, $c: ID!) {
  contact(id: $id) {
    id moneybirdId
    notes { id moneybirdId }
    contactPeople { id moneybirdId }
    customFields { moneybirdId name value }
  }
  contactVersions { contactId moneybirdId version }
  counterpart(id: $c) { id moniteId contacts { id moniteId } }
}
"""


def contact_with_people(sandbox: SandboxState) -> dict[str, Any]:
    return next(
        c
        for c in sandbox.moneybird.contacts.values()
        if c["notes"] and c["contact_people"] and c["custom_fields"] and not c["archived"]
    )


def organization(sandbox: SandboxState) -> dict[str, Any]:
    return next(c for c in sandbox.monite.counterparts.values() if len(c["contacts"]) >= 2)


def test_every_id_is_its_objects_alone(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    # given a contact with notes, people and custom fields, and a counterpart with contacts
    contact, counterpart = contact_with_people(sandbox), organization(sandbox)
    # when
    body = gateway.post(EVERYTHING, {"id": contact["id"], "c": counterpart["id"]})
    # then each object's id names it, and its upstream id is beside it
    assert "errors" not in body
    read, versions = body["data"]["contact"], body["data"]["contactVersions"]
    assert read["id"] == global_id("Contact", contact["id"])
    assert read["moneybirdId"] == contact["id"]
    assert [n["id"] for n in read["notes"]] == [
        global_id("Note", contact["id"], n["id"]) for n in contact["notes"]
    ]
    assert [p["moneybirdId"] for p in read["contactPeople"]] == [
        p["id"] for p in contact["contact_people"]
    ]
    found = body["data"]["counterpart"]
    assert (found["id"], found["moniteId"]) == (
        global_id("Counterpart", counterpart["id"]),
        counterpart["id"],
    )
    # a version is a value: it names its contact, it is no object of its own
    assert {
        "contactId": read["id"],
        "moneybirdId": contact["id"],
        "version": contact["version"],
    } in (versions)
    # and no two objects of the answer share an id, whatever their types
    ids = [
        read["id"],
        *(n["id"] for n in read["notes"]),
        *(p["id"] for p in read["contactPeople"]),
        found["id"],
        *(c["id"] for c in found["contacts"]),
    ]
    assert len(set(ids)) == len(ids)
    # custom fields are values of this contact: they have no id to share with others
    assert [f["moneybirdId"] for f in read["customFields"]] == [
        f["id"] for f in contact["custom_fields"]
    ]


def test_node_finds_every_type_by_its_id(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    contact, counterpart = contact_with_people(sandbox), organization(sandbox)
    read = gateway.post(EVERYTHING, {"id": contact["id"], "c": counterpart["id"]})["data"]
    objects = [
        read["contact"],
        read["contact"]["notes"][0],
        read["contact"]["contactPeople"][0],
        read["counterpart"],
        read["counterpart"]["contacts"][1],
    ]
    for expected in objects:
        body = gateway.post(
            "query($id: ID!) { node(id: $id) { __typename id"
            " ... on Contact { moneybirdId } ... on Note { moneybirdId }"
            " ... on ContactPerson { moneybirdId } ... on Counterpart { moniteId }"
            " ... on CounterpartContact { moniteId } } }",
            {"id": expected["id"]},
        )
        assert "errors" not in body
        node = body["data"]["node"]
        assert node["id"] == expected["id"]
        upstream = node.get("moneybirdId", node.get("moniteId"))
        assert upstream == expected.get("moneybirdId", expected.get("moniteId"))
    types = [
        gateway.post("query($id: ID!) { node(id: $id) { __typename } }", {"id": o["id"]})["data"][
            "node"
        ]["__typename"]
        for o in objects
    ]
    assert types == ["Contact", "Note", "ContactPerson", "Counterpart", "CounterpartContact"]


def test_nodes_share_the_calls_of_the_other_reads(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    # given the ids of three contacts, a note of a fourth, two counterparts and a
    # contact of one of them
    contacts = [c for c in sandbox.moneybird.contacts.values() if c["notes"]][:4]
    counterparts = [c for c in sandbox.monite.counterparts.values() if c["contacts"]][:2]
    ids = [
        *(global_id("Contact", c["id"]) for c in contacts[:3]),
        global_id("Note", contacts[3]["id"], contacts[3]["notes"][0]["id"]),
        *(global_id("Counterpart", c["id"]) for c in counterparts),
        global_id(
            "CounterpartContact", counterparts[0]["id"], counterparts[0]["contacts"][0]["id"]
        ),
    ]
    # when
    body = gateway.post("query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", {"ids": ids})
    # then each comes back in its place
    assert "errors" not in body
    assert [node["id"] for node in body["data"]["nodes"]] == ids
    # with one synchronization call for the four contacts, one id__in call for the
    # two counterparts and one contact list
    [synchronization] = calls(sandbox, "moneybird")
    assert sorted(synchronization.body["ids"]) == sorted(int(c["id"]) for c in contacts)
    monite = sorted((call.path, call.query.count("id__in=")) for call in calls(sandbox, "monite"))
    assert monite == [
        ("/counterparts", 2),
        (f"/counterparts/{counterparts[0]['id']}/contacts", 0),
    ]


def test_nodes_fail_one_by_one(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    # given Monite failing, beside ids that are missing or not ids at all
    contact = next(iter(sandbox.moneybird.contacts.values()))
    counterpart = next(iter(sandbox.monite.counterparts.values()))
    sandbox.faults["monite"].add_rule("counterparts", status=503)
    ids = [
        global_id("Counterpart", counterpart["id"]),
        global_id("Contact", contact["id"]),
        global_id("Contact", "999999999999999999"),
        contact["id"],
    ]
    # when
    body = gateway.post("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    # then the contact is there; the rest are null, each with its own error, if any
    assert body["data"]["nodes"] == [None, {"id": ids[1]}, None, None]
    errors = {tuple(error["path"]): error["extensions"] for error in body["errors"]}
    assert errors[("nodes", 0)]["code"] == "UPSTREAM_UNAVAILABLE"
    assert errors[("nodes", 3)] == {"code": "BAD_USER_INPUT", "argument": "ids"}
    assert set(errors) == {("nodes", 0), ("nodes", 3)}


def test_arguments_take_the_global_id_or_the_upstream_id(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    contact, counterpart = contact_with_people(sandbox), organization(sandbox)
    person = counterpart["contacts"][1]
    query = (
        "query($id: ID!, $ids: [ID!]!, $c: ID!, $p: ID!) { contact(id: $id) { moneybirdId }"
        " contactsByIds(ids: $ids) { moneybirdId } counterpart(id: $c) { moniteId }"
        " counterpartContact(counterpartId: $c, id: $p) { moniteId } }"
    )
    by_global = gateway.post(
        query,
        {
            "id": global_id("Contact", contact["id"]),
            "ids": [global_id("Contact", contact["id"]), contact["id"]],
            "c": global_id("Counterpart", counterpart["id"]),
            "p": global_id("CounterpartContact", counterpart["id"], person["id"]),
        },
    )
    by_upstream = gateway.post(
        query,
        {
            "id": contact["id"],
            "ids": [contact["id"], global_id("Contact", contact["id"])],
            "c": counterpart["id"],
            "p": person["id"],
        },
    )
    assert "errors" not in by_global
    assert by_global["data"] == by_upstream["data"]
    assert by_global["data"]["contactsByIds"] == [{"moneybirdId": contact["id"]}] * 2
    assert by_global["data"]["counterpartContact"] == {"moniteId": person["id"]}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "contact(id: $v) { id }",
            ("Note", "1", "2"),
            "`id` is the id of a Note, not of a Contact.",
        ),
        (
            "counterpart(id: $v) { id }",
            ("Contact", "1"),
            "`id` is the id of a Contact, not of a Counterpart.",
        ),
        (
            "contactsByIds(ids: [$v]) { id }",
            ("Counterpart", "9d2b4c8f-2087-4738-ba91-7359683c49a4"),
            "`ids` is the id of a Counterpart, not of a Contact.",
        ),
        (
            "contact(id: $v) { id }",
            "a-b",
            "`id` must be a Contact's id: its `id`, or its Moneybird id.",
        ),
    ],
)
def test_an_id_of_another_type_is_bad_input_without_a_call(
    gateway: GraphQLClient, sandbox: SandboxState, field: str, value: Any, message: str
) -> None:
    sent = value if isinstance(value, str) else global_id(*value)
    body = gateway.post(f"query($v: ID!) {{ {field} }}", {"v": sent})
    [error] = body["errors"]
    assert error["message"] == message
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert sandbox.requests() == []


def test_a_childs_global_id_must_be_of_the_parent_named(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    first, second = [c for c in sandbox.moneybird.contacts.values() if c["notes"]][:2]
    note = global_id("Note", second["id"], second["notes"][0]["id"])
    body = gateway.post(
        "mutation($c: ID!, $n: ID!) { deleteContactNote(contactId: $c, noteId: $n) { deletedId } }",
        {"c": global_id("Contact", first["id"]), "n": note},
    )
    assert body["data"] == {"deleteContactNote": None}
    assert body["errors"][0]["message"] == "`noteId` is the id of a Note of another Contact."
    assert sandbox.requests() == []


def test_mutations_take_global_ids_and_answer_the_deleted_global_id(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    contact = next(c for c in sandbox.moneybird.contacts.values() if c["notes"])
    note = global_id("Note", contact["id"], contact["notes"][0]["id"])
    body = gateway.post(
        "mutation($c: ID!, $n: ID!) {"
        ' updateContact(id: $c, input: { city: "Delft" }) { contact { id city } }'
        " deleteContactNote(contactId: $c, noteId: $n) { deletedId } }",
        {"c": global_id("Contact", contact["id"]), "n": note},
    )
    assert body["data"] == {
        "updateContact": {"contact": {"id": global_id("Contact", contact["id"]), "city": "Delft"}},
        "deleteContactNote": {"deletedId": note},
    }
    assert sandbox.moneybird.contacts[contact["id"]]["city"] == "Delft"


FIRST_PAGES = (
    "{ contacts(first: 2) { edges { node { moneybirdId } } }"
    " contactsByIds(ids: [$id]) { moneybirdId } contactVersions { version }"
    " counterparts(first: 2) { edges { node { moniteId } } } }"
)


@pytest.mark.parametrize("failure", ["no Monite token", "Monite answers 503"])
def test_one_upstream_failing_leaves_the_others_data(
    gateway: GraphQLClient, sandbox: SandboxState, failure: str
) -> None:
    # given Moneybird answering and Monite not
    contact_id = next(iter(sandbox.moneybird.contacts))
    headers = None
    if failure == "no Monite token":
        headers = MONEYBIRD_HEADERS
    else:
        sandbox.faults["monite"].add_rule("counterparts", status=503)
    # when
    body = gateway.post(f"query($id: ID!) {FIRST_PAGES}", {"id": contact_id}, headers=headers)
    # then Monite's field is null with its error, and Moneybird's data is all there
    data = body["data"]
    assert data["counterparts"] is None
    assert [error["path"] for error in body["errors"]] == [["counterparts"]]
    assert len(data["contacts"]["edges"]) == 2
    assert data["contactsByIds"] == [{"moneybirdId": contact_id}]
    assert data["contactVersions"]
    # and the other way round
    sandbox.faults["monite"].clear()
    sandbox.faults["moneybird"].add_rule("contacts", status=503)
    body = gateway.post(f"query($id: ID!) {FIRST_PAGES}", {"id": contact_id})
    data = body["data"]
    assert (data["contacts"], data["contactsByIds"], data["contactVersions"]) == (None, None, None)
    assert len(data["counterparts"]["edges"]) == 2
    assert {error["extensions"]["upstream"] for error in body["errors"]} == {"Moneybird"}


def test_a_failing_mutation_leaves_the_other_changes_their_payloads(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    contact = next(iter(sandbox.moneybird.contacts.values()))
    counterpart = organization(sandbox)
    body = gateway.post(
        "mutation($id: ID!, $c: ID!, $p: ID!) {"
        ' updateContact(id: $id, input: { city: "Delft" }) { contact { city } }'
        " makeCounterpartContactDefault(counterpartId: $c, id: $p) { contact { isDefault } } }",
        {"id": contact["id"], "c": counterpart["id"], "p": counterpart["contacts"][1]["id"]},
        headers=MONEYBIRD_HEADERS,
    )
    assert body["data"] == {
        "updateContact": {"contact": {"city": "Delft"}},
        "makeCounterpartContactDefault": None,
    }
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

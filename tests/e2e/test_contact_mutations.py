"""Contact mutations against the sandbox: the exact upstream request, the payload."""

from __future__ import annotations

import time
from typing import Any

import httpx

from gateway.app import create_app
from gateway.ids import global_id
from gateway.sandbox.state import SandboxState
from tests.conftest import MONEYBIRD_HEADERS, GraphQLClient, calls, gateway_settings
from tests.servers import serve

ADMIN_PATH = "/123456789/contacts"
ERRORS = "userErrors { field message code }"


def first_contact(sandbox: SandboxState, *, deletable: bool = True) -> dict[str, Any]:
    data = sandbox.moneybird
    return next(
        c
        for c in data.contacts.values()
        if not c["archived"] and (c["id"] in data.undeletable) != deletable
    )


def test_create_contact_sends_the_wrapped_body(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post(
        'mutation { createContact(input: { companyName: "Test B.V.", deliveryMethod: POST,'
        ' customFields: [{ id: "496081346724103302", value: "Retail" }] })'
        f" {{ contact {{ moneybirdId companyName deliveryMethod customFields {{ name value }} }}"
        f" {ERRORS} }} }}"
    )
    payload = body["data"]["createContact"]
    assert payload["userErrors"] == []
    assert payload["contact"]["companyName"] == "Test B.V."
    assert payload["contact"]["deliveryMethod"] == "POST"
    assert payload["contact"]["customFields"] == [{"name": "Segment", "value": "Retail"}]
    [call] = calls(sandbox)
    assert (call.method, call.path) == ("POST", f"{ADMIN_PATH}.json")
    assert call.body == {
        "contact": {
            "company_name": "Test B.V.",
            "delivery_method": "Post",
            "custom_fields_attributes": {"0": {"id": 496081346724103302, "value": "Retail"}},
        }
    }
    assert payload["contact"]["moneybirdId"] in sandbox.moneybird.contacts


def test_create_with_blank_names_gives_one_user_error_per_message(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    before = sandbox.snapshot()
    body = gateway.post(
        'mutation { createContact(input: { companyName: "", firstname: "" })'
        f" {{ contact {{ id }} {ERRORS} }} }}"
    )
    payload = body["data"]["createContact"]
    assert "errors" not in body
    assert payload["contact"] is None
    assert payload["userErrors"] == [
        {"field": ["input", "firstname"], "message": "is required", "code": "INVALID"},
        {"field": ["input", "lastname"], "message": "is required", "code": "INVALID"},
        {"field": ["input", "companyName"], "message": "is required", "code": "INVALID"},
    ]
    assert calls(sandbox)[0].status == 422
    assert sandbox.snapshot() == before


def test_an_unknown_custom_field_is_not_found(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post(
        'mutation { createContact(input: { companyName: "X", customFields: [{ id: "1234",'
        f' value: "v" }}] }}) {{ contact {{ id }} {ERRORS} }} }}'
    )
    assert body["data"]["createContact"]["userErrors"] == [
        {
            "field": ["input", "customFields"],
            "message": "Custom field with id 1234 not found for administration",
            "code": "NOT_FOUND",
        }
    ]


def test_a_future_mandate_date_is_refused(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    body = gateway.post(
        'mutation { createContact(input: { companyName: "X", sepaMandateDate: "2999-01-01" })'
        f" {{ contact {{ id }} {ERRORS} }} }}"
    )
    assert body["data"]["createContact"]["userErrors"] == [
        {
            "field": ["input", "sepaMandateDate"],
            "message": "cannot be in the future",
            "code": "INVALID",
        }
    ]


def test_update_sends_only_the_given_fields(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    # given
    contact = first_contact(sandbox)
    city_before = contact["city"]
    # when: one field changed, one cleared with null, the rest left out
    body = gateway.post(
        'mutation($id: ID!) { updateContact(id: $id, input: { companyName: "Renamed B.V.",'
        f" phone: null }}) {{ contact {{ companyName phone city version }} {ERRORS} }} }}",
        {"id": contact["id"]},
    )
    # then
    payload = body["data"]["updateContact"]
    assert payload["userErrors"] == []
    assert payload["contact"]["companyName"] == "Renamed B.V."
    assert payload["contact"]["phone"] is None
    assert payload["contact"]["city"] == city_before
    [call] = calls(sandbox)
    assert (call.method, call.path) == ("PATCH", f"{ADMIN_PATH}/{contact['id']}.json")
    assert call.body == {"contact": {"company_name": "Renamed B.V.", "phone": None}}
    changed = sandbox.moneybird.contacts[contact["id"]]["events"][-1]
    assert changed["action"] == "contact_changed"
    assert changed["data"]["changes"]["company_name"][1] == "Renamed B.V."


def test_a_read_after_an_update_in_the_same_request_shows_the_new_state(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    contact = first_contact(sandbox)
    body = gateway.post(
        "mutation($id: ID!) {"
        ' a: updateContact(id: $id, input: { city: "Delft" }) { contact { city } }'
        ' b: addContactNote(contactId: $id, input: { note: "Visited" }) { note { id } }'
        " }",
        {"id": contact["id"]},
    )
    assert body["data"]["a"]["contact"]["city"] == "Delft"
    after = gateway.post(
        "query($id: ID!) { contact(id: $id) { city notes { note } } }", {"id": contact["id"]}
    )
    assert after["data"]["contact"]["city"] == "Delft"
    assert after["data"]["contact"]["notes"][-1]["note"] == "Visited"


def test_update_of_a_missing_contact_is_not_found(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post(
        f'mutation {{ updateContact(id: "1564321", input: {{ city: "X" }}) {{ contact {{ id }} {ERRORS} }} }}'
    )
    assert body["data"]["updateContact"]["userErrors"] == [
        {"field": ["id"], "message": "record not found", "code": "NOT_FOUND"}
    ]


def test_delete_contact(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    contact = first_contact(sandbox)
    body = gateway.post(
        "mutation($id: ID!) { deleteContact(id: $id) { deletedId userErrors { code } } } ",
        {"id": contact["id"]},
    )
    deleted_id = global_id("Contact", contact["id"])
    assert body["data"]["deleteContact"] == {"deletedId": deleted_id, "userErrors": []}
    [call] = calls(sandbox)
    assert (call.method, call.path, call.status) == (
        "DELETE",
        f"{ADMIN_PATH}/{contact['id']}.json",
        204,
    )
    assert contact["id"] not in sandbox.moneybird.contacts


def test_a_contact_with_invoices_cannot_be_deleted(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    contact = first_contact(sandbox, deletable=False)
    body = gateway.post(
        f"mutation($id: ID!) {{ deleteContact(id: $id) {{ deletedId {ERRORS} }} }}",
        {"id": contact["id"]},
    )
    assert body["data"]["deleteContact"] == {
        "deletedId": None,
        "userErrors": [
            {"field": ["id"], "message": "Contact cannot be deleted", "code": "CANNOT_BE_DELETED"}
        ],
    }
    assert contact["id"] in sandbox.moneybird.contacts


def test_archive_contact_then_archive_again(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    contact = first_contact(sandbox)
    query = (
        f"mutation($id: ID!) {{ archiveContact(id: $id) {{ contact {{ moneybirdId archived }}"
        f" {ERRORS} }} }}"
    )
    first = gateway.post(query, {"id": contact["id"]})["data"]["archiveContact"]
    assert first == {
        "contact": {"moneybirdId": contact["id"], "archived": True},
        "userErrors": [],
    }
    assert [(c.method, c.path) for c in calls(sandbox)] == [
        ("PATCH", f"{ADMIN_PATH}/{contact['id']}/archive.json"),
        ("POST", f"{ADMIN_PATH}/synchronization.json"),
    ]
    second = gateway.post(query, {"id": contact["id"]})["data"]["archiveContact"]
    assert second["userErrors"] == [
        {"field": ["id"], "message": "Contact can not be archived", "code": "INVALID"}
    ]


def test_add_and_delete_a_note(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    contact = first_contact(sandbox)
    added = gateway.post(
        'mutation($id: ID!) { addContactNote(contactId: $id, input: { note: "Call back",'
        f' todo: true, assigneeId: "1509611426969" }}) {{ note {{ id moneybirdId note todo assigneeId }} {ERRORS} }} }}',
        {"id": contact["id"]},
    )["data"]["addContactNote"]
    assert added["userErrors"] == []
    assert added["note"]["note"] == "Call back"
    assert added["note"]["todo"] is True
    [call] = calls(sandbox)
    assert (call.method, call.path) == ("POST", f"{ADMIN_PATH}/{contact['id']}/notes.json")
    assert call.body == {"note": {"note": "Call back", "todo": True, "assignee_id": 1509611426969}}
    deleted = gateway.post(
        "mutation($id: ID!, $note: ID!) { deleteContactNote(contactId: $id, noteId: $note)"
        " { deletedId userErrors { code } } }",
        {"id": contact["id"], "note": added["note"]["id"]},
    )["data"]["deleteContactNote"]
    assert deleted == {"deletedId": added["note"]["id"], "userErrors": []}
    assert (
        calls(sandbox)[-1].path
        == f"{ADMIN_PATH}/{contact['id']}/notes/{added['note']['moneybirdId']}.json"
    )


def test_a_blank_note_and_a_missing_contact(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    contact = first_contact(sandbox)
    blank = gateway.post(
        f'mutation($id: ID!) {{ addContactNote(contactId: $id, input: {{ note: " " }}) {{ note {{ id }} {ERRORS} }} }}',
        {"id": contact["id"]},
    )["data"]["addContactNote"]
    assert blank["userErrors"] == [
        {"field": ["input", "note"], "message": "is required", "code": "INVALID"}
    ]
    missing = gateway.post(
        f'mutation {{ addContactNote(contactId: "1", input: {{ note: "x" }}) {{ note {{ id }} {ERRORS} }} }}'
    )["data"]["addContactNote"]
    assert missing["userErrors"][0]["field"] == ["contactId"]
    assert missing["userErrors"][0]["code"] == "INVALID"


def test_contact_people_lifecycle(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    contact = first_contact(sandbox)
    created = gateway.post(
        'mutation($id: ID!) { createContactPerson(contactId: $id, input: { firstname: "Jan",'
        f' lastname: "Janssen", department: "Sales" }}) {{ contactPerson {{ id firstname department }} {ERRORS} }} }}',
        {"id": contact["id"]},
    )["data"]["createContactPerson"]
    person_id = created["contactPerson"]["id"]
    assert created["userErrors"] == []
    assert calls(sandbox)[0].body == {
        "contact_person": {"firstname": "Jan", "lastname": "Janssen", "department": "Sales"}
    }
    updated = gateway.post(
        "mutation($c: ID!, $id: ID!) { updateContactPerson(contactId: $c, id: $id,"
        f' input: {{ phone: "555" }}) {{ contactPerson {{ phone firstname }} {ERRORS} }} }}',
        {"c": contact["id"], "id": person_id},
    )["data"]["updateContactPerson"]
    assert updated == {"contactPerson": {"phone": "555", "firstname": "Jan"}, "userErrors": []}
    assert calls(sandbox)[1].body == {"contact_person": {"phone": "555"}}
    assert calls(sandbox)[1].method == "PATCH"
    blank = gateway.post(
        "mutation($c: ID!, $id: ID!) { updateContactPerson(contactId: $c, id: $id,"
        f' input: {{ firstname: "" }}) {{ contactPerson {{ id }} {ERRORS} }} }}',
        {"c": contact["id"], "id": person_id},
    )["data"]["updateContactPerson"]
    assert blank["userErrors"] == [
        {"field": ["input", "firstname"], "message": "is required", "code": "INVALID"}
    ]
    deleted = gateway.post(
        "mutation($c: ID!, $id: ID!) { deleteContactPerson(contactId: $c, id: $id)"
        f" {{ deletedId {ERRORS} }} }}",
        {"c": contact["id"], "id": person_id},
    )["data"]["deleteContactPerson"]
    assert deleted == {"deletedId": person_id, "userErrors": []}
    again = gateway.post(
        "mutation($c: ID!, $id: ID!) { deleteContactPerson(contactId: $c, id: $id)"
        f" {{ deletedId {ERRORS} }} }}",
        {"c": contact["id"], "id": person_id},
    )["data"]["deleteContactPerson"]
    assert again["userErrors"][0]["code"] == "NOT_FOUND"


def test_bad_emails_and_unknown_enum_are_refused_without_a_call(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post(
        'mutation { createContact(input: { companyName: "X", sendInvoicesToEmail: "a@b.nl, nope",'
        f" deliveryMethod: UNKNOWN }}) {{ contact {{ id }} {ERRORS} }} }}"
    )
    errors = body["data"]["createContact"]["userErrors"]
    assert {tuple(e["field"]) for e in errors} == {
        ("input", "sendInvoicesToEmail"),
        ("input", "deliveryMethod"),
    }
    assert calls(sandbox) == []


def test_an_enum_value_the_schema_lacks_is_a_graphql_error(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post(
        f"mutation {{ createContact(input: {{ deliveryMethod: FAX }}) {{ {ERRORS} }} }}"
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert calls(sandbox) == []


def test_a_write_that_times_out_is_not_retried_and_says_the_outcome_is_unknown(
    gateway_url: str, sandbox: SandboxState, sandbox_url: str
) -> None:
    # given a gateway that waits 0.3 s for an answer and an upstream that takes 1 s
    settings = gateway_settings(sandbox_url, upstream_read_timeout=0.3)
    sandbox.faults["moneybird"].latency = 1.0
    with serve(create_app(settings)) as url:
        # when
        response = httpx.post(
            f"{url}/graphql",
            json={
                "query": 'mutation { createContact(input: { companyName: "Slow B.V." })'
                " { contact { id } userErrors { code } } }"
            },
            headers=MONEYBIRD_HEADERS,
            timeout=10,
        ).json()
    # then
    [error] = response["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert error["extensions"]["outcome"] == "UNKNOWN"
    assert "outcome is unknown" in error["message"]
    sandbox.faults["moneybird"].latency = 0
    time.sleep(1.0)  # let the slow request land in the log
    assert [c.method for c in calls(sandbox)] == ["POST"]  # sent once, never retried


def test_upstream_5xx_on_a_mutation_is_top_level(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    sandbox.faults["moneybird"].fail_next(status=503)
    body = gateway.post(
        f'mutation {{ createContact(input: {{ companyName: "X" }}) {{ {ERRORS} }} }}'
    )
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert len(calls(sandbox)) == 1

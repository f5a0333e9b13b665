"""Moneybird's contact write endpoints, with its validation and error bodies.

Contacts whose seeded customer id is a multiple of 7 stand for contacts with
invoices: deleting them answers 422 "Contact cannot be deleted", as Moneybird does.

Each change raises the webhook event Moneybird names for it (contact_created,
contact_changed, contact_destroyed, contact_archived, note_created, note_destroyed,
contact_person_created, contact_person_updated, contact_person_destroyed), pushed
to the administration's webhooks after the answer (gateway.sandbox.webhooks).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.sandbox import seed
from gateway.sandbox.moneybird import authenticated, json_response, not_found, symbolic_error
from gateway.sandbox.state import MoneybirdData, SandboxState

WRITABLE_FIELDS = frozenset(
    {
        "company_name",
        "address1",
        "address2",
        "zipcode",
        "city",
        "country",
        "phone",
        "delivery_method",
        "customer_id",
        "tax_number",
        "firstname",
        "lastname",
        "chamber_of_commerce",
        "bank_account",
        "send_invoices_to_attention",
        "send_invoices_to_email",
        "send_estimates_to_attention",
        "send_estimates_to_email",
        "sepa_active",
        "sepa_iban",
        "sepa_iban_account_name",
        "sepa_bic",
        "sepa_mandate_id",
        "sepa_mandate_date",
        "sepa_sequence_type",
        "si_identifier_type",
        "si_identifier",
        "invoice_workflow_id",
        "estimate_workflow_id",
        "email_ubl",
        "direct_debit",
        "credit_card_number",
        "credit_card_reference",
        "credit_card_type",
    }
)
BOOLEAN_FIELDS = frozenset({"sepa_active", "email_ubl", "direct_debit"})
CHOICES: dict[str, set[str | None]] = {
    "delivery_method": {"Email", "Simplerinvoicing", "Peppol", "Manual", "Post"},
    "sepa_sequence_type": {"RCUR", "FRST", "OOFF", "FNAL"},
    "credit_card_type": {"mastercard", "visa", None},
}
PERSON_FIELDS = frozenset({"firstname", "lastname", "phone", "email", "department"})
_EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")

FieldErrors = dict[str, list[str]]


def validation_error(errors: FieldErrors) -> Response:
    details = {
        field: [{"error": message} for message in messages] for field, messages in errors.items()
    }
    return json_response({"error": errors, "details": details}, 422)


async def wrapped_body(request: Request, wrapper: str) -> dict[str, Any] | None:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        return None
    inner = body.get(wrapper) if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else None


def _as_bool(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _parse_date(value: Any) -> date | None:
    try:
        year, month, day = (int(part) for part in str(value).split("-"))
        return date(year, month, day)
    except ValueError:
        return None


def validate_contact(
    data: MoneybirdData, contact: dict[str, Any], own_id: str | None
) -> FieldErrors:
    errors: FieldErrors = {}
    if not any(
        (contact.get(name) or "").strip() for name in ("company_name", "firstname", "lastname")
    ):
        for name in ("firstname", "lastname", "company_name"):
            errors.setdefault(name, []).append("is required")
    for name, allowed in CHOICES.items():
        if contact.get(name) not in allowed:
            errors.setdefault(name, []).append("is not included in the list")
    for name in ("send_invoices_to_email", "send_estimates_to_email"):
        value = contact.get(name) or ""
        if value and not all(_EMAIL.fullmatch(part.strip()) for part in value.split(",")):
            errors.setdefault(name, []).append("is invalid")
    mandate = contact.get("sepa_mandate_date")
    if mandate:
        parsed = _parse_date(mandate)
        if parsed is None:
            errors.setdefault("sepa_mandate_date", []).append("is invalid")
        elif parsed > datetime.now(UTC).date():
            errors.setdefault("sepa_mandate_date", []).append("cannot be in the future")
    if contact.get("sepa_active") is True:
        for name in ("sepa_iban", "sepa_iban_account_name", "sepa_mandate_id", "sepa_mandate_date"):
            if not contact.get(name):
                errors.setdefault(name, []).append("can't be blank")
    customer_id = contact.get("customer_id")
    if customer_id and any(
        other["customer_id"] == customer_id and other["id"] != own_id
        for other in data.contacts.values()
    ):
        errors.setdefault("customer_id", []).append("has already been taken")
    return errors


def custom_field_values(data: MoneybirdData, attributes: Any) -> list[dict[str, Any]] | Response:
    """Moneybird accepts `{"0": {id, value}}` and `[{id, value}]`."""
    items = list(attributes.values()) if isinstance(attributes, dict) else attributes
    if not isinstance(items, list):
        return symbolic_error(
            400, "Custom fields attributes is invalid", {"custom_fields_attributes": "invalid"}
        )
    values = []
    for item in items:
        field_id = str(item.get("id")) if isinstance(item, dict) else ""
        if field_id not in data.custom_fields:
            return symbolic_error(
                404,
                f"Custom field with id {field_id} not found for administration",
                {"custom_fields_attributes": "not_found"},
            )
        values.append(
            {
                "id": field_id,
                "name": data.custom_fields[field_id],
                "value": str(item.get("value") or ""),
            }
        )
    return values


def touch(contact: dict[str, Any]) -> str:
    now = seed.now_stamp()
    contact["updated_at"] = now
    contact["version"] = max(contact["version"] + 1, int(datetime.now(UTC).timestamp()))
    return now


def apply_changes(
    data: MoneybirdData, contact: dict[str, Any], changes: dict[str, Any]
) -> Response | dict[str, Any]:
    """Merge permitted changes into a copy of `contact`; a Response when they are refused."""
    if "is_trusted" in changes:
        return symbolic_error(
            400,
            "An contact can only be trusted during the approval of a payment.",
            {"is_trusted": "permission"},
        )
    updated = dict(contact)
    for name, value in changes.items():
        if name in WRITABLE_FIELDS:
            updated[name] = _as_bool(value) if name in BOOLEAN_FIELDS else value
    for name in ("invoice_workflow_id", "estimate_workflow_id"):
        if updated.get(name) is not None:
            updated[name] = str(updated[name])
    if "custom_fields_attributes" in changes:
        values = custom_field_values(data, changes["custom_fields_attributes"])
        if isinstance(values, Response):
            return values
        merged = {field["id"]: field for field in contact["custom_fields"]}
        merged.update({field["id"]: field for field in values})
        updated["custom_fields"] = list(merged.values())
    errors = validate_contact(data, updated, contact.get("id"))
    if errors:
        return validation_error(errors)
    return updated


def write_routes(state: SandboxState) -> list[Route]:
    def data() -> MoneybirdData:
        return state.moneybird

    def find(request: Request, name: str = "id") -> dict[str, Any] | None:
        return data().contacts.get(request.path_params[name])

    def publish(action: str, contact: dict[str, Any]) -> None:
        state.webhooks.publish(data().administration_id, action, contact)

    async def create_contact(request: Request) -> Response:
        changes = await wrapped_body(request, "contact")
        if changes is None:
            return symbolic_error(400, "Contact is required", {"contact": "required"})
        created = seed.now_stamp()
        store = data()
        contact_id = store.next_id()
        customer_id = changes.get("customer_id") or str(
            max(
                (
                    int(c["customer_id"])
                    for c in store.contacts.values()
                    if c["customer_id"].isdigit()
                ),
                default=0,
            )
            + 1
        )
        blank = seed.blank_contact(contact_id, store.administration_id, customer_id, created)
        result = apply_changes(store, blank, {**changes, "customer_id": customer_id})
        if isinstance(result, Response):
            return result
        person = changes.get("contact_person")
        if isinstance(person, dict):
            result["contact_people"] = [
                seed.contact_person(
                    store.next_id(),
                    contact_id,
                    str(person.get("firstname") or ""),
                    str(person.get("lastname") or ""),
                    created,
                )
            ]
        result["events"] = [seed.event("contact_created", created)]
        store.contacts[contact_id] = result
        publish("contact_created", result)
        return json_response(result, 201)

    async def update_contact(request: Request) -> Response:
        contact = find(request)
        if contact is None:
            return not_found()
        changes = await wrapped_body(request, "contact")
        if changes is None:
            return symbolic_error(400, "Contact is required", {"contact": "required"})
        result = apply_changes(data(), contact, changes)
        if isinstance(result, Response):
            return result
        diff = {
            name: [contact.get(name), result.get(name)]
            for name in sorted(WRITABLE_FIELDS | {"custom_fields"})
            if contact.get(name) != result.get(name)
        }
        if diff:
            now = touch(result)
            result["events"] = [
                *contact["events"],
                seed.event("contact_changed", now, {"changes": diff}),
            ]
        contact.clear()
        contact.update(result)
        if diff:
            publish("contact_changed", contact)
        return json_response(contact)

    async def delete_contact(request: Request) -> Response:
        contact = find(request)
        if contact is None:
            return not_found()
        if contact["id"] in data().undeletable:
            return json_response({"error": "Contact cannot be deleted"}, 422)
        del data().contacts[contact["id"]]
        publish("contact_destroyed", contact)
        return Response(status_code=204)

    async def archive_contact(request: Request) -> Response:
        contact = find(request)
        if contact is None:
            return not_found()
        if contact["archived"]:
            return symbolic_error(400, "Contact can not be archived", {"id": "can_not_be_archived"})
        contact["archived"] = True
        now = touch(contact)
        contact["events"].append(seed.event("contact_archived", now))
        publish("contact_archived", contact)
        return Response(status_code=204)

    async def add_note(request: Request) -> Response:
        contact = find(request, "contact_id")
        if contact is None:
            return symbolic_error(
                400,
                "Entity is invalid; User has no permissions to notes for Contact",
                {"entity": "not_found", "user": "insufficient_permissions"},
            )
        fields = await wrapped_body(request, "note") or {}
        text = fields.get("note")
        if not isinstance(text, str) or not text.strip():
            return validation_error({"note": ["can't be blank"]})
        assignee = fields.get("assignee_id")
        todo = _as_bool(fields.get("todo", False)) is True or assignee is not None
        note = seed.note(
            data().next_id(),
            contact["id"],
            text,
            seed.now_stamp(),
            todo=todo,
            assignee_id=None if assignee is None else str(assignee),
        )
        contact["notes"].append(note)
        touch(contact)
        publish("note_created", contact)
        return json_response(note, 201)

    async def delete_note(request: Request) -> Response:
        contact = find(request, "contact_id")
        note_id = request.path_params["id"]
        if contact is None or not any(n["id"] == note_id for n in contact["notes"]):
            return not_found()
        contact["notes"] = [n for n in contact["notes"] if n["id"] != note_id]
        touch(contact)
        publish("note_destroyed", contact)
        return Response(status_code=204)

    def person_errors(person: dict[str, Any]) -> FieldErrors:
        errors: FieldErrors = {}
        for name in ("firstname", "lastname"):
            if not (person.get(name) or "").strip():
                errors[name] = ["can't be blank"]
        email = person.get("email")
        if email and not _EMAIL.fullmatch(email):
            errors["email"] = ["is invalid"]
        return errors

    async def create_person(request: Request) -> Response:
        contact = find(request, "contact_id")
        if contact is None:
            return validation_error({"contact": ["must exist"]})
        fields = await wrapped_body(request, "contact_person") or {}
        created = seed.now_stamp()
        person = seed.contact_person(data().next_id(), contact["id"], "", "", created)
        person.update({k: v for k, v in fields.items() if k in PERSON_FIELDS})
        errors = person_errors(person)
        if errors:
            return validation_error(errors)
        contact["contact_people"].append(person)
        touch(contact)
        publish("contact_person_created", contact)
        return json_response(person, 201)

    def find_person(request: Request) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        contact = find(request, "contact_id")
        people = contact["contact_people"] if contact else []
        person = next((p for p in people if p["id"] == request.path_params["id"]), None)
        return contact, person

    async def update_person(request: Request) -> Response:
        contact, person = find_person(request)
        if contact is None or person is None:
            return symbolic_error(
                404, "contact person not found", {"contact_person_id": "not_found"}
            )
        fields = await wrapped_body(request, "contact_person") or {}
        updated = {**person, **{k: v for k, v in fields.items() if k in PERSON_FIELDS}}
        errors = person_errors(updated)
        if errors:
            return validation_error(errors)
        updated["updated_at"] = seed.now_stamp()
        updated["version"] = person["version"] + 1
        person.update(updated)
        touch(contact)
        publish("contact_person_updated", contact)
        return json_response(person)

    async def delete_person(request: Request) -> Response:
        contact, person = find_person(request)
        if contact is None or person is None:
            return not_found()
        contact["contact_people"].remove(person)
        touch(contact)
        publish("contact_person_destroyed", contact)
        return Response(status_code=204)

    prefix = "/{administration_id}/contacts"
    routes = [
        (f"{prefix}.json", create_contact, ["POST"]),
        (f"{prefix}/{{id}}/archive.json", archive_contact, ["PATCH"]),
        (f"{prefix}/{{contact_id}}/notes.json", add_note, ["POST"]),
        (f"{prefix}/{{contact_id}}/notes/{{id}}.json", delete_note, ["DELETE"]),
        (f"{prefix}/{{contact_id}}/contact_people.json", create_person, ["POST"]),
        (f"{prefix}/{{contact_id}}/contact_people/{{id}}.json", update_person, ["PATCH"]),
        (f"{prefix}/{{contact_id}}/contact_people/{{id}}.json", delete_person, ["DELETE"]),
        (f"{prefix}/{{id}}.json", update_contact, ["PATCH"]),
        (f"{prefix}/{{id}}.json", delete_contact, ["DELETE"]),
    ]
    return [
        Route(path, authenticated(handler, state), methods=methods)
        for path, handler, methods in routes
    ]

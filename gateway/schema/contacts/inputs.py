"""Inputs of the contact mutations, and how they become Moneybird request bodies.

Fields left out of an input are UNSET and never sent; a field given as null is
sent as null. Moneybird's rule is "attributes you don't provide will not be
updated": sending every field would wipe a contact.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from enum import Enum
from typing import Any

import strawberry

from gateway.errors import BadUserInput
from gateway.ids import moneybird_id
from gateway.schema.contacts.types import CreditCardType, DeliveryMethod, SepaSequenceType
from gateway.schema.user_errors import UserError, UserErrorCode, check_emails, input_path

UNSET: Any = strawberry.UNSET


@strawberry.input(description="The value of one of the administration's custom fields.")
class CustomFieldInput:
    id: strawberry.ID = strawberry.field(
        description="The custom field's Moneybird id (`CustomField.moneybirdId`)."
    )
    value: str


@strawberry.input(description="A first contact person, created together with the contact.")
class InitialContactPersonInput:
    firstname: str
    lastname: str


@strawberry.input(
    description=(
        "Contact fields to set. Leave a field out to keep it; give null to clear it. "
        "A contact needs a non-blank companyName, firstname or lastname."
    )
)
class ContactInput:
    company_name: str | None = UNSET
    firstname: str | None = UNSET
    lastname: str | None = UNSET
    address1: str | None = UNSET
    address2: str | None = UNSET
    zipcode: str | None = UNSET
    city: str | None = UNSET
    country: str | None = strawberry.field(
        default=UNSET, description="ISO two-letter country code, e.g. NL or DE."
    )
    phone: str | None = UNSET
    delivery_method: DeliveryMethod | None = UNSET
    customer_id: str | None = strawberry.field(
        default=UNSET, description="Unique in the administration; assigned when empty."
    )
    tax_number: str | None = UNSET
    chamber_of_commerce: str | None = UNSET
    bank_account: str | None = UNSET
    send_invoices_to_attention: str | None = UNSET
    send_invoices_to_email: str | None = strawberry.field(
        default=UNSET, description="One or more email addresses, separated by commas."
    )
    send_estimates_to_attention: str | None = UNSET
    send_estimates_to_email: str | None = strawberry.field(
        default=UNSET, description="One or more email addresses, separated by commas."
    )
    sepa_active: bool | None = strawberry.field(
        default=UNSET, description="When true, all other SEPA fields are required."
    )
    sepa_iban: str | None = UNSET
    sepa_iban_account_name: str | None = UNSET
    sepa_bic: str | None = UNSET
    sepa_mandate_id: str | None = UNSET
    sepa_mandate_date: date | None = strawberry.field(
        default=UNSET, description="Must not be in the future."
    )
    sepa_sequence_type: SepaSequenceType | None = UNSET
    si_identifier: str | None = UNSET
    si_identifier_type: str | None = UNSET
    invoice_workflow_id: strawberry.ID | None = UNSET
    estimate_workflow_id: strawberry.ID | None = UNSET
    email_ubl: bool | None = UNSET
    direct_debit: bool | None = UNSET
    credit_card_number: str | None = UNSET
    credit_card_reference: str | None = UNSET
    credit_card_type: CreditCardType | None = UNSET
    custom_fields: list[CustomFieldInput] | None = UNSET
    contact_person: InitialContactPersonInput | None = strawberry.field(
        default=UNSET, description="Only on create."
    )


@strawberry.input(description="A note, or a to-do when `todo` is true or an assignee is given.")
class NoteInput:
    note: str
    todo: bool | None = UNSET
    assignee_id: strawberry.ID | None = UNSET


@strawberry.input(description="Contact person fields; leave a field out to keep it.")
class ContactPersonInput:
    firstname: str | None = UNSET
    lastname: str | None = UNSET
    phone: str | None = UNSET
    email: str | None = UNSET
    department: str | None = UNSET


_EMAIL_FIELDS = {"email": False, "send_invoices_to_email": True, "send_estimates_to_email": True}
_ID_FIELDS = frozenset({"invoice_workflow_id", "estimate_workflow_id", "assignee_id"})


def upstream_body(value: Any) -> tuple[dict[str, Any], list[UserError]]:
    """The Moneybird body for an input: given fields only, in upstream names and forms."""
    body: dict[str, Any] = {}
    errors: list[UserError] = []
    for field in dataclasses.fields(value):
        given = getattr(value, field.name)
        if given is UNSET:
            continue
        path = input_path(field.name)
        if field.name in _EMAIL_FIELDS:
            errors += check_emails(given, path, several=_EMAIL_FIELDS[field.name])
        if isinstance(given, Enum) and given.name == "UNKNOWN":
            errors.append(
                UserError(
                    field=path, message="UNKNOWN cannot be written.", code=UserErrorCode.INVALID
                )
            )
            continue
        if field.name in _ID_FIELDS and given is not None:
            try:
                body[field.name] = int(moneybird_id(given))
            except BadUserInput:
                errors.append(
                    UserError(
                        field=path, message="Must be a Moneybird id.", code=UserErrorCode.INVALID
                    )
                )
            continue
        if field.name == "custom_fields":
            converted, field_errors = _custom_fields(given or [])
            body["custom_fields_attributes"] = converted
            errors += field_errors
            continue
        body[field.name] = _upstream_value(given)
    return body, errors


def _upstream_value(given: Any) -> Any:
    if isinstance(given, Enum):
        return given.value
    if isinstance(given, date):
        return given.isoformat()
    if dataclasses.is_dataclass(given):
        return {f.name: getattr(given, f.name) for f in dataclasses.fields(given)}
    return given


def _custom_fields(items: list[CustomFieldInput]) -> tuple[dict[str, Any], list[UserError]]:
    """Rails nested attributes, as Moneybird's own example sends them: {"0": {...}}."""
    converted: dict[str, Any] = {}
    errors: list[UserError] = []
    for index, item in enumerate(items):
        try:
            field_id = int(moneybird_id(item.id))
        except BadUserInput:
            errors.append(
                UserError(
                    field=["input", "customFields", str(index), "id"],
                    message="Must be a Moneybird custom field id.",
                    code=UserErrorCode.INVALID,
                )
            )
            continue
        converted[str(index)] = {"id": field_id, "value": item.value}
    return converted, errors

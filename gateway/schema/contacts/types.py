"""Moneybird contacts as GraphQL types, served as views of Moneybird's objects
(`gateway.schema.views`): each field reads the key of the same name."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.schema import reader
from gateway.schema.relay import Node, PageInfo, node_id, with_parent
from gateway.schema.scalars import BigInt
from gateway.schema.views import upstream_type, view

_EMPTY_AS_NULL = "Null when unset (Moneybird's empty strings are returned as null)."
_MONEYBIRD_ID = (
    "The {} id in Moneybird (an 18-digit number, as an exact string), as Moneybird shows it."
)


@strawberry.enum(
    description=(
        "How invoices reach the contact. Moneybird adds methods over time: a value "
        "this gateway does not know yet is UNKNOWN, with the raw value in "
        "`deliveryMethodRaw`."
    )
)
class DeliveryMethod(Enum):
    EMAIL = "Email"
    POST = "Post"
    MANUAL = "Manual"
    SIMPLERINVOICING = "Simplerinvoicing"
    PEPPOL = "Peppol"
    UNKNOWN = "__unknown__"


@strawberry.enum(
    description=(
        "SEPA direct debit sequence type. A value this gateway does not know yet is "
        "UNKNOWN, with the raw value in `sepaSequenceTypeRaw`."
    )
)
class SepaSequenceType(Enum):
    RCUR = "RCUR"
    FRST = "FRST"
    OOFF = "OOFF"
    FNAL = "FNAL"
    UNKNOWN = "__unknown__"


@strawberry.enum(
    description=(
        "Credit card brand. A value this gateway does not know yet is UNKNOWN, with "
        "the raw value in `creditCardTypeRaw`."
    )
)
class CreditCardType(Enum):
    MASTERCARD = "mastercard"
    VISA = "visa"
    UNKNOWN = "__unknown__"


@upstream_type(
    "Moneybird",
    keys={"moneybird_id": "id"},
    readers={"id": node_id("Note", "entity_id", "id")},
)
@strawberry.type(description="A note or to-do on a contact.")
class Note(Node):
    moneybird_id: strawberry.ID = strawberry.field(
        description=_MONEYBIRD_ID.format("note's") + " `deleteContactNote` takes it too."
    )
    administration_id: strawberry.ID | None
    entity_id: strawberry.ID | None = strawberry.field(
        description="The Moneybird id of the contact the note is on."
    )
    entity_type: str | None
    user_id: strawberry.ID | None
    assignee_id: strawberry.ID | None = strawberry.field(
        description="The user the to-do is assigned to."
    )
    todo: bool = strawberry.field(description="True when the note is a to-do.")
    note: str | None
    completed_at: datetime | None
    completed_by_id: strawberry.ID | None
    todo_type: str | None = strawberry.field(
        description="Moneybird's to-do type (a long, growing list), as sent."
    )
    data: JSON | None
    created_at: datetime | None
    updated_at: datetime | None


@upstream_type("Moneybird")
@strawberry.type(description="Something that happened to a contact, as Moneybird logged it.")
class ContactEvent:
    administration_id: strawberry.ID | None
    user_id: strawberry.ID | None
    action: str = strawberry.field(
        description="e.g. contact_created, contact_changed; Moneybird adds actions over time."
    )
    link_entity_id: strawberry.ID | None
    link_entity_type: str | None
    data: JSON | None = strawberry.field(
        description="Free-form details; for contact_changed, `changes` maps fields to [old, new]."
    )
    created_at: datetime | None
    updated_at: datetime | None


@upstream_type("Moneybird", keys={"moneybird_id": "id"})
@strawberry.type(
    description=(
        "The value of an administration-defined custom field on a contact: a value, "
        "not an object of its own, so it has no `id`."
    )
)
class CustomField:
    moneybird_id: strawberry.ID = strawberry.field(
        description=(
            "The custom field's id in Moneybird: the administration's field, the same on "
            "every contact. `CustomFieldInput.id` takes it."
        )
    )
    name: str | None
    value: str | None


@upstream_type(
    "Moneybird",
    keys={"moneybird_id": "id"},
    readers={"id": node_id("ContactPerson", "contact_id", "id")},
)
@strawberry.type(description="A person at a contact (a company's employee, say).")
class ContactPerson(Node):
    moneybird_id: strawberry.ID = strawberry.field(
        description=_MONEYBIRD_ID.format("person's")
        + " `updateContactPerson` and `deleteContactPerson` take it too."
    )
    contact_id: strawberry.ID | None = strawberry.field(
        description="The Moneybird id of the person's contact."
    )
    administration_id: strawberry.ID | None
    firstname: str | None
    lastname: str | None
    phone: str | None
    email: str | None
    department: str | None
    created_at: datetime | None
    updated_at: datetime | None
    version: BigInt | None


def display_name(raw: dict[str, Any]) -> str:
    company = reader.text(raw, "company_name")
    if company and company.strip():
        return company.strip()
    person = " ".join(
        part.strip()
        for part in (reader.text(raw, "firstname"), reader.text(raw, "lastname"))
        if part and part.strip()
    )
    if person:
        return person
    return reader.text(raw, "customer_id") or reader.identifier(raw, "id") or ""


def _embedded(cls: type, key: str, parent_key: str) -> Any:
    """A reader of the objects a contact embeds under `key`, each as a view of `cls`.
    Their global ids carry the contact's id, read from `parent_key` of each: that
    is given from the contact when an object comes without it."""

    def read(raw: dict[str, Any]) -> list[Any]:
        items = raw.get(key)
        if items.__class__ is not list:
            return []
        parent = raw.get("id")
        return [
            view(cls, with_parent(item, parent_key, parent))
            for item in items
            if isinstance(item, dict)
        ]

    return read


@upstream_type(
    "Moneybird",
    keys={
        "moneybird_id": "id",
        "delivery_method_raw": "delivery_method",
        "sepa_sequence_type_raw": "sepa_sequence_type",
        "credit_card_type_raw": "credit_card_type",
    },
    readers={
        "id": node_id("Contact", "id"),
        "display_name": display_name,
        "notes": _embedded(Note, "notes", "entity_id"),
        "contact_people": _embedded(ContactPerson, "contact_people", "contact_id"),
    },
)
@strawberry.type(
    description=(
        "A Moneybird contact: a customer or supplier. Every field of Moneybird's "
        "contact, in camelCase. " + _EMPTY_AS_NULL
    )
)
class Contact(Node):
    moneybird_id: strawberry.ID = strawberry.field(
        description=_MONEYBIRD_ID.format("contact's")
        + " Every argument that takes a contact's `id` takes this too."
    )
    administration_id: strawberry.ID | None
    company_name: str | None
    firstname: str | None
    lastname: str | None
    address1: str | None
    address2: str | None
    zipcode: str | None
    city: str | None
    country: str | None = strawberry.field(description="ISO 3166 two-letter code, e.g. NL.")
    phone: str | None
    delivery_method: DeliveryMethod | None
    delivery_method_raw: str | None = strawberry.field(
        description="The delivery method exactly as Moneybird sent it."
    )
    customer_id: str | None = strawberry.field(
        description="Unique in the administration; Moneybird assigns one when left empty."
    )
    tax_number: str | None
    chamber_of_commerce: str | None
    bank_account: str | None = strawberry.field(
        description="The SEPA IBAN of the contact; null when none is set."
    )
    is_trusted: bool | None
    max_transfer_amount: float | None
    attention: str | None
    email: str | None
    email_ubl: bool | None = strawberry.field(
        description="Whether a UBL file is attached when invoices are emailed."
    )
    send_invoices_to_attention: str | None
    send_invoices_to_email: str | None = strawberry.field(
        description="One or more email addresses, separated by commas."
    )
    send_estimates_to_attention: str | None
    send_estimates_to_email: str | None = strawberry.field(
        description="One or more email addresses, separated by commas."
    )
    direct_debit: bool | None
    sepa_active: bool | None
    sepa_iban: str | None
    sepa_iban_account_name: str | None
    sepa_bic: str | None
    sepa_mandate_id: str | None
    sepa_mandate_date: date | None
    sepa_sequence_type: SepaSequenceType | None
    sepa_sequence_type_raw: str | None
    credit_card_number: str | None
    credit_card_reference: str | None
    credit_card_type: CreditCardType | None
    credit_card_type_raw: str | None
    tax_number_validated_at: datetime | None
    tax_number_valid: bool | None
    invoice_workflow_id: strawberry.ID | None
    estimate_workflow_id: strawberry.ID | None
    si_identifier: str | None = strawberry.field(description="Peppol / e-invoicing identifier.")
    si_identifier_type: str | None
    moneybird_payments_mandate: bool | None
    created_at: datetime | None
    updated_at: datetime | None
    version: BigInt | None = strawberry.field(
        description="Changes whenever the contact changes (a Unix timestamp; 64-bit)."
    )
    sales_invoices_url: str | None
    archived: bool | None
    display_name: str = strawberry.field(
        description="The company name, else first and last name, else the customer id."
    )
    notes: list[Note] = strawberry.field(description="Embedded in the contact: no extra call.")
    events: list[ContactEvent] = strawberry.field(
        description="Embedded in the contact: no extra call."
    )
    custom_fields: list[CustomField] = strawberry.field(
        description="Embedded in the contact: no extra call."
    )
    contact_people: list[ContactPerson] = strawberry.field(
        description="Embedded in the contact: no extra call."
    )


@strawberry.type(
    description=(
        "A contact's version, to find what changed since a sync: a value, not an "
        "object of its own, so it has no `id`."
    )
)
class ContactVersion:
    contact_id: strawberry.ID = strawberry.field(description="The contact's global id, its `id`.")
    moneybird_id: strawberry.ID = strawberry.field(
        description="The contact's Moneybird id, its `moneybirdId`."
    )
    version: BigInt


@strawberry.type
class ContactEdge:
    cursor: str
    node: Contact


@strawberry.type(description="A page of contacts (Relay connection).")
class ContactConnection:
    edges: list[ContactEdge]
    page_info: PageInfo

    @strawberry.field(description="The contacts of `edges`, without cursors.")
    def nodes(self) -> list[Contact]:
        return [edge.node for edge in self.edges]

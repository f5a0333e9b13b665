"""Moneybird contacts as GraphQL types, built from upstream dicts by the tolerant reader."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from gateway.schema import reader
from gateway.schema.lazy import view_type, views_of
from gateway.schema.relay import PageInfo
from gateway.schema.scalars import BigInt, big_int

_EMPTY_AS_NULL = "Null when unset (Moneybird's empty strings are returned as null)."


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


@strawberry.type(description="A note or to-do on a contact.")
class Note:
    id: strawberry.ID
    administration_id: strawberry.ID | None
    entity_id: strawberry.ID | None
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

    @classmethod
    def from_upstream(cls, raw: dict[str, Any]) -> Note:
        return cast(Note, _NoteView(raw))


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

    @classmethod
    def from_upstream(cls, raw: dict[str, Any]) -> ContactEvent:
        return cast(ContactEvent, _ContactEventView(raw))


@strawberry.type(description="The value of an administration-defined custom field on a contact.")
class CustomField:
    id: strawberry.ID
    name: str | None
    value: str | None

    @classmethod
    def from_upstream(cls, raw: dict[str, Any]) -> CustomField:
        return cast(CustomField, _CustomFieldView(raw))


@strawberry.type(description="A person at a contact (a company's employee, say).")
class ContactPerson:
    id: strawberry.ID
    contact_id: strawberry.ID | None
    administration_id: strawberry.ID | None
    firstname: str | None
    lastname: str | None
    phone: str | None
    email: str | None
    department: str | None
    created_at: datetime | None
    updated_at: datetime | None
    version: BigInt | None

    @classmethod
    def from_upstream(cls, raw: dict[str, Any]) -> ContactPerson:
        return cast(ContactPerson, _ContactPersonView(raw))


@strawberry.type(
    description=(
        "A Moneybird contact: a customer or supplier. Every field of Moneybird's "
        "contact, in camelCase. " + _EMPTY_AS_NULL
    )
)
class Contact:
    id: strawberry.ID = strawberry.field(
        description="Moneybird id: an 18-digit number, always as an exact string."
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

    @classmethod
    def from_upstream(cls, raw: dict[str, Any]) -> Contact:
        return cast(Contact, _ContactView(raw))


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


@strawberry.type(description="A contact's id and version, to find what changed since a sync.")
class ContactVersion:
    id: strawberry.ID
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


_NoteView = view_type(
    "NoteView",
    {
        "id": lambda raw: strawberry.ID(reader.identifier(raw, "id") or ""),
        "administration_id": (reader.identifier, "administration_id"),
        "entity_id": (reader.identifier, "entity_id"),
        "entity_type": (reader.text, "entity_type"),
        "user_id": (reader.identifier, "user_id"),
        "assignee_id": (reader.identifier, "assignee_id"),
        "todo": lambda raw: bool(reader.boolean(raw, "todo")),
        "note": (reader.text, "note"),
        "completed_at": (reader.timestamp, "completed_at"),
        "completed_by_id": (reader.identifier, "completed_by_id"),
        "todo_type": (reader.text, "todo_type"),
        "data": (reader.json_object, "data"),
        "created_at": (reader.timestamp, "created_at"),
        "updated_at": (reader.timestamp, "updated_at"),
    },
)

_ContactEventView = view_type(
    "ContactEventView",
    {
        "administration_id": (reader.identifier, "administration_id"),
        "user_id": (reader.identifier, "user_id"),
        "action": lambda raw: reader.text(raw, "action") or "",
        "link_entity_id": (reader.identifier, "link_entity_id"),
        "link_entity_type": (reader.text, "link_entity_type"),
        "data": (reader.json_object, "data"),
        "created_at": (reader.timestamp, "created_at"),
        "updated_at": (reader.timestamp, "updated_at"),
    },
)

_CustomFieldView = view_type(
    "CustomFieldView",
    {
        "id": lambda raw: strawberry.ID(reader.identifier(raw, "id") or ""),
        "name": (reader.text, "name"),
        "value": (reader.text, "value"),
    },
)

_ContactPersonView = view_type(
    "ContactPersonView",
    {
        "id": lambda raw: strawberry.ID(reader.identifier(raw, "id") or ""),
        "contact_id": (reader.identifier, "contact_id"),
        "administration_id": (reader.identifier, "administration_id"),
        "firstname": (reader.text, "firstname"),
        "lastname": (reader.text, "lastname"),
        "phone": (reader.text, "phone"),
        "email": (reader.text, "email"),
        "department": (reader.text, "department"),
        "created_at": (reader.timestamp, "created_at"),
        "updated_at": (reader.timestamp, "updated_at"),
        "version": lambda raw: big_int(reader.integer(raw, "version")),
    },
)

_ContactView = view_type(
    "ContactView",
    {
        "id": lambda raw: strawberry.ID(reader.identifier(raw, "id") or ""),
        "administration_id": (reader.identifier, "administration_id"),
        "company_name": (reader.text, "company_name"),
        "firstname": (reader.text, "firstname"),
        "lastname": (reader.text, "lastname"),
        "address1": (reader.text, "address1"),
        "address2": (reader.text, "address2"),
        "zipcode": (reader.text, "zipcode"),
        "city": (reader.text, "city"),
        "country": (reader.text, "country"),
        "phone": (reader.text, "phone"),
        "delivery_method": lambda raw: reader.enum_member(
            DeliveryMethod, raw, "delivery_method", DeliveryMethod.UNKNOWN
        ),
        "delivery_method_raw": (reader.text, "delivery_method"),
        "customer_id": (reader.text, "customer_id"),
        "tax_number": (reader.text, "tax_number"),
        "chamber_of_commerce": (reader.text, "chamber_of_commerce"),
        "bank_account": (reader.text, "bank_account"),
        "is_trusted": (reader.boolean, "is_trusted"),
        "max_transfer_amount": (reader.number, "max_transfer_amount"),
        "attention": (reader.text, "attention"),
        "email": (reader.text, "email"),
        "email_ubl": (reader.boolean, "email_ubl"),
        "send_invoices_to_attention": (reader.text, "send_invoices_to_attention"),
        "send_invoices_to_email": (reader.text, "send_invoices_to_email"),
        "send_estimates_to_attention": (reader.text, "send_estimates_to_attention"),
        "send_estimates_to_email": (reader.text, "send_estimates_to_email"),
        "direct_debit": (reader.boolean, "direct_debit"),
        "sepa_active": (reader.boolean, "sepa_active"),
        "sepa_iban": (reader.text, "sepa_iban"),
        "sepa_iban_account_name": (reader.text, "sepa_iban_account_name"),
        "sepa_bic": (reader.text, "sepa_bic"),
        "sepa_mandate_id": (reader.text, "sepa_mandate_id"),
        "sepa_mandate_date": (reader.calendar_date, "sepa_mandate_date"),
        "sepa_sequence_type": lambda raw: reader.enum_member(
            SepaSequenceType, raw, "sepa_sequence_type", SepaSequenceType.UNKNOWN
        ),
        "sepa_sequence_type_raw": (reader.text, "sepa_sequence_type"),
        "credit_card_number": (reader.text, "credit_card_number"),
        "credit_card_reference": (reader.text, "credit_card_reference"),
        "credit_card_type": lambda raw: reader.enum_member(
            CreditCardType, raw, "credit_card_type", CreditCardType.UNKNOWN
        ),
        "credit_card_type_raw": (reader.text, "credit_card_type"),
        "tax_number_validated_at": (reader.timestamp, "tax_number_validated_at"),
        "tax_number_valid": (reader.boolean, "tax_number_valid"),
        "invoice_workflow_id": (reader.identifier, "invoice_workflow_id"),
        "estimate_workflow_id": (reader.identifier, "estimate_workflow_id"),
        "si_identifier": (reader.text, "si_identifier"),
        "si_identifier_type": (reader.text, "si_identifier_type"),
        "moneybird_payments_mandate": (reader.boolean, "moneybird_payments_mandate"),
        "created_at": (reader.timestamp, "created_at"),
        "updated_at": (reader.timestamp, "updated_at"),
        "version": lambda raw: big_int(reader.integer(raw, "version")),
        "sales_invoices_url": (reader.text, "sales_invoices_url"),
        "archived": (reader.boolean, "archived"),
        "display_name": display_name,
        "notes": views_of(_NoteView, "notes"),
        "events": views_of(_ContactEventView, "events"),
        "custom_fields": views_of(_CustomFieldView, "custom_fields"),
        "contact_people": views_of(_ContactPersonView, "contact_people"),
    },
)

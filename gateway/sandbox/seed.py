"""Deterministic demo data: the same contacts and counterparts on every start."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

ADMINISTRATION_ID = "123456789"
ENTITY_ID = "9d2b4c8f-2087-4738-ba91-7359683c49a4"
USER_ID = "496081346724103269"
CUSTOM_FIELDS = (
    ("496081346724103301", "Account manager"),
    ("496081346724103302", "Segment"),
)

_COMPANIES = (
    "Foobar Holding B.V.",
    "Appleseed Orchards",
    "Noordzee Logistiek",
    "Dijkstra & Zonen",
    "Kaasmakerij De Wit",
    "Tulip Software",
    "Van Dam Architecten",
    "Grachtengordel Design",
    "Polder Energy",
    "Molen Bakkerij",
    "Bright Harbor Ltd",
    "Zuidas Legal",
)
_FIRST = ("Jan", "Piet", "Anna", "Sanne", "Mark", "Lotte", "John", "Fatima", "Daan", "Emma")
_LAST = ("Janssen", "de Vries", "Bakker", "Visser", "Smit", "Appleseed", "Meijer", "Mulder")
_CITIES = (
    ("Amsterdam", "1012 AB"),
    ("Rotterdam", "3011 CD"),
    ("Utrecht", "3511 EF"),
    ("Groningen", "9711 GH"),
    ("Eindhoven", "5611 IJ"),
    ("Berlin", "10115"),
)
_STREETS = ("Hoofdstraat", "Kerkstraat", "Dorpsstraat", "Stationsweg", "Flughafenstrasse")
_NOTES = (
    "Called about the overdue invoice.",
    "Prefers invoices in English.",
    "Send the new price list in January.",
    "Asked for a quote for next year.",
)
_SEGMENTS = ("Retail", "Wholesale", "Public sector", "")


class IdSequence:
    """18-digit, increasing ids like Moneybird's."""

    def __init__(self, start: int = 496081400000000000) -> None:
        self._next = start

    def __call__(self) -> str:
        self._next += 4_194_307
        return str(self._next)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_stamp() -> str:
    return _stamp(datetime.now(UTC))


def sales_invoices_url(administration_id: str, contact_id: str) -> str:
    digest = hashlib.sha256(f"{administration_id}:{contact_id}".encode()).hexdigest()
    return f"https://moneybird.dev/{administration_id}/sales_invoices/{digest}/all"


def blank_contact(
    contact_id: str, administration_id: str, customer_id: str, created: str
) -> dict[str, Any]:
    """A contact with every field of Moneybird's contact_response, unset as Moneybird does."""
    version = int(datetime.fromisoformat(created).timestamp())
    return {
        "id": contact_id,
        "administration_id": int(administration_id),
        "company_name": "",
        "firstname": None,
        "lastname": None,
        "address1": "",
        "address2": "",
        "zipcode": "",
        "city": "",
        "country": "NL",
        "phone": "",
        "delivery_method": "Email",
        "customer_id": customer_id,
        "tax_number": "",
        "chamber_of_commerce": "",
        "bank_account": "",
        "is_trusted": False,
        "max_transfer_amount": None,
        "attention": "",
        "email": "",
        "email_ubl": True,
        "send_invoices_to_attention": "",
        "send_invoices_to_email": "",
        "send_estimates_to_attention": "",
        "send_estimates_to_email": "",
        "direct_debit": False,
        "sepa_active": False,
        "sepa_iban": "",
        "sepa_iban_account_name": "",
        "sepa_bic": "",
        "sepa_mandate_id": "",
        "sepa_mandate_date": None,
        "sepa_sequence_type": "RCUR",
        "credit_card_number": "",
        "credit_card_reference": "",
        "credit_card_type": None,
        "tax_number_validated_at": None,
        "tax_number_valid": None,
        "invoice_workflow_id": None,
        "estimate_workflow_id": None,
        "si_identifier": "",
        "si_identifier_type": None,
        "moneybird_payments_mandate": False,
        "created_at": created,
        "updated_at": created,
        "version": version,
        "sales_invoices_url": sales_invoices_url(administration_id, contact_id),
        "notes": [],
        "custom_fields": [],
        "contact_people": [],
        "archived": False,
        "events": [],
    }


def event(action: str, created: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "administration_id": int(ADMINISTRATION_ID),
        "user_id": USER_ID,
        "action": action,
        "link_entity_id": None,
        "link_entity_type": None,
        "data": data or {},
        "created_at": created,
        "updated_at": created,
    }


def seed_contacts(next_id: IdSequence, count: int = 300) -> list[dict[str, Any]]:
    rng = random.Random(20261121)  # noqa: S311 - demo data, not secrets
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    contacts = []
    for index in range(count):
        created = _stamp(start + timedelta(hours=7 * index, seconds=rng.randint(0, 3599)))
        contact = blank_contact(next_id(), ADMINISTRATION_ID, str(index + 1), created)
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        city, zipcode = rng.choice(_CITIES)
        is_company = index % 3 != 2
        contact.update(
            company_name=f"{rng.choice(_COMPANIES)} {index + 1}" if is_company else "",
            firstname=first if not is_company or index % 2 == 0 else None,
            lastname=last if not is_company or index % 2 == 0 else None,
            address1=f"{rng.choice(_STREETS)} {rng.randint(1, 200)}",
            zipcode=zipcode,
            city=city,
            country="DE" if city == "Berlin" else "NL",
            phone=f"+31 6 {rng.randint(10000000, 99999999)}" if index % 4 else "",
            email=f"{first.lower()}.{index + 1}@example.com",
            send_invoices_to_email=f"billing.{index + 1}@example.com",
            delivery_method=rng.choice(("Email", "Email", "Post", "Manual", "Peppol")),
            sepa_sequence_type=rng.choice(("RCUR", "FRST")),
        )
        if index % 10 == 0:
            contact.update(
                sepa_active=True,
                sepa_iban="NL50TEST0166567191",
                bank_account="NL50TEST0166567191",
                sepa_iban_account_name=contact["company_name"] or f"{first} {last}",
                sepa_bic="RABONL2U",
                sepa_mandate_id=f"MAN{index:05d}",
                sepa_mandate_date="2025-01-01",
            )
        contact["events"].append(event("contact_created", created))
        for _ in range(rng.randint(0, 3)):
            contact["notes"].append(_note(next_id(), contact["id"], rng.choice(_NOTES), created))
        manager = rng.choice(_FIRST)
        contact["custom_fields"] = [
            {"id": CUSTOM_FIELDS[0][0], "name": CUSTOM_FIELDS[0][1], "value": manager},
            {
                "id": CUSTOM_FIELDS[1][0],
                "name": CUSTOM_FIELDS[1][1],
                "value": rng.choice(_SEGMENTS),
            },
        ]
        for _ in range(rng.randint(0, 2) if is_company else 0):
            contact["contact_people"].append(
                contact_person(
                    next_id(), contact["id"], rng.choice(_FIRST), rng.choice(_LAST), created
                )
            )
        if index % 25 == 24:
            contact["archived"] = True
        contacts.append(contact)
    return contacts


def _note(note_id: str, contact_id: str, text: str, created: str) -> dict[str, Any]:
    return note(note_id, contact_id, text, created, todo=False, assignee_id=None)


def note(
    note_id: str, contact_id: str, text: str, created: str, *, todo: bool, assignee_id: str | None
) -> dict[str, Any]:
    return {
        "id": note_id,
        "administration_id": int(ADMINISTRATION_ID),
        "entity_id": contact_id,
        "entity_type": "Contact",
        "user_id": USER_ID,
        "assignee_id": assignee_id,
        "todo": todo,
        "note": text,
        "completed_at": None,
        "completed_by_id": None,
        "todo_type": None,
        "data": {},
        "created_at": created,
        "updated_at": created,
    }


def contact_person(
    person_id: str, contact_id: str, first: str, last: str, created: str
) -> dict[str, Any]:
    return {
        "id": person_id,
        "contact_id": contact_id,
        "administration_id": int(ADMINISTRATION_ID),
        "firstname": first,
        "lastname": last,
        "phone": None,
        "email": f"{first.lower()}.{last.lower().replace(' ', '')}@example.com",
        "department": None,
        "created_at": created,
        "updated_at": created,
        "version": int(datetime.fromisoformat(created).timestamp()),
    }


def seed_counterparts(count: int = 60) -> list[dict[str, Any]]:
    """Monite counterparts, each organization with one to four contacts, one default."""
    rng = random.Random(31)  # noqa: S311 - demo data, not secrets
    start = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)

    def new_uuid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    counterparts = []
    for index in range(count):
        created = _stamp(start + timedelta(hours=11 * index))
        counterpart: dict[str, Any] = {
            "id": new_uuid(),
            "created_at": created,
            "updated_at": created,
            "created_automatically": False,
            "created_by_entity_user_id": new_uuid(),
            "language": "en",
            "reminders_enabled": index % 2 == 0,
            "tax_id": f"DE{rng.randint(100000000, 999999999)}" if index % 3 else None,
            "contacts": [],
        }
        if counterpart["tax_id"] is None:
            del counterpart["tax_id"]
        if index % 5 == 4:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            counterpart["type"] = "individual"
            counterpart["individual"] = {
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}.{index}@example.com",
                "phone": f"+49 30 {rng.randint(1000000, 9999999)}",
                "is_customer": True,
                "is_vendor": index % 2 == 0,
                "title": rng.choice(("Mr.", "Ms.", "Dr.")),
            }
        else:
            counterpart["type"] = "organization"
            counterpart["organization"] = {
                "legal_name": f"{rng.choice(_COMPANIES)} GmbH {index + 1}",
                "email": f"office.{index}@example.com",
                "phone": f"+49 30 {rng.randint(1000000, 9999999)}",
                "is_customer": index % 3 != 1,
                "is_vendor": index % 3 != 0,
            }
            for position in range(rng.randint(1, 4)):
                first, last = rng.choice(_FIRST), rng.choice(_LAST)
                city, postal_code = rng.choice(_CITIES)
                counterpart["contacts"].append(
                    {
                        "id": new_uuid(),
                        "counterpart_id": counterpart["id"],
                        "first_name": first,
                        "last_name": last,
                        "email": f"{first.lower()}.{last.lower().replace(' ', '')}@example.org",
                        "phone": f"555{rng.randint(1000000, 9999999)}",
                        "title": rng.choice(("Mr.", "Ms.", "Dr.", "Prof.")),
                        "is_default": position == 0,
                        "address": {
                            "city": city,
                            "country": "DE" if city == "Berlin" else "NL",
                            "line1": f"{rng.choice(_STREETS)} {rng.randint(1, 200)}",
                            "postal_code": postal_code,
                        },
                    }
                )
        counterparts.append(counterpart)
    return counterparts

"""Counterparts read from Monite's nested shape: details by type, tolerant of junk."""

from __future__ import annotations

from gateway.schema.counterparts.types import Counterpart, CounterpartContact, CounterpartType
from gateway.schema.views import view


def test_an_individual_takes_its_details_from_the_individual_object() -> None:
    counterpart = view(
        Counterpart,
        {
            "id": "A1",
            "type": "individual",
            "individual": {"first_name": "Ann", "last_name": "Lee", "title": "Dr.", "email": "a@x"},
            "organization": "junk",
        },
    )
    assert (counterpart.name, counterpart.email, counterpart.type) == (
        "Ann Lee",
        "a@x",
        CounterpartType.INDIVIDUAL,
    )
    assert counterpart.organization is None
    assert counterpart.individual is not None
    assert (counterpart.individual.title, counterpart.individual.is_vendor) == ("Dr.", None)


def test_an_organization_is_named_by_its_legal_name() -> None:
    counterpart = view(
        Counterpart,
        {
            "id": "B2",
            "type": "organization",
            "organization": {"legal_name": "Acme", "is_customer": True},
        },
    )
    assert (counterpart.name, counterpart.is_customer, counterpart.individual) == (
        "Acme",
        True,
        None,
    )
    assert counterpart.organization is not None
    assert counterpart.organization.legal_name == "Acme"


def test_a_contact_address_is_read_when_it_is_an_object() -> None:
    contact = view(
        CounterpartContact,
        {"id": "c", "address": {"line1": "Main 1", "country": "NL", "postal_code": ""}},
    )
    assert contact.address is not None
    assert (contact.address.line1, contact.address.country, contact.address.postal_code) == (
        "Main 1",
        "NL",
        None,
    )
    assert view(CounterpartContact, {"id": "d", "address": [1]}).address is None

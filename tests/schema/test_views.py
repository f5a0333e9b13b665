"""Views derived from the Strawberry types: every field read, none declared twice."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

from gateway.compat.strawberry import field_shapes
from gateway.sandbox.seed import ADMINISTRATION_ID, IdSequence, seed_contacts, seed_counterparts
from gateway.schema.contacts.types import Contact, ContactPerson, CustomField, DeliveryMethod, Note
from gateway.schema.counterparts.types import Counterpart, CounterpartContact
from gateway.schema.views import upstream_type, view

# Fields read under another key or by a function of the whole object.
CONTACT_EXCEPTIONS = {
    "id",
    "moneybird_id",
    "delivery_method_raw",
    "sepa_sequence_type_raw",
    "credit_card_type_raw",
}


def plain_fields(cls: type) -> list[str]:
    return [shape.name for shape in field_shapes(cls) if not shape.resolved]


@pytest.mark.parametrize(
    "cls", [Contact, Note, CustomField, ContactPerson, Counterpart, CounterpartContact]
)
def test_every_field_reads_an_empty_object_without_failing(cls: type) -> None:
    empty = view(cls, {})
    assert isinstance(empty, cls)
    for name in plain_fields(cls):
        getattr(empty, name)


def test_a_contact_view_reads_each_field_from_its_own_key() -> None:
    [raw] = seed_contacts(IdSequence(), 1)
    contact = view(Contact, raw)
    for name in plain_fields(Contact):
        value = getattr(contact, name)
        if name in CONTACT_EXCEPTIONS or name == "display_name":
            continue
        upstream = raw[name]
        if isinstance(upstream, list):
            assert len(value) == len(upstream), name
        elif upstream in ("", None):
            assert value in (None, [], False), name
        elif name.endswith("_at") or name.endswith("_date"):
            assert value is not None, name
        elif name in ("delivery_method", "sepa_sequence_type", "credit_card_type"):
            assert value.value == upstream, name
        else:
            assert str(value) == str(upstream), name
    assert str(raw["administration_id"]) == ADMINISTRATION_ID
    assert contact.moneybird_id == str(raw["id"])


def test_the_raw_fields_read_the_enum_keys() -> None:
    contact = view(Contact, {"delivery_method": "Carrier pigeon"})
    assert contact.delivery_method is DeliveryMethod.UNKNOWN
    assert contact.delivery_method_raw == "Carrier pigeon"


def test_a_counterpart_view_reads_the_nested_details() -> None:
    [raw] = seed_counterparts(1)
    counterpart = view(Counterpart, raw)
    details: dict[str, Any] = raw.get("organization") or raw["individual"]
    assert counterpart.email == details["email"]
    assert counterpart.is_customer == details["is_customer"]


def test_a_type_not_declared_for_an_upstream_has_no_view() -> None:
    @strawberry.type
    class Undeclared:
        name: str

    with pytest.raises(TypeError, match="upstream_type"):
        view(Undeclared, {"name": "x"})


def test_a_list_of_scalars_needs_a_reader_of_its_own() -> None:
    @upstream_type("Moneybird")
    @strawberry.type
    class Tagged:
        tags: list[str]

    with pytest.raises(TypeError, match="tags"):
        view(Tagged, {"tags": ["a"]})

"""An administration's contacts in memory: versions, deletions, Moneybird's lookups."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.mirror.contacts import AdministrationContacts, UnknownFilter


def contact(key: int, version: int = 1, **fields: Any) -> dict[str, Any]:
    return {"id": str(key), "version": version, "archived": False, **fields}


def test_an_older_version_never_overwrites_a_newer_one() -> None:
    held = AdministrationContacts()
    assert held.apply(contact(1, 5, city="Utrecht"))
    assert not held.apply(contact(1, 4, city="Delft"))
    assert held.apply(contact(1, 5, city="Utrecht"))  # the same version again is harmless
    assert held.apply(contact(1, 6, city="Leiden"))
    assert held.get("1") == contact(1, 6, city="Leiden")


def test_a_deleted_contact_stays_deleted_against_an_older_change() -> None:
    held = AdministrationContacts()
    held.apply(contact(1, 5))
    assert held.remove("1", at=10)
    assert not held.apply(contact(1, 9))  # a change from before the deletion, arriving late
    assert held.get("1") is None
    assert held.apply(contact(1, 11))  # changed after the deletion: Moneybird restored it


def test_ids_are_canonical_and_junk_is_ignored() -> None:
    held = AdministrationContacts()
    assert held.apply({"id": 7, "version": 1})
    assert not held.apply({"id": 7.0, "version": 2})
    assert not held.apply({"id": "x7", "version": 2})
    assert held.get("7") == {"id": 7, "version": 1}


def test_customer_ids_find_only_contacts_not_archived() -> None:
    held = AdministrationContacts()
    held.apply(contact(1, customer_id="A"))
    held.apply({**contact(2, customer_id="B"), "archived": True})
    assert held.by_customer_id("A") == contact(1, customer_id="A")
    assert held.by_customer_id("B") is None


def test_a_window_pages_in_id_order() -> None:
    held = AdministrationContacts()
    for key in (30, 4, 200, 11):
        held.apply(contact(key))
    first = held.window(offset=0, size=3, query=None, filter_terms=[], include_archived=None)
    assert [c["id"] for c in first.contacts] == ["4", "11", "30"]
    assert first.has_next_page
    last = held.window(offset=3, size=3, query=None, filter_terms=[], include_archived=None)
    assert [c["id"] for c in last.contacts] == ["200"]
    assert not last.has_next_page


def test_a_filter_moneybird_does_not_document_is_refused() -> None:
    held = AdministrationContacts()
    held.apply(contact(1))
    with pytest.raises(UnknownFilter):
        held.window(
            offset=0, size=1, query=None, filter_terms=[("todo", "x")], include_archived=None
        )

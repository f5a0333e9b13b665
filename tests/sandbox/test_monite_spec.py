"""The sandbox's Monite answers validate against the official OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.sandbox.state import SandboxState
from tests.sandbox.spec import validate

CONTACTS = "/counterparts/{counterpart_id}/contacts"
CONTACT = CONTACTS + "/{contact_id}"
NEW_CONTACT = {
    "first_name": "Mary",
    "last_name": "O'Brien",
    "address": {
        "city": "Berlin",
        "country": "DE",
        "line1": "Flughafenstrasse 52",
        "postal_code": "10115",
    },
}


@pytest.fixture
def monite(sandbox: SandboxState, sandbox_url: str) -> Iterator[httpx.Client]:
    headers = {
        "Authorization": "Bearer demo",
        "x-monite-version": "2024-01-31",
        "x-monite-entity-id": sandbox.monite.entity_id,
    }
    with httpx.Client(base_url=f"{sandbox_url}/monite", headers=headers) as client:
        yield client


def an_organization(sandbox: SandboxState) -> dict[str, Any]:
    return next(c for c in sandbox.monite.counterparts.values() if len(c["contacts"]) >= 2)


def test_list_and_get_validate(monite: httpx.Client, sandbox: SandboxState) -> None:
    listing = monite.get("/counterparts", params={"limit": 100})
    assert listing.status_code == 200
    validate("monite", "/counterparts", "GET", 200, listing.json())
    one = monite.get(f"/counterparts/{an_organization(sandbox)['id']}")
    validate("monite", "/counterparts/{counterpart_id}", "GET", 200, one.json())


def test_contacts_validate(monite: httpx.Client, sandbox: SandboxState) -> None:
    counterpart = an_organization(sandbox)
    listing = monite.get(f"/counterparts/{counterpart['id']}/contacts")
    validate("monite", CONTACTS, "GET", 200, listing.json())
    created = monite.post(f"/counterparts/{counterpart['id']}/contacts", json=NEW_CONTACT)
    assert created.status_code == 200  # Monite answers 200, not 201
    validate("monite", CONTACTS, "POST", 200, created.json())
    contact_id = created.json()["id"]
    patched = monite.patch(
        f"/counterparts/{counterpart['id']}/contacts/{contact_id}", json={"title": "Ms."}
    )
    validate("monite", CONTACT, "PATCH", 200, patched.json())
    default = monite.post(f"/counterparts/{counterpart['id']}/contacts/{contact_id}/make_default")
    validate("monite", CONTACT + "/make_default", "POST", 200, default.json())
    assert sum(c["is_default"] for c in counterpart["contacts"]) == 1
    previous = next(c for c in counterpart["contacts"] if c["id"] != contact_id)
    deleted = monite.delete(f"/counterparts/{counterpart['id']}/contacts/{previous['id']}")
    assert deleted.status_code == 204


def test_errors_validate(monite: httpx.Client, sandbox: SandboxState) -> None:
    missing = monite.get("/counterparts/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    validate("monite", "/counterparts/{counterpart_id}", "GET", 404, missing.json())
    counterpart = an_organization(sandbox)
    bad = monite.post(f"/counterparts/{counterpart['id']}/contacts", json={"first_name": "x"})
    assert bad.status_code == 422
    validate("monite", CONTACTS, "POST", 422, bad.json())
    assert {tuple(d["loc"]) for d in bad.json()["detail"]} == {
        ("body", "last_name"),
        ("body", "address"),
    }


@pytest.mark.parametrize("header", ["x-monite-version", "x-monite-entity-id"])
def test_calls_without_the_monite_headers_are_refused(monite: httpx.Client, header: str) -> None:
    headers = dict(monite.headers)
    del headers[header]
    response = httpx.get(f"{monite.base_url}counterparts", headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", header]


def test_calls_without_a_token_are_refused(monite: httpx.Client) -> None:
    headers = dict(monite.headers)
    del headers["authorization"]
    response = httpx.get(f"{monite.base_url}counterparts", headers=headers)
    assert response.status_code == 401

"""The sandbox's Moneybird answers validate against the official OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import jsonschema
import pytest

from gateway.sandbox.state import SandboxState
from tests.sandbox.spec import validate

ADMIN = "123456789"
PREFIX = "/{administration_id}/contacts"


@pytest.fixture
def moneybird(sandbox: SandboxState, sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{sandbox_url}/moneybird/{ADMIN}",
        headers={"Authorization": "Bearer demo"},
    ) as client:
        yield client


def first_id(sandbox: SandboxState) -> str:
    return next(iter(sandbox.moneybird.contacts))


def test_list_validates(moneybird: httpx.Client) -> None:
    response = moneybird.get("/contacts.json", params={"per_page": 100, "include_archived": "true"})
    assert response.status_code == 200
    assert len(response.json()) == 100
    validate("moneybird", PREFIX + "{format}", "GET", 200, response.json())


def test_list_pages_carry_a_link_header(moneybird: httpx.Client) -> None:
    response = moneybird.get("/contacts.json", params={"per_page": 10, "page": 2})
    assert 'rel="next"' in response.headers["link"]
    assert 'rel="prev"' in response.headers["link"]


def test_per_page_over_100_is_the_documented_400(moneybird: httpx.Client) -> None:
    response = moneybird.get("/contacts.json", params={"per_page": 101})
    assert response.status_code == 400
    assert response.json() == {"error": "per_page does not have a valid value"}


def test_synchronization_validates(moneybird: httpx.Client, sandbox: SandboxState) -> None:
    ids = [int(i) for i in list(sandbox.moneybird.contacts)[:120]]
    response = moneybird.post("/contacts/synchronization.json", json={"ids": ids})
    assert response.status_code == 200
    assert len(response.json()) == 100  # "a maximum of 100 contacts, even if more ids"
    validate("moneybird", PREFIX + "/synchronization{format}", "POST", 200, response.json())


def test_synchronization_without_ids_is_the_documented_400(moneybird: httpx.Client) -> None:
    response = moneybird.post("/contacts/synchronization.json", json={})
    assert response.status_code == 400
    assert response.json() == {"error": "Ids is required", "symbolic": {"ids": "required"}}
    validate("moneybird", PREFIX + "/synchronization{format}", "POST", 400, response.json())


def test_versions_validate(moneybird: httpx.Client) -> None:
    response = moneybird.get("/contacts/synchronization.json")
    validate("moneybird", PREFIX + "/synchronization{format}", "GET", 200, response.json())


def test_get_and_404_validate(moneybird: httpx.Client, sandbox: SandboxState) -> None:
    found = moneybird.get(f"/contacts/{first_id(sandbox)}.json")
    validate("moneybird", PREFIX + "/{id}{format}", "GET", 200, found.json())
    missing = moneybird.get("/contacts/34123123.json")
    assert missing.status_code == 404
    assert missing.json() == {"error": "record not found", "symbolic": {"id": "not_found"}}
    validate("moneybird", PREFIX + "/{id}{format}", "GET", 404, missing.json())


def test_customer_id_validates(moneybird: httpx.Client) -> None:
    response = moneybird.get("/contacts/customer_id/1.json")
    validate(
        "moneybird", PREFIX + "/customer_id/{customer_id}{format}", "GET", 200, response.json()
    )


def test_filter_validates(moneybird: httpx.Client) -> None:
    response = moneybird.get("/contacts/filter.json", params={"filter": "first_name:piet"})
    assert response.status_code == 200
    assert all(c["firstname"].lower() == "piet" for c in response.json())
    validate("moneybird", PREFIX + "/filter{format}", "GET", 200, response.json())


def test_no_token_is_401(sandbox: SandboxState, sandbox_url: str) -> None:
    response = httpx.get(f"{sandbox_url}/moneybird/{ADMIN}/contacts.json")
    assert response.status_code == 401


def test_validation_catches_a_wrong_shape(moneybird: httpx.Client, sandbox: SandboxState) -> None:
    contact = dict(moneybird.get(f"/contacts/{first_id(sandbox)}.json").json())
    contact["not_a_moneybird_field"] = 1
    with pytest.raises(jsonschema.ValidationError):
        validate("moneybird", PREFIX + "/{id}{format}", "GET", 200, contact)

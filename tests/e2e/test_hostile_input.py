"""Limits on what a client may ask: each refused with a clear error and no upstream call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.sandbox.state import SandboxState
from tests.conftest import MONEYBIRD_HEADERS, gateway_settings
from tests.servers import serve


@pytest.fixture(scope="module")
def strict_url(sandbox_url: str) -> Iterator[str]:
    settings = gateway_settings(
        sandbox_url,
        max_query_depth=3,
        max_aliases=3,
        max_tokens=200,
        max_body_bytes=2_000,
        max_batch_size=3,
        introspection=False,
        cors_origins="https://app.example.com",
    )
    with serve(create_app(settings)) as url:
        yield url


def post(url: str, query: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{url}/graphql", json={"query": query}, headers=MONEYBIRD_HEADERS, **kwargs)


def test_too_deep(strict_url: str, sandbox: SandboxState) -> None:
    body = post(strict_url, "{ contacts { edges { node { notes { note } } } } }").json()
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert sandbox.requests() == []


def test_too_many_aliases(strict_url: str, sandbox: SandboxState) -> None:
    aliases = " ".join(f'a{i}: contact(id: "{i + 1}") {{ id }}' for i in range(4))
    body = post(strict_url, f"{{ {aliases} }}").json()
    assert "aliases" in body["errors"][0]["message"]
    assert sandbox.requests() == []


def test_too_many_tokens(strict_url: str, sandbox: SandboxState) -> None:
    fields = " ".join("id" for _ in range(200))
    body = post(strict_url, f'{{ contact(id: "1") {{ {fields} }} }}').json()
    assert "token" in body["errors"][0]["message"].lower()
    assert sandbox.requests() == []


def test_too_large_a_body(strict_url: str, sandbox: SandboxState) -> None:
    response = post(strict_url, "{ __typename }" + " " * 3_000)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert sandbox.requests() == []


def test_introspection_can_be_switched_off(strict_url: str) -> None:
    body = post(strict_url, "{ __schema { types { name } } }").json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_no_field_suggestions(strict_url: str) -> None:
    body = post(strict_url, '{ contac(id: "1") { id } }').json()
    assert "Did you mean" not in body["errors"][0]["message"]


def test_cors_allows_only_listed_origins(strict_url: str) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-moneybird-token",
    }
    allowed = httpx.options(
        f"{strict_url}/graphql", headers={"Origin": "https://app.example.com", **preflight}
    )
    refused = httpx.options(
        f"{strict_url}/graphql", headers={"Origin": "https://evil.example", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in refused.headers


def test_too_large_a_batch(strict_url: str, sandbox: SandboxState) -> None:
    response = httpx.post(
        f"{strict_url}/graphql",
        json=[{"query": '{ contact(id: "1") { id } }'}] * 4,
        headers=MONEYBIRD_HEADERS,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BATCH_LIMIT_EXCEEDED"
    assert sandbox.requests() == []


def test_a_body_that_is_not_json_is_a_400(gateway_url: str, sandbox: SandboxState) -> None:
    response = httpx.post(
        f"{gateway_url}/graphql",
        content=b"{not json",
        headers={**MONEYBIRD_HEADERS, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert sandbox.requests() == []

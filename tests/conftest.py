"""Shared fixtures: the sandbox and the gateway, each served by uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.sandbox.app import create_sandbox_app
from gateway.sandbox.recorder import RecordedRequest
from gateway.sandbox.state import SandboxState
from gateway.settings import Settings
from tests.servers import serve

MONEYBIRD_HEADERS = {"X-Moneybird-Token": "mb-test-token"}
MONITE_HEADERS = {"X-Monite-Token": "monite-test-token"}


@pytest.fixture(scope="session")
def sandbox_state() -> SandboxState:
    return SandboxState()


@pytest.fixture(scope="session")
def sandbox_url(sandbox_state: SandboxState) -> Iterator[str]:
    with serve(create_sandbox_app(sandbox_state)) as url:
        yield url


@pytest.fixture
def sandbox(sandbox_state: SandboxState, sandbox_url: str) -> SandboxState:
    """The running sandbox, back to its seeded data, with an empty log and no faults.

    Waits first for requests a previous test left in flight (a slow upstream the
    gateway gave up on), so that none lands in this test's log."""
    sandbox_state.log.wait_idle(10)
    sandbox_state.reset()
    return sandbox_state


def gateway_settings(sandbox_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "moneybird_base_url": f"{sandbox_url}/moneybird",
        "monite_base_url": f"{sandbox_url}/monite",
        # Tests share one gateway and token, and reset the sandbox between them: a
        # budget sized for Moneybird, or Monite answers kept across tests, would
        # leak from one test into the next. tests/upstream sets them on purpose.
        "moneybird_budget": "1000000/1",
        "monite_max_staleness": 0,
        "moneybird_administration_id": "123456789",
        "monite_entity_id": "9d2b4c8f-2087-4738-ba91-7359683c49a4",
        # Tests share one gateway and inject failures on purpose: the breaker has its own test.
        "breaker_threshold": 1000,
        # Every read goes to the sandbox, as most tests count and fault the calls a read
        # makes; tests/mirror runs gateways with the mirror on.
        "moneybird_mirror": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def gateway_url(sandbox_url: str) -> Iterator[str]:
    with serve(create_app(gateway_settings(sandbox_url))) as url:
        yield url


@dataclass
class GraphQLClient:
    http: httpx.Client

    def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST a query; `headers` replaces the default credentials when given."""
        response = self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={**MONEYBIRD_HEADERS, **MONITE_HEADERS} if headers is None else headers,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def gateway(gateway_url: str, sandbox: SandboxState) -> Iterator[GraphQLClient]:
    with httpx.Client(base_url=gateway_url, timeout=30) as http:
        yield GraphQLClient(http)


def calls(sandbox: SandboxState, upstream: str = "moneybird") -> list[RecordedRequest]:
    return sandbox.requests(upstream)

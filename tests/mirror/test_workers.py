"""The workers of `gateway serve` share the mirror: it is built once, and a write or
a webhook push that reaches one worker is seen through every worker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.sandbox.state import SandboxState
from tests.conftest import calls
from tests.servers import free_port, gateway_serve

HEADERS = {"X-Moneybird-Token": "office", "X-Monite-Token": "monite"}
READ = "query($id: ID!) { contact(id: $id) { id city } counterparts(first: 1) { edges { node { id } } } }"


def post(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    # A connection of its own, so that the kernel hands it to either worker.
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables or {}}, headers=HEADERS
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


@pytest.fixture
def workers(sandbox_url: str, sandbox: SandboxState, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "MONEYBIRD_BASE_URL": f"{sandbox_url}/moneybird",
        "MONITE_BASE_URL": f"{sandbox_url}/monite",
        "MONEYBIRD_ADMINISTRATION_ID": "123456789",
        "MONITE_ENTITY_ID": sandbox.entity_id,
        "GATEWAY_PUBLIC_URL": url,
        "GATEWAY_MONEYBIRD_MAX_STALENESS": "3600",
        # Each worker keeps the Monite answer: two Monite calls prove both workers served.
        "GATEWAY_MONITE_MAX_STALENESS": "3600",
        "GATEWAY_LOG_LEVEL": "warning",
        "TMPDIR": str(tmp_path),
    }
    with gateway_serve(env, workers=2, port=port) as served:
        yield served.url


def test_the_workers_share_one_mirror(
    workers: str, sandbox: SandboxState, sandbox_url: str
) -> None:
    contact_id = next(iter(sandbox.moneybird.contacts))
    # until both workers have served (each asks Monite once)
    deadline = time.monotonic() + 20
    while len([c for c in calls(sandbox, "monite") if c.path == "/counterparts"]) < 2:
        post(workers, READ, {"id": contact_id})
        assert time.monotonic() < deadline, "one worker served every request"
    moneybird = [(c.method, c.path) for c in calls(sandbox) if "webhooks" not in c.path]
    contacts = len(sandbox.moneybird.contacts)
    # built once for both: the versions list, then the contacts 100 a call
    assert moneybird == [("GET", "/123456789/contacts/synchronization.json")] + [
        ("POST", "/123456789/contacts/synchronization.json")
    ] * -(-contacts // 100)

    # a write through one worker is seen through every worker at once
    post(
        workers,
        'mutation($id: ID!) { updateContact(id: $id, input: { city: "Sloten" }) { contact { id } } }',
        {"id": contact_id},
    )
    for _ in range(12):
        assert post(workers, READ, {"id": contact_id})["data"]["contact"]["city"] == "Sloten"

    # a change made in Moneybird is pushed to one worker and seen through every worker
    response = httpx.patch(
        f"{sandbox_url}/moneybird/123456789/contacts/{contact_id}.json",
        json={"contact": {"city": "Hindeloopen"}},
        headers={"authorization": "Bearer someone-else"},
    )
    assert response.status_code == 200
    changed_at = time.monotonic()
    seen = 0
    while seen < 12:
        city = post(workers, READ, {"id": contact_id})["data"]["contact"]["city"]
        if city == "Hindeloopen":
            seen += 1
        else:
            assert seen == 0, "a worker went back to the older city"
            assert time.monotonic() - changed_at < 1.0, "the push was not seen within a second"

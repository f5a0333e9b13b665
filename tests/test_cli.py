"""`gateway serve` on a fresh setup: the embedded sandbox, GraphiQL, a real query."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.servers import Process, gateway_serve


@pytest.fixture(scope="module")
def served() -> Iterator[Process]:
    # no upstream configured: the embedded sandbox
    with gateway_serve({}, ready="/healthz", output=True) as process:
        yield process


def test_serve_answers_a_query_from_the_embedded_sandbox(served: Process) -> None:
    url = served.url
    response = httpx.post(
        f"{url}/graphql",
        json={"query": "{ contacts(first: 2) { edges { node { id displayName } } } }"},
        headers={"X-Moneybird-Token": "demo"},
    )
    assert response.status_code == 200
    edges = response.json()["data"]["contacts"]["edges"]
    assert len(edges) == 2
    assert response.headers["x-request-id"]


def test_serve_opens_graphiql_in_a_browser(served: Process) -> None:
    url = served.url
    response = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_serve_says_it_uses_the_sandbox(served: Process) -> None:
    url, process = served.url, served.process
    assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}
    process.terminate()
    output = process.communicate(timeout=10)[0]
    assert f"GraphiQL: {url}/graphql" in output
    assert "embedded sandbox" in output

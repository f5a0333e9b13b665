"""`gateway serve` on a fresh setup: the embedded sandbox, GraphiQL, a real query."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONEYBIRD_", "MONITE_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError(f"gateway serve did not start: {process.communicate()[0]}")
        time.sleep(0.1)
    yield url, process
    process.terminate()
    process.wait(timeout=10)


def test_serve_answers_a_query_from_the_embedded_sandbox(
    served: tuple[str, subprocess.Popen[str]],
) -> None:
    url, _ = served
    response = httpx.post(
        f"{url}/graphql",
        json={"query": "{ contacts(first: 2) { edges { node { id displayName } } } }"},
        headers={"X-Moneybird-Token": "demo"},
    )
    assert response.status_code == 200
    edges = response.json()["data"]["contacts"]["edges"]
    assert len(edges) == 2
    assert response.headers["x-request-id"]


def test_serve_opens_graphiql_in_a_browser(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = served
    response = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_serve_says_it_uses_the_sandbox(served: tuple[str, subprocess.Popen[str]]) -> None:
    url, process = served
    assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}
    process.terminate()
    output = process.communicate(timeout=10)[0]
    assert f"GraphiQL: {url}/graphql" in output
    assert "embedded sandbox" in output

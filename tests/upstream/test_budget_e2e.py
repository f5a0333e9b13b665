"""The Moneybird call budget end to end: a gateway over loopback in front of a
sandbox that notes when each call arrives, under more load than the budget allows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.app import create_app
from gateway.sandbox.app import create_sandbox_app
from gateway.sandbox.state import SandboxState
from tests.conftest import gateway_settings
from tests.servers import gateway_serve, serve
from tests.state.test_contract import most_in_any_window

CONTACT = '{ contact(id: "%s") { id } }'


@dataclass
class Arrivals:
    """The sandbox app, noting when each Moneybird call arrives and with which token."""

    app: ASGIApp
    moneybird: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/moneybird/"):
            headers = dict(scope["headers"])
            token = headers.get(b"authorization", b"").decode().removeprefix("Bearer ")
            with self.lock:
                self.moneybird.append((time.time(), token))
        await self.app(scope, receive, send)

    def times(self, token: str) -> list[float]:
        with self.lock:
            return [at for at, of in self.moneybird if of == token]


@dataclass
class Sandbox:
    state: SandboxState
    arrivals: Arrivals
    url: str

    def contact_id(self) -> str:
        return next(iter(self.state.moneybird.contacts))


@pytest.fixture(scope="module")
def timed_sandbox() -> Iterator[Sandbox]:
    state = SandboxState()
    arrivals = Arrivals(create_sandbox_app(state))
    with serve(arrivals) as url:
        yield Sandbox(state, arrivals, url)


@pytest.fixture
def sandbox(timed_sandbox: Sandbox) -> Sandbox:
    timed_sandbox.state.reset()
    with timed_sandbox.arrivals.lock:
        timed_sandbox.arrivals.moneybird.clear()
    return timed_sandbox


def post(url: str, query: str, token: str, client: httpx.Client | None = None) -> dict[str, Any]:
    """POST a query; without a client, on a connection of its own."""
    sender: Any = client if client is not None else httpx
    response = sender.post(
        f"{url}/graphql",
        json={"query": query},
        headers={"X-Moneybird-Token": token, "X-Monite-Token": "monite"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def hammer(send: Callable[[], dict[str, Any]], *, clients: int, seconds: float) -> list[Any]:
    """`clients` threads sending as fast as answers come, for `seconds`; after a
    refusal a client pauses briefly, as one would, so that the flood of refusals
    does not starve the gateway's event loop of the time its calls need."""
    answers: list[Any] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < stop:
            body = send()
            with lock:
                answers.append(body)
            if "errors" in body:
                time.sleep(0.05)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return answers


def outcome(body: dict[str, Any]) -> str:
    if "errors" not in body:
        return "answered"
    codes = {error["extensions"]["code"] for error in body["errors"]}
    assert codes == {"RATE_LIMITED"}, body
    for error in body["errors"]:
        assert error["extensions"]["retryAfter"] > 0
        assert error["extensions"]["upstream"] == "Moneybird"
    return "rate limited"


def test_the_budget_holds_whatever_the_load(sandbox: Sandbox) -> None:
    # given a budget of 5 calls per 4 s and requests that may wait 2 s for a slot
    settings = gateway_settings(sandbox.url, moneybird_budget="5/4", request_deadline=2.0)
    query = CONTACT % sandbox.contact_id()
    with serve(create_app(settings)) as url, httpx.Client() as client:
        # when eight clients send as fast as they are answered
        answers = hammer(lambda: post(url, query, "busy", client), clients=8, seconds=5)
    # then no 4 s window saw more than 5 calls arrive
    arrived = sandbox.arrivals.times("busy")
    assert most_in_any_window(arrived, 4.0) <= 5
    # every request was answered or refused with retryAfter, and a refused one made no call
    outcomes = [outcome(body) for body in answers]
    assert outcomes.count("rate limited") > 0
    assert outcomes.count("answered") == len(arrived)
    # and the budget was used: about 5 calls per 4 s over 5 s
    assert len(arrived) >= 8


def test_a_429_holds_its_token_back_while_others_call(sandbox: Sandbox) -> None:
    # given Moneybird answers the next call 429, retry 3 s from now (its epoch form)
    settings = gateway_settings(sandbox.url, request_deadline=1.0)
    query = CONTACT % sandbox.contact_id()
    with serve(create_app(settings)) as url:
        retry_at = time.time() + 3
        sandbox.state.faults["moneybird"].fail_next(
            1,
            status=429,
            body={"error": "Too many requests"},
            headers={"Retry-After": f"{retry_at}"},
        )
        first = post(url, query, "limited")
        # when that token asks again, from other requests, and another token asks too
        again = [post(url, query, "limited") for _ in range(3)]
        other = post(url, query, "other")
        while time.time() < retry_at:
            time.sleep(0.05)
        after = post(url, query, "limited")
    # then the 429 answered the first, and no call left for that token until the time passed
    assert first["errors"][0]["extensions"]["upstreamStatus"] == 429
    for body in again:
        extensions = body["errors"][0]["extensions"]
        assert extensions["code"] == "RATE_LIMITED"
        assert "upstreamStatus" not in extensions
        assert 0 < extensions["retryAfter"] <= 3
    assert "errors" not in other
    assert "errors" not in after
    limited = sandbox.arrivals.times("limited")
    assert len(limited) == 2
    assert limited[1] >= retry_at
    assert len(sandbox.arrivals.times("other")) == 1


def test_the_workers_of_gateway_serve_share_one_budget(sandbox: Sandbox, tmp_path: Path) -> None:
    # given gateway serve with two workers, a budget of 5 per 2 s, and Monite answers
    # kept a minute, so that each worker calls Monite once for the same read
    env = {
        "MONEYBIRD_BASE_URL": f"{sandbox.url}/moneybird",
        "MONITE_BASE_URL": f"{sandbox.url}/monite",
        "MONEYBIRD_ADMINISTRATION_ID": "123456789",
        "MONITE_ENTITY_ID": sandbox.state.entity_id,
        "GATEWAY_MONEYBIRD_BUDGET": "5/2",
        "GATEWAY_MONEYBIRD_MIRROR": "false",
        "GATEWAY_MONITE_MAX_STALENESS": "60",
        "GATEWAY_REQUEST_DEADLINE": "1",
        "GATEWAY_LOG_LEVEL": "warning",
        # where gateway serve makes its run directory
        "TMPDIR": str(tmp_path),
    }
    query = (CONTACT % sandbox.contact_id()).rstrip(
        "}"
    ) + " counterparts(first: 1) { edges { node { id } } } }"
    with gateway_serve(env, workers=2) as served:
        url = served.url
        assert "state.sqlite3" in [path.name for path in tmp_path.glob("gateway-run-*/*")]
        # when clients send, each request on a connection of its own
        answers = hammer(lambda: post(url, query, "office"), clients=8, seconds=5)
    # the run directory holding the workers' state went with them
    assert list(tmp_path.iterdir()) == []
    # then both workers served (each called Monite once for the same read)
    monite_reads = [r for r in sandbox.state.requests("monite") if r.path == "/counterparts"]
    assert len(monite_reads) == 2
    # and no 2 s window saw more than 5 Moneybird calls between them
    arrived = sandbox.arrivals.times("office")
    assert most_in_any_window(arrived, 2.0) <= 5
    assert len(arrived) >= 12
    refused = [body for body in answers if "errors" in body]
    assert refused
    assert all(
        error["extensions"]["code"] == "RATE_LIMITED"
        for body in refused
        for error in body["errors"]
    )

"""Fault rules: faults keyed by what a request asks for, not by when it comes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from gateway.sandbox.recorder import RecordedRequest
from gateway.sandbox.state import SandboxState

ADMINISTRATION = "/123456789/contacts"


@pytest.fixture
def moneybird(sandbox: SandboxState, sandbox_url: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": "Bearer demo"}
    with httpx.Client(base_url=f"{sandbox_url}/moneybird", headers=headers) as client:
        yield client


def mine(sandbox: SandboxState) -> list[RecordedRequest]:
    """This test's requests: other tests' gateways may still be finishing calls."""
    return [
        entry
        for entry in sandbox.requests("moneybird")
        if entry.headers.get("user-agent", "").startswith("python-httpx")
    ]


def some_ids(sandbox: SandboxState, count: int) -> list[str]:
    return list(sandbox.moneybird.contacts)[:count]


def test_a_rule_fails_only_the_requests_it_matches(
    moneybird: httpx.Client, sandbox: SandboxState
) -> None:
    first, second = some_ids(sandbox, 2)
    sandbox.faults["moneybird"].add_rule(rf"\b{first}\b", status=503)
    # given a rule on one id, whichever order the requests come in
    with_second = moneybird.post(f"{ADMINISTRATION}/synchronization.json", json={"ids": [second]})
    with_first = moneybird.post(
        f"{ADMINISTRATION}/synchronization.json", json={"ids": [second, int(first)]}
    )
    again = moneybird.get(f"{ADMINISTRATION}/{first}.json")
    # then only the requests naming the id fail, every time
    assert with_second.status_code == 200
    assert with_first.status_code == 503
    assert again.status_code == 503
    assert [entry.status for entry in mine(sandbox)] == [200, 503, 503]


def test_the_first_matching_rule_wins_and_clear_removes_rules(
    moneybird: httpx.Client, sandbox: SandboxState
) -> None:
    faults = sandbox.faults["moneybird"]
    faults.add_rule("synchronization", status=404, body={"error": "record not found"})
    faults.add_rule("GET", status=401)
    answer = moneybird.get(f"{ADMINISTRATION}/synchronization.json")
    assert (answer.status_code, answer.json()) == (404, {"error": "record not found"})
    assert moneybird.get(f"{ADMINISTRATION}.json").status_code == 401
    faults.clear()
    assert moneybird.get(f"{ADMINISTRATION}.json").status_code == 200


def test_a_delay_answers_late_and_ends_when_the_client_hangs_up(
    moneybird: httpx.Client, sandbox: SandboxState
) -> None:
    faults = sandbox.faults["moneybird"]
    faults.add_rule(r"per_page=2\b", delay=0.2)
    faults.add_rule(r"per_page=3\b", delay=30, status=503)
    started = time.monotonic()
    slow = moneybird.get(f"{ADMINISTRATION}.json", params={"per_page": 2})
    assert slow.status_code == 200
    assert time.monotonic() - started >= 0.2
    # an upstream that does not answer: the client gives up, and so does the sandbox
    with pytest.raises(httpx.ReadTimeout):
        moneybird.get(f"{ADMINISTRATION}.json", params={"per_page": 3}, timeout=0.2)
    assert sandbox.log.wait_idle(timeout=5)
    assert [(e.query, e.status) for e in mine(sandbox)] == [
        ("per_page=2", 200),
        ("per_page=3", None),
    ]


def test_rules_can_be_set_over_http(sandbox: SandboxState, sandbox_url: str) -> None:
    with httpx.Client(base_url=sandbox_url) as client:
        answer = client.post(
            "/_sandbox/faults/monite",
            json={"rules": [{"match": "counterparts/[^/]+/contacts", "status": 503, "delay": 0}]},
        )
        assert answer.json() == {"latency": 0.0, "planned": 0, "rules": 1}
        refused = client.post("/_sandbox/faults/monite", json={"rules": [{"match": "("}]})
        assert refused.status_code == 400
        assert client.post("/_sandbox/faults/monite", json={"rules": [{}]}).status_code == 400
    assert len(sandbox.faults["monite"].rules) == 1
    assert sandbox.faults["monite"].rules[0].status == 503

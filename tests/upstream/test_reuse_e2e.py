"""Monite reads sharing calls end to end: a gateway over loopback, the sandbox behind it."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from gateway.app import create_app
from gateway.sandbox.state import SandboxState
from tests.conftest import MONITE_HEADERS, calls, gateway_settings
from tests.servers import serve

PAGE = "counterparts(first: 3) { edges { node { moniteId name } } }"


def post(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers=MONITE_HEADERS,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


def monite_reads(sandbox: SandboxState) -> list[str]:
    return [f"{r.path}?{r.query}" for r in calls(sandbox, "monite") if r.method == "GET"]


def a_counterpart(sandbox: SandboxState) -> dict[str, Any]:
    return next(c for c in sandbox.monite.counterparts.values() if c["type"] == "organization")


def test_identical_reads_in_one_request_cost_one_call(
    sandbox: SandboxState, sandbox_url: str
) -> None:
    with serve(create_app(gateway_settings(sandbox_url, monite_max_staleness=5))) as url:
        body = post(url, f"{{ a: {PAGE} b: {PAGE} }}")
    assert body["data"]["a"] == body["data"]["b"]
    assert monite_reads(sandbox) == ["/counterparts?limit=3"]


def test_identical_reads_of_concurrent_requests_cost_one_call(
    sandbox: SandboxState, sandbox_url: str
) -> None:
    # given answers that are not kept, and a Monite that takes 0.3 s to answer
    sandbox.faults["monite"].latency = 0.3
    answers: list[dict[str, Any]] = []
    with serve(create_app(gateway_settings(sandbox_url, monite_max_staleness=0))) as url:
        # when five requests ask for the same page at once
        threads = [
            threading.Thread(target=lambda: answers.append(post(url, f"{{ {PAGE} }}")))
            for _ in range(5)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # then they share one call; a read after it makes its own
        post(url, f"{{ {PAGE} }}")
    assert len(answers) == 5
    assert all(answer == answers[0] for answer in answers)
    assert monite_reads(sandbox) == ["/counterparts?limit=3"] * 2


def test_a_write_makes_the_next_read_call(sandbox: SandboxState, sandbox_url: str) -> None:
    counterpart = a_counterpart(sandbox)
    query = "query($id: ID!) { counterpart(id: $id) { contacts { firstName } } }"
    create = (
        "mutation($c: ID!) { createCounterpartContact(counterpartId: $c, input: {"
        ' firstName: "Mary", lastName: "Jones", address: { line1: "Damrak 1", city: "Amsterdam",'
        ' postalCode: "1012 LG", country: "NL" } }) { contact { id } userErrors { message } } }'
    )
    with serve(create_app(gateway_settings(sandbox_url, monite_max_staleness=60))) as url:
        before = post(url, query, {"id": counterpart["id"]})
        reads_before_the_write = len(monite_reads(sandbox))
        # a second read is the kept answer
        assert post(url, query, {"id": counterpart["id"]}) == before
        assert len(monite_reads(sandbox)) == reads_before_the_write
        assert (
            post(url, create, {"c": counterpart["id"]})["data"]["createCounterpartContact"][
                "userErrors"
            ]
            == []
        )
        after = post(url, query, {"id": counterpart["id"]})
    names = [contact["firstName"] for contact in after["data"]["counterpart"]["contacts"]]
    assert "Mary" in names
    assert len(names) == len(before["data"]["counterpart"]["contacts"]) + 1
    assert len(monite_reads(sandbox)) > reads_before_the_write


def test_answers_are_reused_for_the_staleness_and_no_longer(
    sandbox: SandboxState, sandbox_url: str
) -> None:
    with serve(create_app(gateway_settings(sandbox_url, monite_max_staleness=1))) as url:
        # given a page read through the gateway
        first = post(url, f"{{ {PAGE} }}")
        started = time.monotonic()
        node = first["data"]["counterparts"]["edges"][0]["node"]
        # when Monite changes it behind the gateway's back
        changed = sandbox.monite.counterparts[node["moniteId"]]
        if changed["type"] == "organization":
            changed["organization"]["legal_name"] = "Renamed Behind The Back"
        else:
            changed["individual"]["first_name"] = "Renamed Behind The Back"
        # then the page is the kept one within the staleness, with no call
        kept = post(url, f"{{ {PAGE} }}")
        assert time.monotonic() - started < 1
        assert kept == first
        assert len(monite_reads(sandbox)) == 1
        # and Monite's own after it
        time.sleep(max(0.0, 1.05 - (time.monotonic() - started)))
        fresh = post(url, f"{{ {PAGE} }}")
    assert "Renamed Behind The Back" in fresh["data"]["counterparts"]["edges"][0]["node"]["name"]
    assert len(monite_reads(sandbox)) == 2

"""Upstream faults driven through the sandbox: retries, rate limits, deadlines."""

from __future__ import annotations

import time

import httpx

from gateway.app import create_app
from gateway.sandbox.state import SandboxState
from tests.conftest import MONEYBIRD_HEADERS, GraphQLClient, calls, gateway_settings
from tests.servers import serve


def a_contact(sandbox: SandboxState) -> str:
    return next(iter(sandbox.moneybird.contacts))


def test_a_read_is_retried_through_503s(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    sandbox.faults["moneybird"].fail_next(2, status=503)
    contact_id = a_contact(sandbox)
    body = gateway.post("query($id: ID!) { contact(id: $id) { moneybirdId } }", {"id": contact_id})
    assert body == {"data": {"contact": {"moneybirdId": contact_id}}}
    assert [call.status for call in calls(sandbox)] == [503, 503, 200]


def test_retries_stop_after_the_budget(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    sandbox.faults["moneybird"].fail_next(5, status=502)
    body = gateway.post('{ contact(id: "1") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert body["errors"][0]["extensions"]["upstreamStatus"] == 502
    assert len(calls(sandbox)) == 3  # the call and two retries


def test_a_short_retry_after_is_honoured(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    sandbox.faults["monite"].fail_next(
        status=429, body={"error": {"message": "Too many requests"}}, headers={"Retry-After": "0.2"}
    )
    started = time.monotonic()
    body = gateway.post("{ counterparts(first: 1) { edges { node { id } } } }")
    assert "errors" not in body
    assert time.monotonic() - started >= 0.2
    assert [call.status for call in calls(sandbox, "monite")] == [429, 200]


def test_a_long_retry_after_is_rate_limited_at_once(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    # Moneybird sends Retry-After as an epoch timestamp
    retry_at = int(time.time()) + 120
    sandbox.faults["moneybird"].fail_next(
        status=429, body={"error": "Too many requests"}, headers={"Retry-After": str(retry_at)}
    )
    started = time.monotonic()
    # a token of its own: the gateway holds back this token's calls until the time passes
    body = gateway.post('{ contact(id: "1") { id } }', headers={"X-Moneybird-Token": "held-back"})
    assert time.monotonic() - started < 2
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "RATE_LIMITED"
    assert 100 < extensions["retryAfter"] <= 120
    assert len(calls(sandbox)) == 1


def test_a_slow_upstream_fails_its_fields_within_the_deadline(
    sandbox: SandboxState, sandbox_url: str
) -> None:
    # given Moneybird takes 3 s and the request may take 0.5 s; Monite is fast
    settings = gateway_settings(sandbox_url, request_deadline=0.5)
    sandbox.faults["moneybird"].latency = 3.0
    with serve(create_app(settings)) as url:
        started = time.monotonic()
        body = httpx.post(
            f"{url}/graphql",
            json={
                "query": '{ contact(id: "1") { id } counterparts(first: 1) { edges { node { id } } } }'
            },
            headers={**MONEYBIRD_HEADERS, "X-Monite-Token": "t"},
            timeout=10,
        ).json()
        elapsed = time.monotonic() - started
    sandbox.faults["moneybird"].latency = 0
    # then the slow field fails, the rest arrives, in bounded time
    assert elapsed < 1.5
    assert body["errors"][0]["path"] == ["contact"]
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert len(body["data"]["counterparts"]["edges"]) == 1


def test_an_html_error_page_is_a_clear_error(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    sandbox.faults["moneybird"].fail_next(3, status=502, body=b"<html><h1>Bad Gateway</h1></html>")
    body = gateway.post('{ contact(id: "1") { id } __typename }')
    assert body["data"] == {"contact": None, "__typename": "Query"}
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"


def test_malformed_json_with_200_is_a_clear_error(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    # a body cut short is retried like a reset connection; three in a row fail the field
    sandbox.faults["moneybird"].fail_next(3, status=200, body=b'[{"id": "1", "company_na')
    body = gateway.post('{ contact(id: "1") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert "not JSON" in body["errors"][0]["message"]
    assert len(calls(sandbox)) == 3

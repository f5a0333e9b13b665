"""Circuit breaker, /metrics and the per-operation log line."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from gateway.app import create_app
from gateway.sandbox.state import SandboxState
from tests.conftest import MONEYBIRD_HEADERS, GraphQLClient, calls, gateway_settings
from tests.servers import serve

QUERY = {"query": 'query Screen { contact(id: "1") { id } }'}


def test_the_breaker_fails_fast_then_probes_again(sandbox: SandboxState, sandbox_url: str) -> None:
    # given a gateway whose breaker opens after 2 failures for 0.5 s, without retries
    settings = gateway_settings(
        sandbox_url, breaker_threshold=2, breaker_cooldown=0.5, upstream_max_retries=0
    )
    sandbox.faults["moneybird"].fail_next(3, status=503)
    with serve(create_app(settings)) as url:
        post = lambda: httpx.post(f"{url}/graphql", json=QUERY, headers=MONEYBIRD_HEADERS).json()  # noqa: E731
        # when two calls fail, the third request is refused without a call
        post(), post()
        paused = post()
        assert "paused" in paused["errors"][0]["message"]
        assert len(calls(sandbox)) == 2
        # then after the cool-down one probe goes out (it fails: the circuit opens again)
        time.sleep(0.6)
        probe = post()
        assert probe["errors"][0]["extensions"]["upstreamStatus"] == 503
        assert len(calls(sandbox)) == 3
        time.sleep(0.6)
        healthy = post()  # the sandbox is healthy again: the probe closes the circuit
        assert healthy == {"data": {"contact": None}}
        assert "errors" not in post()
        metrics = httpx.get(f"{url}/metrics").text
    assert 'gateway_upstream_breaker_state{upstream="Moneybird"} 0.0' in metrics


def test_metrics_count_requests_and_upstream_calls(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    gateway.post('{ contact(id: "1") { id } }')
    text = gateway.http.get("/metrics").text
    assert "gateway_requests_total" in text
    assert "gateway_request_seconds_bucket" in text
    assert (
        'gateway_upstream_calls_total{endpoint="/:id/contacts/synchronization.json",'
        'method="POST",status="200",upstream="Moneybird"}' in text
    )


def test_one_log_line_per_operation_without_tokens(
    gateway: GraphQLClient, sandbox: SandboxState, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gateway.requests"):
        response = gateway.http.post(
            "/graphql",
            json=QUERY,
            headers={"X-Moneybird-Token": "very-secret-token", "X-Request-Id": "req-42"},
        )
    assert response.headers["x-request-id"] == "req-42"
    [record] = [r for r in caplog.records if r.name == "gateway.requests"]
    assert record.request_id == "req-42"  # type: ignore[attr-defined]
    assert record.operation == "Screen"  # type: ignore[attr-defined]
    assert record.upstream_calls == 1  # type: ignore[attr-defined]
    assert "very-secret-token" not in caplog.text

"""Graceful shutdown: on SIGTERM, requests in flight finish, new ones are refused."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import httpx

from gateway.sandbox.state import SandboxState
from tests.servers import gateway_serve


def test_sigterm_lets_requests_in_flight_finish(sandbox: SandboxState, sandbox_url: str) -> None:
    # given a warmed-up gateway in front of a sandbox that takes 1 s to answer
    env = {
        "MONEYBIRD_BASE_URL": f"{sandbox_url}/moneybird",
        "MONITE_BASE_URL": f"{sandbox_url}/monite",
        "MONEYBIRD_ADMINISTRATION_ID": "123456789",
        "GATEWAY_LOG_LEVEL": "warning",
    }
    with gateway_serve(env, ready="/healthz") as served:
        url, process = served.url, served.process
        query = {"query": '{ contact(id: "1") { id } }'}
        # A first request pays the start-up costs the timings below must not include.
        httpx.post(f"{url}/graphql", json=query, headers={"X-Moneybird-Token": "t"}, timeout=10)
        sandbox.faults["moneybird"].latency = 1.0
        answer: dict[str, Any] = {}

        def in_flight() -> None:
            response = httpx.post(
                f"{url}/graphql",
                json=query,
                headers={"X-Moneybird-Token": "t"},
                timeout=10,
            )
            answer["status"] = response.status_code
            answer["body"] = response.json()

        worker = threading.Thread(target=in_flight)
        worker.start()
        time.sleep(0.4)
        # when
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        refused = False
        try:
            httpx.get(f"{url}/healthz", timeout=1)
        except httpx.TransportError:
            refused = True
        worker.join(timeout=10)
        # then
        assert answer["status"] == 200
        assert answer["body"]["data"] == {"contact": None}
        assert refused
        # uvicorn re-raises SIGTERM after a clean shutdown, as a process should
        assert process.wait(timeout=10) in (0, -signal.SIGTERM)
    sandbox.faults["moneybird"].latency = 0

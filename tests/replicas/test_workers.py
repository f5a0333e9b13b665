"""`gateway serve` with several workers and Redis: the workers share Redis, as the
replicas do, and no SQLite file is made for them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis

from gateway.sandbox.state import SandboxState
from tests.listening import port_of
from tests.redis_server import RedisServer, redis_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    directory = tmp_path / "redis"
    directory.mkdir()
    with redis_server(directory) as started:
        yield started


def test_the_workers_of_gateway_serve_share_redis_and_make_no_state_file(
    sandbox_url: str, sandbox: SandboxState, server: RedisServer, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MONEYBIRD_", "MONITE_", "GATEWAY_"))
    }
    env |= {
        "MONEYBIRD_BASE_URL": f"{sandbox_url}/moneybird",
        "MONITE_BASE_URL": f"{sandbox_url}/monite",
        "MONEYBIRD_ADMINISTRATION_ID": "123456789",
        "MONITE_ENTITY_ID": sandbox.entity_id,
        "GATEWAY_REDIS_URL": server.url,
        "GATEWAY_REDIS_PREFIX": "workers:",
        "GATEWAY_LOG_LEVEL": "warning",
        # where gateway serve would make its run directory
        "TMPDIR": str(run),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", "0", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port_of(process, 'gateway serve')}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "gateway serve exited"
            assert time.monotonic() < deadline, "gateway serve did not start"
            time.sleep(0.1)
        contact_id = next(iter(sandbox.moneybird.contacts))
        for _ in range(4):
            response = httpx.post(
                f"{url}/graphql",
                json={
                    "query": "query($id: ID!) { contact(id: $id) { city } }",
                    "variables": {"id": contact_id},
                },
                headers={"X-Moneybird-Token": "workers"},
                timeout=30,
            )
            assert response.status_code == 200, response.text
            assert "errors" not in response.json(), response.text
    finally:
        process.terminate()
        process.wait(timeout=30)
    # then the workers kept their state in Redis, under the prefix, and in no file
    assert list(run.iterdir()) == []
    with Redis.from_url(server.url) as client:
        keys = [key.decode() for key in client.scan_iter()]
    assert keys
    assert all(key.startswith("workers:") for key in keys)
    assert any(key.startswith("workers:feed:") for key in keys)

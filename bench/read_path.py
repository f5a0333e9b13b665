"""Upstream calls, latency and the gateway's own CPU per request on the read path.

With upstream latency L, a query's latency should approach (depth of dependent
upstream calls) x L: 1 x L for contacts, 2 x L for counterparts with their
default contacts (the 20 contact lists go out concurrently), not 21 x L.

Starts the sandbox (with injected upstream latency) and `gateway serve` as
separate processes on loopback, sends each query N times in sequence, and
prints a table. The gateway's CPU comes from /proc, so it excludes the sandbox
and this client.

    .venv/bin/python bench/read_path.py --latency 0.05 --requests 50
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from procs import cpu_seconds, free_port, process

HEADERS = {"X-Moneybird-Token": "bench", "X-Monite-Token": "bench"}


def scenarios(ids: list[str]) -> list[tuple[str, str, dict[str, object]]]:
    fields = "id displayName email city notes { note } events { action }"
    return [
        (
            "one contact by id",
            f"query($id: ID!) {{ contact(id: $id) {{ {fields} }} }}",
            {"id": ids[0]},
        ),
        (
            "250 contacts by ids",
            f"query($ids: [ID!]!) {{ contactsByIds(ids: $ids) {{ {fields} }} }}",
            {"ids": ids[:250]},
        ),
        (
            "100-contact page",
            f"{{ contacts(first: 100) {{ edges {{ node {{ {fields} }} }} }} }}",
            {},
        ),
        (
            "20 counterparts+dflt",
            "{ counterparts(first: 20) { edges { node { name defaultContact { email } } } } }",
            {},
        ),
    ]


@dataclass(frozen=True)
class Running:
    sandbox_url: str
    gateway_url: str
    gateway_pid: int


@contextmanager
def sandbox_and_gateway(
    latency: float, *, log_limit: int = 10_000, workers: int | None = None
) -> Iterator[Running]:
    """The sandbox (with `latency` on every answer) and `gateway serve` in front of it,
    each its own process on a free loopback port; `workers` None is the production
    default (one per CPU)."""
    sandbox_port, gateway_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONEYBIRD_", "MONITE_"))}
    gateway_env = {
        **env,
        "MONEYBIRD_BASE_URL": f"{sandbox_url}/moneybird",
        "MONITE_BASE_URL": f"{sandbox_url}/monite",
        "MONEYBIRD_ADMINISTRATION_ID": "123456789",
        "MONITE_ENTITY_ID": "9d2b4c8f-2087-4738-ba91-7359683c49a4",
        "GATEWAY_LOG_LEVEL": "warning",
        # The runs measure the gateway, not Moneybird's call budget for one token.
        "GATEWAY_MONEYBIRD_BUDGET": "off",
    }
    sandbox_args = [
        "--port",
        str(sandbox_port),
        "--latency",
        str(latency),
        "--log-limit",
        str(log_limit),
    ]
    with (
        process(
            [sys.executable, "-m", "gateway", "sandbox", *sandbox_args],
            env,
            f"{sandbox_url}/_sandbox/requests",
        ),
        process(
            [sys.executable, "-m", "gateway", "serve", "--port", str(gateway_port)]
            + ([] if workers is None else ["--workers", str(workers)]),
            gateway_env,
            f"{gateway_url}/healthz",
        ) as gateway_pid,
    ):
        yield Running(sandbox_url, gateway_url, gateway_pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.05, help="upstream latency (s)")
    parser.add_argument("--requests", type=int, default=50, help="requests per query")
    args = parser.parse_args()

    with (
        # one worker, so that /proc of its pid holds all of the gateway's CPU
        sandbox_and_gateway(args.latency, workers=1) as running,
        httpx.Client(base_url=running.gateway_url, headers=HEADERS, timeout=60) as client,
    ):
        versions = client.post(
            "/graphql", json={"query": "{ contactVersions { contactId } }"}
        ).json()
        ids = [row["contactId"] for row in versions["data"]["contactVersions"]]
        print(f"upstream latency {args.latency * 1000:.0f} ms, {args.requests} requests each\n")
        print(f"{'query':<22} {'calls/req':>9} {'p50 ms':>8} {'p90 ms':>8} {'cpu ms/req':>10}")
        for name, query, variables in scenarios(ids):
            payload = {"query": query, "variables": variables}
            for _ in range(3):  # warm caches and connections
                client.post("/graphql", json=payload)
            httpx.delete(f"{running.sandbox_url}/_sandbox/requests")
            cpu_before = cpu_seconds(running.gateway_pid)
            latencies = []
            for _ in range(args.requests):
                started = time.perf_counter()
                body = client.post("/graphql", json=payload).json()
                latencies.append(time.perf_counter() - started)
                if body.get("errors"):
                    raise SystemExit(f"{name}: {body['errors']}")
            cpu = (cpu_seconds(running.gateway_pid) - cpu_before) / args.requests
            upstream_calls = len(httpx.get(f"{running.sandbox_url}/_sandbox/requests").json())
            p50 = statistics.median(latencies) * 1000
            p90 = statistics.quantiles(latencies, n=10)[-1] * 1000
            print(
                f"{name:<22} {upstream_calls / args.requests:>9.1f} {p50:>8.1f} {p90:>8.1f}"
                f" {cpu * 1000:>10.2f}"
            )


if __name__ == "__main__":
    main()

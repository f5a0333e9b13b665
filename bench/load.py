"""A bounded load run against `gateway serve` on the sandbox, loopback only.

Mixed workload: contact reads, pages, counterpart pages and writes (create
contact, add note). Reports requests/s, p50/p99, errors, gateway 5xx, the
gateway's memory before and after, and accounts for every write in the sandbox:
nothing lost, nothing doubled.

    .venv/bin/python bench/load.py --concurrency 50 --duration 60 --latency 0.02
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections import Counter
from typing import Any

import httpx
from procs import tree_rss_mib
from read_path import sandbox_and_gateway

HEADERS = {"X-Moneybird-Token": "load", "X-Monite-Token": "load"}


def pick_operation(ids: list[str], tag: str) -> tuple[str, dict[str, Any], str]:
    roll = random.random()
    if roll < 0.35:
        return (
            "query($id: ID!) { contact(id: $id) { id displayName notes { note } } }",
            {"id": random.choice(ids)},
            "read",
        )
    if roll < 0.55:
        return (
            "query($ids: [ID!]!) { contactsByIds(ids: $ids) { id email } }",
            {"ids": random.sample(ids, 50)},
            "read",
        )
    if roll < 0.70:
        return "{ contacts(first: 50) { edges { node { id city } } } }", {}, "read"
    if roll < 0.85:
        return (
            "{ counterparts(first: 10) { edges { node { name defaultContact { email } } } } }",
            {},
            "read",
        )
    if roll < 0.93:
        return (
            "mutation($name: String!) { createContact(input: { companyName: $name })"
            " { contact { id } userErrors { code } } }",
            {"name": tag},
            "create",
        )
    return (
        "mutation($id: ID!, $note: String!) { addContactNote(contactId: $id, input: { note: $note })"
        " { note { id } userErrors { code } } }",
        {"id": random.choice(ids), "note": tag},
        "note",
    )


async def client_loop(
    client: httpx.AsyncClient, ids: list[str], stop_at: float, worker: int, results: dict[str, Any]
) -> None:
    sequence = 0
    while time.monotonic() < stop_at:
        sequence += 1
        tag = f"load-{worker}-{sequence}"
        query, variables, kind = pick_operation(ids, tag)
        started = time.perf_counter()
        try:
            response = await client.post("/graphql", json={"query": query, "variables": variables})
        except httpx.HTTPError:
            results["transport_errors"] += 1
            continue
        results["latencies"].append(time.perf_counter() - started)
        if response.status_code >= 500:
            results["status_5xx"] += 1
            continue
        body = response.json()
        if body.get("errors"):
            results["errors"][body["errors"][0].get("extensions", {}).get("code")] += 1
            if kind != "read":
                results["unknown_writes"].append(tag)
            continue
        if kind != "read":
            results["confirmed"][kind].append(tag)


async def drive(url: str, concurrency: int, duration: float, ids: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {
        "latencies": [],
        "errors": Counter(),
        "status_5xx": 0,
        "transport_errors": 0,
        "confirmed": {"create": [], "note": []},
        "unknown_writes": [],
    }
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers=HEADERS, timeout=30, limits=limits
    ) as client:
        stop_at = time.monotonic() + duration
        await asyncio.gather(
            *(client_loop(client, ids, stop_at, worker, results) for worker in range(concurrency))
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--latency", type=float, default=0.02, help="upstream latency (s)")
    args = parser.parse_args()
    if args.duration > 600:
        raise SystemExit("--duration is bounded to 600 s")

    with sandbox_and_gateway(args.latency, log_limit=1_000_000) as running:
        sandbox_url, gateway_url, gateway_pid = (
            running.sandbox_url,
            running.gateway_url,
            running.gateway_pid,
        )
        versions = httpx.post(
            f"{gateway_url}/graphql",
            json={"query": "{ contactVersions { contactId } }"},
            headers=HEADERS,
        ).json()
        ids = [row["contactId"] for row in versions["data"]["contactVersions"]]
        httpx.delete(f"{sandbox_url}/_sandbox/requests")
        rss_before = tree_rss_mib(gateway_pid)
        started = time.monotonic()
        results = asyncio.run(drive(gateway_url, args.concurrency, args.duration, ids))
        elapsed = time.monotonic() - started
        rss_after = tree_rss_mib(gateway_pid)
        log = httpx.get(f"{sandbox_url}/_sandbox/requests").json()

    creates = Counter(
        entry["body"]["contact"]["company_name"]
        for entry in log
        if entry["method"] == "POST"
        and entry["path"].endswith("/contacts.json")
        and entry["status"] == 201
    )
    notes = Counter(
        entry["body"]["note"]["note"]
        for entry in log
        if entry["method"] == "POST"
        and entry["path"].endswith("/notes.json")
        and entry["status"] == 201
    )
    confirmed_creates = results["confirmed"]["create"]
    confirmed_notes = results["confirmed"]["note"]
    lost = [t for t in confirmed_creates if creates[t] != 1] + [
        t for t in confirmed_notes if notes[t] != 1
    ]
    doubled = [t for t, n in (creates + notes).items() if n > 1]
    latencies = sorted(results["latencies"])
    total = len(latencies)
    print(
        f"{args.concurrency} clients, {elapsed:.0f} s, upstream latency {args.latency * 1000:.0f} ms"
    )
    print(f"requests        {total} ({total / elapsed:.0f}/s)")
    print(
        f"p50 / p99       {statistics.median(latencies) * 1000:.1f} / {latencies[int(total * 0.99) - 1] * 1000:.1f} ms"
    )
    print(f"GraphQL errors  {dict(results['errors']) or 0}")
    print(
        f"gateway 5xx     {results['status_5xx']}  transport errors {results['transport_errors']}"
    )
    print(f"gateway RSS     {rss_before:.0f} MiB before, {rss_after:.0f} MiB after")
    print(
        f"writes          {len(confirmed_creates)} creates and {len(confirmed_notes)} notes confirmed; "
        f"lost {len(lost)}, doubled {len(doubled)}, outcome reported unknown {len(results['unknown_writes'])}"
    )


if __name__ == "__main__":
    main()

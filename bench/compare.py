"""Our gateway against Apollo Server 5 (+ RESTDataSource + DataLoader), side by side.

Starts on loopback: a fast upstream stand-in (node, pre-serialized bodies from the
sandbox's seed data), `gateway serve` as in production (no flags beyond host and
port), and the peer in bench/peers/apollo. Both do the same work: every read
calls the upstream (ours with its Moneybird mirror off; bench/budget.py measures
the mirror), and both answer global ids. Checks that both answer each query
without errors and with the same data, then drives each with wrk at 32
connections, interleaving the contenders over several rounds, and prints
requests/s, p50, p99, errors and peak RSS, with the ratio ours/peer.

    .venv/bin/python bench/compare.py --rounds 3 --duration 10
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from procs import free_port, process, tree_rss_mib

from gateway.sandbox.state import SandboxState

BENCH = Path(__file__).resolve().parent
PEER = BENCH / "peers" / "apollo"
STANDIN = BENCH / "peers" / "standin" / "standin.mjs"
ENTITY = "9d2b4c8f-2087-4738-ba91-7359683c49a4"
HEADERS = {
    "X-Moneybird-Token": "bench",
    "X-Monite-Token": "bench",
    "Content-Type": "application/json",
}
CONNECTIONS = 32


def queries(contact_ids: list[str]) -> dict[str, dict[str, Any]]:
    return {
        "1 contact by id": {
            "query": "query($id: ID!) { contact(id: $id) { id displayName email city notes { note } } }",
            "variables": {"id": contact_ids[0]},
        },
        "100 contacts by ids": {
            "query": "query($ids: [ID!]!) { contactsByIds(ids: $ids) {"
            " id displayName email city notes { note } events { action } } }",
            "variables": {"ids": contact_ids[:100]},
        },
        "20 counterparts+default": {
            "query": "{ counterparts(first: 20) { edges { node { name defaultContact { email } } } } }",
            "variables": {},
        },
    }


def ensure_tools() -> None:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    if not (PEER / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER, check=True)


def dump_upstream_data(path: Path) -> list[str]:
    state = SandboxState()
    contacts = list(state.moneybird.contacts.values())
    path.write_text(
        json.dumps({"contacts": contacts, "counterparts": list(state.monite.counterparts.values())})
    )
    return [contact["id"] for contact in contacts]


def lua_script(payload: dict[str, Any], path: Path) -> None:
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in HEADERS.items())
    path.write_text(
        f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(payload))}\n{headers}\n'
        "graphql_errors = 0\n"
        "function response(status, headers, body)\n"
        "  if status ~= 200 or string.find(body, '\"errors\"', 1, true) then graphql_errors = graphql_errors + 1 end\n"
        "end\n"
        "function done(summary, latency, requests)\n"
        '  io.write(string.format("graphql_errors %d\\n", graphql_errors))\n'
        "end\n"
    )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> dict[str, float]:
    def latency(percent: str) -> float:
        match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    graphql_errors = re.findall(r"graphql_errors (\d+)", output)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": socket_errors
        + (int(non_2xx.group(1)) if non_2xx else 0)
        + sum(int(n) for n in graphql_errors),
    }


def wrk_command(url: str, script: Path, duration: int) -> list[str]:
    """wrk posting `script`'s request to `url`'s /graphql with CONNECTIONS connections."""
    return [
        "wrk",
        "-t2",
        f"-c{CONNECTIONS}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(script),
        f"{url}/graphql",
    ]


def run_wrk(url: str, script: Path, duration: int, pid: int) -> dict[str, float]:
    peak = [tree_rss_mib(pid)]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            peak.append(tree_rss_mib(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = subprocess.run(
        wrk_command(url, script, duration),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    stop.set()
    sampler.join()
    return {**parse_wrk(output), "rss": max(peak)}


def check_same_answers(urls: dict[str, str], payloads: dict[str, dict[str, Any]]) -> None:
    for name, payload in payloads.items():
        answers = {}
        for contender, url in urls.items():
            body = httpx.post(f"{url}/graphql", json=payload, headers=HEADERS, timeout=30).json()
            if body.get("errors") or body.get("data") is None:
                raise SystemExit(f"{contender} failed {name}: {body}")
            answers[contender] = body["data"]
        if answers["ours"] != answers["peer"]:
            raise SystemExit(f"ours and the peer disagree on {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--peer-workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    ensure_tools()
    work = Path(tempfile.mkdtemp(prefix="compare-"))
    contact_ids = dump_upstream_data(work / "upstream.json")
    payloads = queries(contact_ids)
    upstream_port, ours_port, peer_port = free_port(), free_port(), free_port()
    upstream = f"http://127.0.0.1:{upstream_port}"
    base_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MONEYBIRD_", "MONITE_", "GATEWAY_"))
    }
    upstream_env = {
        "MONEYBIRD_BASE_URL": upstream,
        "MONITE_BASE_URL": f"{upstream}/monite",
        "MONEYBIRD_ADMINISTRATION_ID": "123456789",
        "MONITE_ENTITY_ID": ENTITY,
    }
    with ExitStack() as stack:
        stack.enter_context(
            process(
                ["node", str(STANDIN), str(upstream_port), str(work / "upstream.json")],
                base_env,
                f"{upstream}/",
            )
        )
        pids = {
            "ours": stack.enter_context(
                process(
                    [
                        sys.executable,
                        "-m",
                        "gateway",
                        "serve",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(ours_port),
                    ],
                    {
                        **base_env,
                        **upstream_env,
                        "GATEWAY_LOG_LEVEL": "warning",
                        # Like the peer: every read calls the upstream (no mirror, no
                        # answers kept), no call budget for the one token.
                        "GATEWAY_MONEYBIRD_BUDGET": "off",
                        "GATEWAY_MONITE_MAX_STALENESS": "0",
                        "GATEWAY_MONEYBIRD_MIRROR": "false",
                    },
                    f"http://127.0.0.1:{ours_port}/healthz",
                )
            ),
            "peer": stack.enter_context(
                process(
                    ["node", "server.js", str(peer_port)],
                    {
                        **base_env,
                        **upstream_env,
                        "PEER_WORKERS": str(args.peer_workers),
                        "NODE_ENV": "production",
                    },
                    f"http://127.0.0.1:{peer_port}/",
                    cwd=PEER,
                )
            ),
        }
        urls = {"ours": f"http://127.0.0.1:{ours_port}", "peer": f"http://127.0.0.1:{peer_port}"}
        check_same_answers(urls, payloads)
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for round_number in range(args.rounds):
            order = ["ours", "peer"] if round_number % 2 == 0 else ["peer", "ours"]
            for name, payload in payloads.items():
                script = work / f"{abs(hash(name))}.lua"
                lua_script(payload, script)
                for contender in order:
                    outcome = run_wrk(urls[contender], script, args.duration, pids[contender])
                    results.setdefault((name, contender), []).append(outcome)
                    print(
                        f"round {round_number + 1} {name:<24} {contender:<4} {outcome['rps']:8.0f} req/s",
                        file=sys.stderr,
                    )

    print(
        f"\n{args.rounds} rounds x {args.duration} s, wrk {CONNECTIONS} connections, medians over rounds"
    )
    print(
        f"{'query':<24} {'who':<5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'peak RSS MiB':>13}"
    )
    for name in payloads:
        row = {}
        for contender in ("ours", "peer"):
            runs = results[(name, contender)]
            row[contender] = {
                "rps": statistics.median(r["rps"] for r in runs),
                "p50": statistics.median(r["p50"] for r in runs),
                "p99": statistics.median(r["p99"] for r in runs),
                "errors": sum(r["errors"] for r in runs),
                "rss": max(r["rss"] for r in runs),
            }
            r = row[contender]
            print(
                f"{name:<24} {contender:<5} {r['rps']:8.0f} {r['p50']:8.2f} {r['p99']:8.2f} {int(r['errors']):7d} {r['rss']:13.0f}"
            )
        print(
            f"{'':<24} {'ratio':<5} {row['ours']['rps'] / row['peer']['rps']:8.2f}"
            f" {row['ours']['p50'] / row['peer']['p50']:8.2f} {row['ours']['p99'] / row['peer']['p99']:8.2f}"
        )


if __name__ == "__main__":
    main()

"""Throughput and latency with 1, 2 and 3 gateway replicas behind a load balancer.

Starts on loopback: `gateway sandbox` as the upstream (its own process), redis-server
for the state the replicas share (GATEWAY_REDIS_URL), N replicas of `gateway serve`
with one worker each, as the Kubernetes manifests in deploy/ run them, and haproxy in
front of them with a generated configuration (round robin, health checks on /readyz).
Each query is driven with wrk through haproxy for every replica count, plus once
straight at a single replica to show what the balancer costs. Prints requests/s, p50,
p99, errors, peak RSS per replica, and the CPU each process used in cores, which is
what says where the machine's limit is.

    .venv/bin/python bench/replicas.py --duration 10

It installs wrk, haproxy and redis-server (Debian) if they are missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from compare import CONNECTIONS, HEADERS, lua_script, parse_wrk, wrk_command
from procs import cpu_seconds, free_port, process

ADMINISTRATION = "123456789"
ENTITY = "9d2b4c8f-2087-4738-ba91-7359683c49a4"
TOOLS = {"wrk": "wrk", "haproxy": "haproxy", "redis-server": "redis-server"}


def queries(contact_id: str) -> dict[str, dict[str, Any]]:
    return {
        # answered from the mirror: the gateway's own work, no upstream call
        "1 contact by id": {
            "query": "query($id: ID!) { contact(id: $id) { id displayName email city notes { note } } }",
            "variables": {"id": contact_id},
        },
        # Monite: a page and 20 contact lists, reused for GATEWAY_MONITE_MAX_STALENESS
        "20 counterparts+default": {
            "query": "{ counterparts(first: 20) { edges { node { name defaultContact { email } } } } }",
            "variables": {},
        },
    }


def ensure_tools() -> None:
    missing = [package for tool, package in TOOLS.items() if shutil.which(tool) is None]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)


def haproxy_config(port: int, replicas: list[int], stats_socket: Path) -> str:
    servers = "\n".join(
        f"    server gateway-{n} 127.0.0.1:{replica} check inter 1s fall 2 rise 1"
        for n, replica in enumerate(replicas, start=1)
    )
    return f"""global
    maxconn 4096
    # one thread: the machine's cores are for the replicas
    nbthread 1
    stats socket {stats_socket}

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    # the gateway's request deadline (15 s) and the answer's way back
    timeout server 20s
    option http-keep-alive

frontend gateway
    bind 127.0.0.1:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-reuse safe
{servers}
"""


@contextmanager
def redis_server(port: int) -> Iterator[int]:
    # A cache of shared state: nothing to keep across runs, so no snapshots.
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while redis_command(port, "PING") != "+PONG":
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit("redis-server did not start")
        time.sleep(0.05)
    try:
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def redis_command(port: int, command: str) -> str:
    """One inline command's reply, as text; empty when Redis is not there."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(command.encode() + b"\r\n")
            reply = b""
            while not reply.endswith(b"\r\n") or (
                reply.startswith(b"$") and reply.count(b"\r\n") < 2
            ):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
            return reply.decode().strip()
    except OSError:
        return ""


def redis_keys(port: int) -> int:
    return int(redis_command(port, "DBSIZE").lstrip(":") or 0)


@dataclass
class Sampler:
    """Peak RSS of each replica and CPU seconds of every process, over one wrk run."""

    replicas: list[int]
    others: dict[str, int]
    peak_rss: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            for pid in self.replicas:
                self.peak_rss[pid] = max(self.peak_rss.get(pid, 0.0), rss_mib(pid))
            if self._stop.wait(0.5):
                return

    def _cpu(self) -> dict[str, float]:
        cpu = {"replicas": sum(cpu_seconds(pid) for pid in self.replicas)}
        cpu.update({name: cpu_seconds(pid) for name, pid in self.others.items()})
        cpu["bench"] = time.process_time()  # this script, its sampling thread included
        return cpu

    @contextmanager
    def running(self) -> Iterator[dict[str, float]]:
        """Yields a dict that holds, afterwards, the cores each process used."""
        cores: dict[str, float] = {}
        before, machine_before, started = self._cpu(), machine_busy(), time.monotonic()
        self._thread.start()
        try:
            yield cores
        finally:
            self._stop.set()
            self._thread.join()
            elapsed = time.monotonic() - started
            after = self._cpu()
            cores.update({name: (after[name] - before[name]) / elapsed for name in before})
            cores["machine"] = (machine_busy() - machine_before) / elapsed


def rss_mib(pid: int) -> float:
    """A replica's RSS: one worker, so one process (tree_rss_mib walks all of /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def machine_busy() -> float:
    """CPU seconds all cores spent on anything but idle and iowait, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(n) for n in stat.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, script: Path, duration: int, sampler: Sampler) -> dict[str, Any]:
    with sampler.running() as cores:
        started = time.monotonic()
        wrk = subprocess.Popen(
            wrk_command(url, script, duration),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert wrk.stdout is not None
        output = wrk.stdout.read()
        # Reaped here for its resource usage: its /proc entry goes with it.
        _, status, usage = os.wait4(wrk.pid, 0)
        wrk.returncode = os.waitstatus_to_exitcode(status)
        wrk.stdout.close()
        wrk_cores = (usage.ru_utime + usage.ru_stime) / (time.monotonic() - started)
    # Whatever else ran on the machine meanwhile (other users of a shared machine).
    cores["others"] = (
        cores["machine"]
        - wrk_cores
        - sum(used for name, used in cores.items() if name != "machine")
    )
    if wrk.returncode != 0:
        raise SystemExit(f"wrk failed: {output}")
    return {
        **parse_wrk(output),
        "cores": {**cores, "wrk": wrk_cores},
        "rss": dict(sampler.peak_rss),
    }


@dataclass(frozen=True)
class Upstream:
    url: str
    pid: int


@contextmanager
def replicas_behind_haproxy(
    count: int, upstream: Upstream, redis_port: int, work: Path
) -> Iterator[tuple[str, list[int], int, list[str]]]:
    """`count` replicas and haproxy before them: (haproxy's URL, replica pids, haproxy's
    pid, replica URLs)."""
    base_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MONEYBIRD_", "MONITE_", "GATEWAY_"))
    }
    replica_env = {
        **base_env,
        "MONEYBIRD_BASE_URL": f"{upstream.url}/moneybird",
        "MONITE_BASE_URL": f"{upstream.url}/monite",
        "MONEYBIRD_ADMINISTRATION_ID": ADMINISTRATION,
        "MONITE_ENTITY_ID": ENTITY,
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_WORKERS": "1",
        "GATEWAY_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "GATEWAY_REPLICAS": str(count),
    }
    ports = [free_port() for _ in range(count)]
    with ExitStack() as stack:
        pids = [
            stack.enter_context(
                process(
                    [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
                    replica_env,
                    f"http://127.0.0.1:{port}/readyz",
                )
            )
            for port in ports
        ]
        lb_port = free_port()
        config = work / f"haproxy-{count}.cfg"
        stats_socket = work / f"haproxy-{count}.sock"
        config.write_text(haproxy_config(lb_port, ports, stats_socket))
        subprocess.run(["haproxy", "-c", "-q", "-f", str(config)], check=True)
        lb_url = f"http://127.0.0.1:{lb_port}"
        haproxy = stack.enter_context(
            process(["haproxy", "-f", str(config)], base_env, f"{lb_url}/readyz")
        )
        wait_for_all_servers_up(stats_socket, count)
        yield lb_url, pids, haproxy, [f"http://127.0.0.1:{port}" for port in ports]


def wait_for_all_servers_up(stats_socket: Path, count: int) -> None:
    """haproxy sends only to servers whose checks passed: wait until all `count` have."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(stats_socket))
            sock.sendall(b"show stat\n")
            stats = b"".join(iter(lambda: sock.recv(65536), b"")).decode()
        up = [line for line in stats.splitlines() if ",gateway-" in line and ",UP," in line]
        if len(up) == count:
            return
        time.sleep(0.2)
    raise SystemExit("haproxy did not see every replica up")


def warm_up(url: str, payloads: dict[str, dict[str, Any]], replica_urls: list[str]) -> None:
    """Every replica answers each query once without errors before it is measured (the
    first contact read builds the mirror)."""
    for replica in replica_urls:
        for name, payload in payloads.items():
            body = httpx.post(
                f"{replica}/graphql", json=payload, headers=HEADERS, timeout=30
            ).json()
            if body.get("errors") or body.get("data") is None:
                raise SystemExit(f"{replica} failed {name}: {body}")
    for name, payload in payloads.items():
        body = httpx.post(f"{url}/graphql", json=payload, headers=HEADERS, timeout=30).json()
        if body.get("errors") or body.get("data") is None:
            raise SystemExit(f"through haproxy, {name} failed: {body}")


def first_contact_id(gateway_url: str) -> str:
    """A contact's id as the schema gives it, from the first page."""
    body = httpx.post(
        f"{gateway_url}/graphql",
        json={"query": "{ contacts(first: 1) { edges { node { id } } } }"},
        headers=HEADERS,
        timeout=30,
    ).json()
    if body.get("errors"):
        raise SystemExit(f"the first contact page failed: {body['errors']}")
    return str(body["data"]["contacts"]["edges"][0]["node"]["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=1, help="runs per row; medians are shown")
    parser.add_argument("--max-replicas", type=int, default=3)
    parser.add_argument(
        "--latency", type=float, default=0.02, help="seconds the sandbox adds to each answer"
    )
    args = parser.parse_args()
    if args.duration > 120 or args.rounds > 5 or args.max_replicas > 4:
        raise SystemExit("bounded: --duration 120, --rounds 5, --max-replicas 4 at most")
    ensure_tools()
    work = Path(tempfile.mkdtemp(prefix="replicas-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MONEYBIRD_", "MONITE_", "GATEWAY_"))
    }
    upstream_port, redis_port = free_port(), free_port()
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    rows: list[dict[str, Any]] = []
    with ExitStack() as stack:
        upstream = Upstream(
            upstream_url,
            stack.enter_context(
                process(
                    [
                        sys.executable,
                        "-m",
                        "gateway",
                        "sandbox",
                        "--port",
                        str(upstream_port),
                        "--latency",
                        str(args.latency),
                    ],
                    env,
                    f"{upstream_url}/_sandbox/requests",
                )
            ),
        )
        redis = stack.enter_context(redis_server(redis_port))
        payloads: dict[str, dict[str, Any]] = {}
        scripts: dict[str, Path] = {}
        for count in range(1, args.max_replicas + 1):
            redis_command(redis_port, "FLUSHALL")
            with replicas_behind_haproxy(count, upstream, redis_port, work) as (
                lb,
                pids,
                lb_pid,
                direct,
            ):
                if not payloads:
                    payloads = queries(first_contact_id(lb))
                    for n, (name, payload) in enumerate(payloads.items()):
                        scripts[name] = work / f"query-{n}.lua"
                        lua_script(payload, scripts[name])
                warm_up(lb, payloads, direct)
                targets = [("haproxy", lb)] + ([("direct", direct[0])] if count == 1 else [])
                for via, url in targets:
                    for name in payloads:
                        runs = []
                        for _ in range(args.rounds):
                            others = {"sandbox": upstream.pid, "redis": redis}
                            if via == "haproxy":
                                others["haproxy"] = lb_pid
                            runs.append(
                                run_wrk(url, scripts[name], args.duration, Sampler(pids, others))
                            )
                            print(
                                f"{count} replica(s) via {via:<7} {name:<24} {runs[-1]['rps']:8.0f} req/s",
                                file=sys.stderr,
                            )
                        rows.append(
                            {
                                "replicas": count,
                                "via": via,
                                "query": name,
                                "runs": runs,
                                "keys": redis_keys(redis_port),
                            }
                        )
    shutil.rmtree(work, ignore_errors=True)
    report(rows, args)


PROCESSES = ("replicas", "sandbox", "haproxy", "redis", "wrk", "bench", "others", "machine")


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\n{os.cpu_count()} cores; wrk {CONNECTIONS} connections, {args.duration} s a run, "
        f"medians of {args.rounds}; sandbox latency {args.latency * 1000:.0f} ms; "
        "cores used by each, 'others' being what else ran on the machine"
    )
    print(
        f"{'replicas':>8} {'via':<7} {'query':<24} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'errors':>6} {'RSS MiB each':>13} " + " ".join(f"{name:>8}" for name in PROCESSES)
    )
    for row in rows:
        runs = row["runs"]
        rss = [max(run["rss"][pid] for run in runs) for pid in runs[0]["rss"]]
        cores = [
            f"{statistics.median(run['cores'][name] for run in runs):8.2f}"
            if name in runs[0]["cores"]
            else f"{'-':>8}"
            for name in PROCESSES
        ]
        print(
            f"{row['replicas']:>8} {row['via']:<7} {row['query']:<24}"
            f" {statistics.median(r['rps'] for r in runs):7.0f}"
            f" {statistics.median(r['p50'] for r in runs):7.2f}"
            f" {statistics.median(r['p99'] for r in runs):7.2f}"
            f" {sum(int(r['errors']) for r in runs):6d}"
            f" {'/'.join(f'{m:.0f}' for m in rss):>13} " + " ".join(cores)
        )
    keys = max(row["keys"] for row in rows)
    print(
        f"keys in Redis after the runs: {keys}"
        + ("" if keys else " (the replicas did not use GATEWAY_REDIS_URL: each kept its own state)")
    )


if __name__ == "__main__":
    main()

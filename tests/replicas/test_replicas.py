"""Three replicas of `gateway serve` behind haproxy, sharing one redis-server, in
front of a sandbox process with Moneybird's rate limit, all on loopback, as
production runs them: what one replica learns every replica knows, the
replicas together keep to the call budget, and neither a replica killed nor
Redis stopped mid-run fails a request the others could answer.

The tests share one cluster and run in file order: the last one kills a replica.
Each uses a token of its own, so each has a budget of its own to check.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gateway.sandbox.seed import ENTITY_ID
from tests.listening import port_of
from tests.redis_server import RedisServer
from tests.servers import free_port
from tests.state.test_contract import most_in_any_window

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
ADMINISTRATION = "123456789"
# Moneybird's limit in the sandbox, and the gateway's budget: small, for a short test.
LIMIT, WINDOW = 10, 5.0
REPLICAS = 3
READ = "query Read($id: ID!) { contact(id: $id) { city } }"
NAME = "query Name($id: ID!) { contact(id: $id) { companyName } }"
CREATE = (
    "mutation Create($name: String!) { createContact(input: {companyName: $name}) "
    "{ contact { id companyName } userErrors { message } } }"
)
# Generous for a loaded machine: a request that takes this long has failed anyway.
TIMEOUT = 30.0

HAPROXY_CONFIG = """\
global
    maxconn 2048

defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout check 2s
    # A request a replica could not answer (refused connection, or closed
    # without an answer: the replica died) goes to another replica.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend gateway
    bind 127.0.0.1:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /readyz
    # A POST may be a mutation: it is sent again only if no replica received it.
    http-request disable-l7-retry if METH_POST
    default-server check inter 200ms fall 1 rise 1
{servers}
"""


@dataclass
class Cluster:
    sandbox: str
    redis: RedisServer
    lb: str
    replicas: dict[str, subprocess.Popen[bytes]]
    work: Path

    def moneybird_log(self) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.sandbox}/_sandbox/requests", params={"upstream": "moneybird"}, timeout=TIMEOUT
        )
        response.raise_for_status()
        log: list[dict[str, Any]] = response.json()
        return log

    def calls_of(self, token: str) -> list[float]:
        return [
            entry["received_at"]
            for entry in self.moneybird_log()
            if entry["headers"].get("authorization") == f"Bearer {token}"
        ]

    def moneybird(self, method: str, path: str, **options: Any) -> Any:
        """Moneybird in the sandbox, as someone other than the gateway."""
        response = httpx.request(
            method,
            f"{self.sandbox}/moneybird/{ADMINISTRATION}/{path}",
            headers={"authorization": "Bearer someone-else"},
            timeout=TIMEOUT,
            **options,
        )
        response.raise_for_status()
        return response.json()


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        time.sleep(0.05)


def answers(url: str, process: subprocess.Popen[bytes] | None = None) -> bool:
    assert process is None or process.poll() is None, f"{url} exited"
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    work = tmp_path_factory.mktemp("replicas")
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MONEYBIRD_", "MONITE_", "GATEWAY_"))
    }
    with ExitStack() as stack:
        processes: list[subprocess.Popen[bytes]] = []

        def stop_all() -> None:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()

        stack.callback(stop_all)
        redis = RedisServer(work)
        redis.start()
        stack.callback(redis.stop)
        stack.callback(lambda: redis.process is not None and redis.resume())
        # Servers take a port nobody holds (0) and are asked which; only haproxy
        # needs its port before it starts, as the replicas' public URL.
        sandbox_process = start(
            [
                *(sys.executable, "-m", "gateway", "sandbox", "--port", "0"),
                *("--rate-limit", f"{LIMIT}/{WINDOW:g}", "--webhook-retry-interval", "0.5"),
            ],
            clean,
            work / "sandbox.log",
        )
        processes.append(sandbox_process)
        sandbox = f"http://127.0.0.1:{port_of(sandbox_process, 'the sandbox')}"
        lb_port = free_port()
        lb = f"http://127.0.0.1:{lb_port}"
        env = clean | {
            "MONEYBIRD_BASE_URL": f"{sandbox}/moneybird",
            "MONITE_BASE_URL": f"{sandbox}/monite",
            "MONEYBIRD_ADMINISTRATION_ID": ADMINISTRATION,
            "MONITE_ENTITY_ID": ENTITY_ID,
            "GATEWAY_PUBLIC_URL": lb,
            "GATEWAY_REDIS_URL": redis.url,
            "GATEWAY_REPLICAS": str(REPLICAS),
            "GATEWAY_MONEYBIRD_BUDGET": f"{LIMIT}/{WINDOW:g}",
            # a request waits for a budget slot at most a few seconds
            "GATEWAY_REQUEST_DEADLINE": "4",
            # pushes keep the mirrors fresh: no sync after the first
            "GATEWAY_MONEYBIRD_MAX_STALENESS": "3600",
            # a loaded machine may take a while to answer; Redis down refuses at once
            "GATEWAY_REDIS_TIMEOUT": "1",
            "GATEWAY_REDIS_RETRY": "0.2",
            "GATEWAY_LOG_LEVEL": "warning",
            "TMPDIR": str(work),
        }
        started = [
            start(
                [sys.executable, "-m", "gateway", "serve", "--port", "0", "--workers", "1"],
                env,
                work / f"replica-{n}.log",
            )
            for n in range(REPLICAS)
        ]
        processes += started
        replicas = {
            f"http://127.0.0.1:{port_of(process, f'replica {n}')}": process
            for n, process in enumerate(started)
        }
        wait_until(lambda: answers(f"{sandbox}/_sandbox/requests", sandbox_process), "the sandbox")
        for url, process in replicas.items():
            wait_until(lambda u=url, p=process: answers(f"{u}/readyz", p), f"replica {url}")
        config = work / "haproxy.cfg"
        servers = "\n".join(
            f"    server replica-{n} {url.removeprefix('http://')}"
            for n, url in enumerate(replicas)
        )
        config.write_text(HAPROXY_CONFIG.format(port=lb_port, servers=servers))
        subprocess.run([HAPROXY, "-c", "-q", "-f", str(config)], check=True)
        haproxy = start([HAPROXY, "-db", "-f", str(config)], clean, work / "haproxy.log")
        processes.insert(0, haproxy)
        assert port_of(haproxy, "haproxy") == lb_port
        wait_until(lambda: answers(f"{lb}/readyz", haproxy), "haproxy")
        yield Cluster(sandbox, redis, lb, replicas, work)


def graphql(
    url: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str,
    get: bool = False,
    extensions: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    client: httpx.Client | None = None,
) -> dict[str, Any]:
    """One GraphQL request, answered with a JSON body; raises on anything else."""
    sender: Any = client if client is not None else httpx
    payload: dict[str, Any] = {"variables": variables or {}}
    if query:
        payload["query"] = query
    if extensions is not None:
        payload["extensions"] = extensions
    sent = {"X-Moneybird-Token": token, **(headers or {})}
    if get:
        params = {
            k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in payload.items()
        }
        response = sender.get(f"{url}/graphql", params=params, headers=sent, timeout=TIMEOUT)
    else:
        response = sender.post(f"{url}/graphql", json=payload, headers=sent, timeout=TIMEOUT)
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    body: dict[str, Any] = response.json()
    return body


def read(url: str, token: str, contact_id: str, **options: Any) -> str | None:
    body = graphql(url, READ, {"id": contact_id}, token=token, **options)
    assert "errors" not in body, body
    city: str | None = body["data"]["contact"]["city"]
    return city


def contact_ids(cluster: Cluster) -> list[str]:
    return [str(row["id"]) for row in cluster.moneybird("GET", "contacts/synchronization.json")]


def assert_within_budget(cluster: Cluster, token: str) -> list[float]:
    """The sandbox counted no more of `token`'s calls in any window than the budget,
    and answered no call 429."""
    calls = cluster.calls_of(token)
    assert most_in_any_window(calls, WINDOW) <= LIMIT
    assert [e for e in cluster.moneybird_log() if e["status"] == 429] == []
    return calls


def apq(text: str) -> dict[str, Any]:
    return {
        "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(text.encode()).hexdigest()}
    }


def test_a_query_persisted_through_one_replica_runs_by_hash_through_every_replica(
    cluster: Cluster,
) -> None:
    text = "query Persisted { __typename }"
    answer = {"data": {"__typename": "Query"}}
    first, *others = cluster.replicas
    # given a client registers its query through one replica
    assert graphql(first, text, extensions=apq(text), token="apq") == answer
    # then the hash alone runs through every other, and through the load balancer,
    # whichever replica it chooses, with GET as with POST
    for url in others:
        assert graphql(url, "", extensions=apq(text), token="apq", get=True) == answer
    for _ in range(2 * REPLICAS):
        assert graphql(cluster.lb, "", extensions=apq(text), token="apq", get=True) == answer
        assert graphql(cluster.lb, "", extensions=apq(text), token="apq") == answer


def test_a_change_pushed_to_one_replica_is_seen_through_every_replica_within_a_second(
    cluster: Cluster,
) -> None:
    token = "pushes"
    contact_id = contact_ids(cluster)[0]
    # given every replica has served the administration, and the webhook is registered
    for url in cluster.replicas:
        read(url, token, contact_id)
    hook = f"{cluster.lb}/webhooks/moneybird"

    def registered() -> bool:
        hooks = httpx.get(f"{cluster.sandbox}/_sandbox/moneybird/webhooks", timeout=TIMEOUT)
        return [h["url"] for h in hooks.json()] == [hook]

    wait_until(registered, "the webhook's registration")
    # when someone changes a contact in Moneybird, which pushes it to one replica
    cluster.moneybird("PATCH", f"contacts/{contact_id}.json", json={"contact": {"city": "Workum"}})
    changed_at = time.monotonic()
    # then every replica answers the new city within a second
    waiting = [*cluster.replicas, cluster.lb]
    while waiting:
        waiting = [url for url in waiting if read(url, token, contact_id) != "Workum"]
        assert not waiting or time.monotonic() - changed_at < 1.0, f"not seen through {waiting}"
    # and for good: no replica goes back to the older city
    for url in [*cluster.replicas, cluster.lb]:
        assert read(url, token, contact_id) == "Workum"
    assert_within_budget(cluster, token)


class CutOff(Exception):
    """An answer whose status came, and whose body did not."""


@dataclass
class Load:
    """Clients sending through the load balancer until stopped: readers with GET
    (which the load balancer may send again to another replica), a writer creating
    contacts with POST, each write named so that the sandbox can be asked for it."""

    cluster: Cluster
    token: str
    contact_id: str
    readers: int = 6
    write_every: float = 1.0
    stop: threading.Event = field(default_factory=threading.Event)
    reads: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # when answers were cut off after they began
    cut_off: list[float] = field(default_factory=list)
    # name -> the id of the contact the gateway answered it was created as
    written: dict[str, str] = field(default_factory=dict)
    threads: list[threading.Thread] = field(default_factory=list)

    def read_loop(self) -> None:
        with httpx.Client() as client:
            while not self.stop.is_set():
                try:
                    city = self.read_once(client)
                except CutOff:
                    # A replica that dies after it began to answer leaves the client a
                    # cut-off answer, which no load balancer can take back: the client
                    # asks again, as it would.
                    self.cut_off.append(time.time())
                    continue
                except Exception as exc:
                    self.failures.append(f"read: {exc!r}")
                else:
                    self.reads.append(str(city))

    def read_once(self, client: httpx.Client) -> str | None:
        params = {"query": READ, "variables": orjson.dumps({"id": self.contact_id}).decode()}
        with client.stream(
            "GET",
            f"{self.cluster.lb}/graphql",
            params=params,
            headers={"X-Moneybird-Token": self.token},
            timeout=TIMEOUT,
        ) as response:
            try:
                content = response.read()
            except httpx.TransportError as exc:
                raise CutOff from exc
        assert response.status_code == 200, f"{response.status_code} {content!r}"
        body = orjson.loads(content)
        assert "errors" not in body, body
        city: str | None = body["data"]["contact"]["city"]
        return city

    def write_loop(self) -> None:
        n = 0
        while not self.stop.wait(self.write_every):
            n += 1
            name = f"{self.token} {n}"
            try:
                body = graphql(self.cluster.lb, CREATE, {"name": name}, token=self.token)
                payload = body["data"]["createContact"]
                assert "errors" not in body, body
                assert payload["userErrors"] == [], body
                assert payload["contact"]["companyName"] == name, body
            except Exception as exc:
                self.failures.append(f"write {name}: {exc!r}")
            else:
                self.written[name] = payload["contact"]["id"]

    def __enter__(self) -> Load:
        self.threads = [threading.Thread(target=self.read_loop) for _ in range(self.readers)]
        self.threads.append(threading.Thread(target=self.write_loop))
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=TIMEOUT + 10)

    def reads_now(self) -> int:
        return len(self.reads)

    def written_in_the_sandbox(self) -> set[str]:
        found = self.cluster.moneybird(
            "GET", "contacts.json", params={"query": self.token, "per_page": 100}
        )
        return {contact["company_name"] for contact in found}


def test_the_replicas_together_keep_to_the_budget_under_load(cluster: Cluster) -> None:
    token = "busy"
    contact_id = contact_ids(cluster)[1]
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()
    stop = time.monotonic() + 6

    def client() -> None:
        with httpx.Client() as http:
            while time.monotonic() < stop:
                # each read goes to Moneybird, from whichever replica gets it
                body = graphql(
                    cluster.lb,
                    READ,
                    {"id": contact_id},
                    token=token,
                    headers={"Cache-Control": "no-cache"},
                    client=http,
                )
                with lock:
                    answers.append(body)
                if "errors" in body:
                    time.sleep(0.05)

    admitted_before = {url: admitted(url) for url in cluster.replicas}
    # when many clients read through Moneybird, more than the budget allows
    threads = [threading.Thread(target=client) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT + 10)
    # then every replica called Moneybird, and the sandbox never counted more calls
    # in a window than the budget, for the three together
    assert all(admitted(url) > admitted_before[url] for url in cluster.replicas)
    calls = assert_within_budget(cluster, token)
    # every request was answered, or refused for the budget with the time to retry
    refused = [body for body in answers if "errors" in body]
    for body in refused:
        assert {e["extensions"]["code"] for e in body["errors"]} == {"RATE_LIMITED"}, body
    assert refused
    assert len(answers) - len(refused) == len(calls)
    # and the budget was used: a full window, then the next one
    assert len(calls) >= LIMIT + LIMIT // 2


def metric(url: str, name: str) -> float:
    """A sample of one replica's metrics, 0 when it has none yet."""
    metrics = httpx.get(f"{url}/metrics", timeout=TIMEOUT).text
    match = re.search(rf"^{re.escape(name)} (\S+)$", metrics, re.MULTILINE)
    return 0.0 if match is None else float(match[1])


def degraded(url: str) -> float:
    return metric(url, "gateway_state_degraded")


def admitted(url: str) -> float:
    return metric(url, 'gateway_upstream_budget_admitted_total{upstream="Moneybird"}')


def test_redis_stopped_mid_run_fails_no_request_and_the_replicas_catch_up(
    cluster: Cluster,
) -> None:
    token = "outage"
    contact_id = contact_ids(cluster)[2]
    for url in cluster.replicas:
        read(url, token, contact_id)
    with Load(cluster, token, contact_id, write_every=2.5) as load:
        wait_until(lambda: load.reads_now() > 20, "reads before Redis stops")
        # when Redis stops while clients read and write
        cluster.redis.stop()
        reads, writes = len(load.reads), len(load.written)
        wait_until(lambda: all(degraded(url) == 1 for url in cluster.replicas), "going alone")
        wait_until(
            lambda: len(load.reads) > reads + 50 and len(load.written) > writes,
            "reads and a write while Redis is down",
        )
        # and starts again, empty
        cluster.redis.start()
        wait_until(lambda: all(degraded(url) == 0 for url in cluster.replicas), "sharing again")
        restarted_at = len(load.reads)
        wait_until(lambda: len(load.reads) > restarted_at + 20, "reads after Redis is back")
    # then no request failed
    assert load.failures == []
    assert load.cut_off == []
    assert set(load.written) <= load.written_in_the_sandbox()
    # and each replica sees what every other wrote meanwhile
    for url in cluster.replicas:
        for name, created in load.written.items():
            body = graphql(url, NAME, {"id": created}, token=token)
            assert body.get("data", {}).get("contact") == {"companyName": name}, (url, body)
    assert_within_budget(cluster, token)


def test_a_replica_killed_under_load_loses_no_write_and_fails_no_read(cluster: Cluster) -> None:
    token = "killed"
    contact_id = contact_ids(cluster)[3]
    victim = list(cluster.replicas)[-1]
    with Load(cluster, token, contact_id, write_every=0.7) as load:
        wait_until(lambda: load.reads_now() > 20 and len(load.written) >= 1, "load")
        # when one replica dies at once, requests in flight included
        killed_at = time.time()
        os.kill(cluster.replicas[victim].pid, signal.SIGKILL)
        cluster.replicas[victim].wait(timeout=TIMEOUT)
        gone_at = time.time()
        reads, writes = len(load.reads), len(load.written)
        wait_until(
            lambda: len(load.reads) > reads + 100 and len(load.written) >= writes + 3,
            "reads and writes after the kill",
        )
    # then every read was answered, by the replicas left, but for answers the dead
    # replica had begun as it died
    assert [f for f in load.failures if f.startswith("read")] == []
    assert len(load.cut_off) <= load.readers
    assert all(killed_at <= at <= gone_at + 1 for at in load.cut_off), (killed_at, load.cut_off)
    # and every write the client was told succeeded is in Moneybird
    assert load.written
    assert set(load.written) <= load.written_in_the_sandbox()
    assert_within_budget(cluster, token)

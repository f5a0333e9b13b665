"""One company's staff on the gateway, within Moneybird's call budget.

U users, each with a GraphQL client of their own, all in one administration and
sharing one Moneybird token (or a few: --tokens), browse pages of contacts,
search them, open one, read a screenful by ids and now and then edit one, with
think time between actions. They use `gateway serve`, started as in production,
in front of the sandbox in its own process with Moneybird's rate limit on
(`gateway sandbox --rate-limit`, counted per token as the sandbox does by
default); the gateway's budget (GATEWAY_MONEYBIRD_BUDGET) is the same limit.
Meanwhile someone outside the gateway changes a contact through the sandbox's
Moneybird API every few seconds, with a token of their own, and a reader through
the gateway asks for each changed contact until it sees the change.

Each mode runs on fresh processes:

    off        GATEWAY_MONEYBIRD_MIRROR=false: every read calls Moneybird
    mirror     the mirror, synced again when older than GATEWAY_MONEYBIRD_MAX_STALENESS
    webhooks   the mirror, and GATEWAY_PUBLIC_URL set to the gateway's own URL

For each mode it prints the GraphQL requests served, the Moneybird calls the
sandbox received from the gateway (its request log, with arrival times) and the
most of them in any window of the limit's length (sliding), the 429s the
sandbox answered, latency, RATE_LIMITED answers to reads and to writes, how old
the mirrored data in answers was, and the staleness: the time from a change made
outside the gateway until the reader saw it.

With --memory it measures instead what a mirror costs: the RSS of each worker
of `gateway serve` before and after the mirror of an administration with N
contacts is built, and the size of the coordination state file.

    .venv/bin/python bench/budget.py                                # 50 users, 360 s per mode
    .venv/bin/python bench/budget.py --duration 90 --limit 30/60    # a quick look
    .venv/bin/python bench/budget.py --memory 10000,50000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from procs import free_port, process

from gateway.mirror.contacts import AdministrationContacts
from gateway.sandbox.state import SandboxState

ADMINISTRATION = "123456789"
# The sandbox accepts any token; this one is not the staff's, so it has its own quota.
OUTSIDE_TOKEN = "someone-outside-the-gateway"  # noqa: S105 - a sandbox token, not a secret
PAGE = 20

BROWSE = """query Browse($after: String) {
  contacts(first: 20, after: $after) {
    edges { node { id displayName companyName city email phone } }
    pageInfo { hasNextPage endCursor }
  }
}"""
SEARCH = """query Search($query: String!) {
  contacts(first: 20, query: $query) {
    edges { node { id displayName companyName city email } }
    pageInfo { hasNextPage endCursor }
  }
}"""
OPEN = """query Open($id: ID!) {
  contact(id: $id) {
    id displayName companyName firstname lastname address1 address2 zipcode city country
    email phone customerId version
    notes { id note createdAt }
    events { action createdAt }
  }
}"""
SCREEN = """query Screen($ids: [ID!]!) {
  contactsByIds(ids: $ids) { id displayName city email phone version }
}"""
EDIT_CITY = """mutation EditCity($id: ID!, $city: String!) {
  updateContact(id: $id, input: { city: $city }) { contact { id city version } userErrors { code } }
}"""
ADD_NOTE = """mutation AddNote($id: ID!, $note: String!) {
  addContactNote(contactId: $id, input: { note: $note }) { note { id } userErrors { code } }
}"""
WATCH = """query Watch($ids: [ID!]!) { contactsByIds(ids: $ids) { id version } }"""


@dataclass(frozen=True)
class Mode:
    name: str
    mirror: bool
    webhooks: bool
    summary: str


MODES = {
    "off": Mode("off", False, False, "no mirror: every read calls Moneybird"),
    "mirror": Mode("mirror", True, False, "the mirror, synced when stale; no webhooks"),
    "webhooks": Mode("webhooks", True, True, "the mirror with webhooks (GATEWAY_PUBLIC_URL set)"),
}


# --- processes ---------------------------------------------------------------------


def _environment() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MONEYBIRD_", "MONITE_", "GATEWAY_"))
    }


@dataclass(frozen=True)
class Stack:
    sandbox_url: str
    gateway_url: str
    gateway_pid: int


@contextmanager
def sandbox_and_gateway(
    work: Path,
    name: str,
    *,
    contacts: int,
    rate_limit: str | None,
    gateway_env: dict[str, str],
    public_url: bool,
) -> Iterator[Stack]:
    """`gateway sandbox` and `gateway serve` in front of it, each its own process;
    `gateway serve` with its production default of workers."""
    sandbox_port, gateway_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    sandbox_args = ["--port", str(sandbox_port), "--contacts", str(contacts)]
    sandbox_args += ["--log-limit", "1000000"]
    if rate_limit is not None:
        sandbox_args += ["--rate-limit", rate_limit]
    env = {
        **_environment(),
        "MONEYBIRD_BASE_URL": f"{sandbox_url}/moneybird",
        "MONITE_BASE_URL": f"{sandbox_url}/monite",
        **gateway_env,
    }
    if public_url:
        env["GATEWAY_PUBLIC_URL"] = gateway_url
    with ExitStack() as stack:
        stack.enter_context(
            process(
                [sys.executable, "-m", "gateway", "sandbox", *sandbox_args],
                _environment(),
                f"{sandbox_url}/_sandbox/moneybird/settings",
                log=work / f"{name}-sandbox.log",
                start_timeout=120,
            )
        )
        gateway_pid = stack.enter_context(
            process(
                [sys.executable, "-m", "gateway", "serve", "--port", str(gateway_port)],
                env,
                f"{gateway_url}/readyz",
                log=work / f"{name}-gateway.log",
                start_timeout=120,
            )
        )
        wait_for_workers(gateway_pid, gateway_url)
        yield Stack(sandbox_url, gateway_url, gateway_pid)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            if parent == pid:
                found.append(int(entry.name))
    return sorted(found)


def workers(pid: int) -> list[int]:
    """The processes that serve requests: the workers of a supervisor, or `pid` itself."""
    served = []
    for child in children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command:
            served.append(child)
    return served or [pid]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def wait_for_workers(pid: int, url: str) -> None:
    """Until every worker answers: /readyz answers as soon as one does."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(workers(pid)) == (os.cpu_count() or 1) or children(pid) == []:
            break
        time.sleep(0.2)
    for _ in range(20):
        httpx.get(f"{url}/readyz", headers={"Connection": "close"}, timeout=10)


# --- the users ---------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    """What the users know of the administration: ids and words to search for."""

    ids: list[str]
    words: list[str]
    cities: list[str]


def seeded(contacts: int) -> Seeded:
    """The sandbox's seed is the same on every start: read it here, not through
    Moneybird, so that the users' knowledge costs no calls."""
    data = SandboxState(contact_count=contacts).moneybird.contacts.values()
    words: set[str] = set()
    cities: set[str] = set()
    for contact in data:
        for name in ("company_name", "firstname", "lastname", "city", "address1"):
            for word in str(contact.get(name) or "").split():
                if len(word) >= 4 and word.isalpha():
                    words.add(word.lower())
        if contact.get("city"):
            cities.add(contact["city"])
    return Seeded(
        ids=[c["id"] for c in data if not c["archived"]],
        words=sorted(words),
        cities=sorted(cities),
    )


@dataclass
class Tally:
    read_latencies: list[float] = field(default_factory=list)
    write_latencies: list[float] = field(default_factory=list)
    rate_limited: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    transport_errors: int = 0
    # Seconds between the mirror's syncedAt and the answer's arrival, per mirrored answer.
    data_ages: list[float] = field(default_factory=list)
    watcher_requests: int = 0
    watcher_rate_limited: int = 0


@dataclass
class Change:
    contact_id: str
    version: int
    made_at: float
    seen_after: float | None = None


@dataclass
class Outside:
    changes: list[Change] = field(default_factory=list)
    pending: dict[str, Change] = field(default_factory=dict)
    refused: Counter[int] = field(default_factory=Counter)
    ended_at: float = 0.0

    def unseen_ages(self) -> list[float]:
        """How old each change not seen by the end of the run was then."""
        return [self.ended_at - c.made_at for c in self.changes if c.seen_after is None]


def _codes(body: dict[str, Any]) -> list[str]:
    return [
        str((error.get("extensions") or {}).get("code") or "NO_CODE")
        for error in body.get("errors") or []
    ]


def _synced_at(body: dict[str, Any]) -> float | None:
    moment = ((body.get("extensions") or {}).get("mirror") or {}).get("syncedAt")
    return None if moment is None else datetime.fromisoformat(moment).timestamp()


async def user(
    number: int,
    client: httpx.AsyncClient,
    seed: Seeded,
    args: argparse.Namespace,
    stop_at: float,
    tally: Tally,
) -> None:
    rng = random.Random(number)
    cursor: str | None = None
    screen: list[str] = rng.sample(seed.ids, PAGE)
    while True:
        await asyncio.sleep(rng.uniform(args.think_min, args.think_max))
        if time.monotonic() >= stop_at:
            return
        roll = rng.random()
        kind = "read"
        variables: dict[str, Any]
        if roll < args.edits:
            kind = "write"
            target = rng.choice(screen)
            if rng.random() < 0.5:
                query, variables = EDIT_CITY, {"id": target, "city": rng.choice(seed.cities)}
            else:
                note = f"Called back ({number}/{rng.randrange(10**6)})."
                query, variables = ADD_NOTE, {"id": target, "note": note}
        elif roll < 0.35:
            go_on = cursor is not None and rng.random() < 0.6
            query, variables = BROWSE, {"after": cursor if go_on else None}
        elif roll < 0.55:
            words = rng.sample(seed.words, 2 if rng.random() < 0.2 else 1)
            query, variables = SEARCH, {"query": " ".join(words)}
        elif roll < 0.8:
            query, variables = OPEN, {"id": rng.choice(screen)}
        else:
            query, variables = SCREEN, {"ids": screen}
        started_at = time.perf_counter()
        try:
            response = await client.post("/graphql", json={"query": query, "variables": variables})
            body = response.json()
        except (httpx.HTTPError, ValueError):
            tally.transport_errors += 1
            continue
        elapsed = time.perf_counter() - started_at
        (tally.read_latencies if kind == "read" else tally.write_latencies).append(elapsed)
        codes = _codes(body)
        if "RATE_LIMITED" in codes:
            tally.rate_limited[kind] += 1
        tally.errors.update(code for code in codes if code != "RATE_LIMITED")
        synced_at = _synced_at(body)
        if synced_at is not None:
            tally.data_ages.append(time.time() - synced_at)
        page = (body.get("data") or {}).get("contacts")
        if page:
            ids = [edge["node"]["id"] for edge in page["edges"]]
            if ids:
                screen = ids
            if query is BROWSE:
                info = page["pageInfo"]
                cursor = info["endCursor"] if info["hasNextPage"] else None


async def outside_editor(
    sandbox_url: str, seed: Seeded, args: argparse.Namespace, stop_at: float, outside: Outside
) -> None:
    """Someone changing contacts in Moneybird itself, not through the gateway."""
    rng = random.Random(-1)
    targets = rng.sample(seed.ids, min(len(seed.ids), 500))
    async with httpx.AsyncClient(
        base_url=f"{sandbox_url}/moneybird/{ADMINISTRATION}",
        headers={"Authorization": f"Bearer {OUTSIDE_TOKEN}"},
        timeout=30,
    ) as client:
        number = 0
        while True:
            await asyncio.sleep(args.change_every)
            if time.monotonic() >= stop_at:
                return
            contact_id = targets[number % len(targets)]
            number += 1
            made_at = time.monotonic()
            answer = await client.patch(
                f"/contacts/{contact_id}.json",
                json={"contact": {"address2": f"Changed outside the gateway, {number}"}},
            )
            if answer.status_code != 200:
                outside.refused[answer.status_code] += 1
                continue
            change = Change(contact_id, int(answer.json()["version"]), made_at)
            outside.changes.append(change)
            outside.pending[contact_id] = change


async def watcher(
    client: httpx.AsyncClient,
    args: argparse.Namespace,
    stop_at: float,
    outside: Outside,
    tally: Tally,
) -> None:
    """A reader through the gateway asking for every changed contact it has not seen
    changed yet, in one request per poll."""
    while time.monotonic() < stop_at:
        await asyncio.sleep(args.poll)
        if not outside.pending:
            continue
        ids = list(outside.pending)
        try:
            response = await client.post(
                "/graphql", json={"query": WATCH, "variables": {"ids": ids}}
            )
            body = response.json()
        except (httpx.HTTPError, ValueError):
            tally.transport_errors += 1
            continue
        arrived = time.monotonic()
        tally.watcher_requests += 1
        if "RATE_LIMITED" in _codes(body):
            tally.watcher_rate_limited += 1
        # In the order asked: the answer's ids need not be Moneybird's.
        answered = (body.get("data") or {}).get("contactsByIds") or []
        for contact_id, contact in zip(ids, answered, strict=False):
            change = outside.pending.get(contact_id)
            if contact is None or change is None:
                continue
            if int(contact["version"]) >= change.version:
                change.seen_after = arrived - change.made_at
                del outside.pending[contact_id]


def _client(url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url,
        headers={
            "X-Moneybird-Token": token,
            "X-Moneybird-Administration-Id": ADMINISTRATION,
        },
        timeout=60,
    )


def token_of(user_number: int, tokens: int) -> str:
    return f"staff-token-{user_number % tokens + 1}"


async def drive(stack: Stack, seed: Seeded, args: argparse.Namespace) -> tuple[Tally, Outside]:
    tally, outside = Tally(), Outside()
    start = time.monotonic()
    stop_at = start + args.duration
    # The last changes would have no time to be seen before the run ends.
    changes_stop_at = stop_at - min(args.duration / 2, args.settle)
    clients = [_client(stack.gateway_url, token_of(n, args.tokens)) for n in range(args.users)]
    watching = _client(stack.gateway_url, token_of(0, args.tokens))
    try:
        await asyncio.gather(
            *(user(n, clients[n], seed, args, stop_at, tally) for n in range(args.users)),
            outside_editor(stack.sandbox_url, seed, args, changes_stop_at, outside),
            watcher(watching, args, stop_at, outside, tally),
        )
    finally:
        for client in [*clients, watching]:
            await client.aclose()
    outside.ended_at = time.monotonic()
    return tally, outside


# --- what Moneybird received ---------------------------------------------------------


def most_in_window(times: list[float], seconds: float) -> int:
    """The most calls in any window of `seconds` (sliding: every window that starts at a call)."""
    times = sorted(times)
    most, end = 0, 0
    for start, moment in enumerate(times):
        while end < len(times) and times[end] < moment + seconds:
            end += 1
        most = max(most, end - start)
    return most


_KINDS = (
    ("GET", re.compile(r"/contacts/synchronization\.json$"), "versions"),
    ("POST", re.compile(r"/contacts/synchronization\.json$"), "by ids"),
    ("GET", re.compile(r"/contacts(/filter)?\.json$"), "list"),
    ("PATCH", re.compile(r"/contacts/\d+\.json$"), "update"),
    ("POST", re.compile(r"/notes\.json$"), "note"),
    (None, re.compile(r"/webhooks"), "webhooks"),
)


def kind_of(entry: dict[str, Any]) -> str:
    for method, pattern, name in _KINDS:
        if (method is None or entry["method"] == method) and pattern.search(entry["path"]):
            return name
    return f"{entry['method']} other"


@dataclass
class Received:
    calls: int
    by_token_most: dict[str, int]
    by_kind: Counter[str]
    too_many: int
    outside_calls: int
    outside_too_many: int


def received(sandbox_url: str, tokens: int, window: float, keep: Path) -> Received:
    """What the sandbox's Moneybird received, from its request log (kept in `keep`)."""
    answer = httpx.get(
        f"{sandbox_url}/_sandbox/requests", params={"upstream": "moneybird"}, timeout=60
    )
    keep.write_bytes(answer.content)
    log = answer.json()
    staff = {f"Bearer {token_of(n, tokens)}" for n in range(tokens)}
    ours = [entry for entry in log if entry["headers"].get("authorization") in staff]
    theirs = [
        entry for entry in log if entry["headers"].get("authorization") == f"Bearer {OUTSIDE_TOKEN}"
    ]
    by_token = {
        token: most_in_window(
            [e["received_at"] for e in ours if e["headers"]["authorization"] == token], window
        )
        for token in sorted(staff)
    }
    return Received(
        calls=len(ours),
        by_token_most=by_token,
        by_kind=Counter(kind_of(entry) for entry in ours),
        too_many=sum(1 for entry in ours if entry["status"] == 429),
        outside_calls=len(theirs),
        outside_too_many=sum(1 for entry in theirs if entry["status"] == 429),
    )


# --- one mode, and the report ---------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


@dataclass
class Outcome:
    mode: Mode
    elapsed: float
    tally: Tally
    outside: Outside
    upstream: Received


def run_mode(mode: Mode, seed: Seeded, args: argparse.Namespace, work: Path) -> Outcome:
    gateway_env = {
        "GATEWAY_MONEYBIRD_BUDGET": args.limit,
        "GATEWAY_MONEYBIRD_MIRROR": "true" if mode.mirror else "false",
    }
    if args.max_staleness is not None:
        gateway_env["GATEWAY_MONEYBIRD_MAX_STALENESS"] = str(args.max_staleness)
    with sandbox_and_gateway(
        work,
        mode.name,
        contacts=args.contacts,
        rate_limit=args.limit,
        gateway_env=gateway_env,
        public_url=mode.webhooks,
    ) as stack:
        print(
            f"\n== {mode.name}: {mode.summary}; gateway serve with "
            f"{len(workers(stack.gateway_pid))} workers",
            file=sys.stderr,
            flush=True,
        )
        started_at = time.monotonic()
        tally, outside = asyncio.run(drive(stack, seed, args))
        elapsed = time.monotonic() - started_at
        time.sleep(1)  # calls the last requests started reach the log
        upstream = received(
            stack.sandbox_url, args.tokens, args.window, work / f"{mode.name}-moneybird-log.json"
        )
    outcome = Outcome(mode, elapsed, tally, outside, upstream)
    report(outcome, args)
    return outcome


def report(outcome: Outcome, args: argparse.Namespace) -> None:
    tally, outside, upstream = outcome.tally, outcome.outside, outcome.upstream
    reads, writes = len(tally.read_latencies), len(tally.write_latencies)
    window = f"{args.window:g} s"
    print(f"\n{outcome.mode.name}: {outcome.mode.summary}")
    print(
        f"  GraphQL requests   {reads + writes + tally.watcher_requests} in {outcome.elapsed:.0f} s:"
        f" users {reads} reads, {writes} writes; watcher {tally.watcher_requests}"
    )
    most = max(upstream.by_token_most.values(), default=0)
    per_token = (
        ""
        if len(upstream.by_token_most) == 1
        else " (per token: " + ", ".join(str(n) for n in upstream.by_token_most.values()) + ")"
    )
    print(
        f"  Moneybird calls    {upstream.calls} from the gateway; most in any {window}: {most}"
        f"{per_token}, limit {args.limit}; 429s {upstream.too_many}"
    )
    kinds = ", ".join(f"{name} {count}" for name, count in upstream.by_kind.most_common())
    print(f"                     {kinds or 'none'}")
    print(
        f"  latency            reads p50 {_percentile(tally.read_latencies, 0.5) * 1000:.0f} ms,"
        f" p99 {_percentile(tally.read_latencies, 0.99) * 1000:.0f} ms;"
        f" writes p50 {_percentile(tally.write_latencies, 0.5) * 1000:.0f} ms,"
        f" p99 {_percentile(tally.write_latencies, 0.99) * 1000:.0f} ms"
    )
    print(
        f"  RATE_LIMITED       reads {tally.rate_limited['read']},"
        f" writes {tally.rate_limited['write']}; watcher {tally.watcher_rate_limited}"
    )
    others = dict(tally.errors)
    print(f"  other errors       {others or 0}; transport errors {tally.transport_errors}")
    if tally.data_ages:
        print(
            f"  mirrored data age  p50 {statistics.median(tally.data_ages):.1f} s,"
            f" max {max(tally.data_ages):.1f} s (answer's arrival - extensions.mirror.syncedAt)"
        )
    seen = [c.seen_after for c in outside.changes if c.seen_after is not None]
    unseen = outside.unseen_ages()
    line = f"  staleness          {len(outside.changes)} changes made outside"
    if seen:
        line += (
            f"; seen after p50 {statistics.median(seen):.2f} s,"
            f" p99 {_percentile(seen, 0.99):.2f} s, max {max(seen):.2f} s"
        )
    if unseen:
        line += f"; {len(unseen)} not seen by the end (up to {max(unseen):.0f} s old)"
    print(line)
    refused = dict(outside.refused)
    print(
        f"  outside editor     {upstream.outside_calls} calls, refused {refused or 0},"
        f" 429s {upstream.outside_too_many}"
    )


def summary(outcomes: list[Outcome], args: argparse.Namespace) -> None:
    print(
        f"\n| mode | requests | Moneybird calls | most in {args.window:g} s | 429s"
        " | reads p50 / p99 ms | RATE_LIMITED reads / writes | staleness p50 / max s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for outcome in outcomes:
        tally, upstream = outcome.tally, outcome.upstream
        requests = len(tally.read_latencies) + len(tally.write_latencies) + tally.watcher_requests
        seen = [c.seen_after for c in outcome.outside.changes if c.seen_after is not None]
        unseen = sum(1 for c in outcome.outside.changes if c.seen_after is None)
        staleness = (f"{statistics.median(seen):.2f} / {max(seen):.2f}" if seen else "-") + (
            f" ({unseen} unseen)" if unseen else ""
        )
        print(
            f"| {outcome.mode.name} | {requests} | {upstream.calls}"
            f" | {max(upstream.by_token_most.values(), default=0)} | {upstream.too_many}"
            f" | {_percentile(tally.read_latencies, 0.5) * 1000:.0f}"
            f" / {_percentile(tally.read_latencies, 0.99) * 1000:.0f}"
            f" | {tally.rate_limited['read']} / {tally.rate_limited['write']} | {staleness} |"
        )


# --- memory per mirrored contact ---------------------------------------------------


def measure_memory(count: int, work: Path) -> None:
    """RSS of each worker before and after the mirror of `count` contacts is built;
    the budget is off, as a build of more than about 15,000 contacts needs more than
    150 calls."""
    state_path = work / f"state-{count}.sqlite3"
    gateway_env = {
        "GATEWAY_MONEYBIRD_BUDGET": "off",
        "GATEWAY_STATE_PATH": str(state_path),
        "GATEWAY_LOG_LEVEL": "warning",
    }
    headers = {"X-Moneybird-Token": "memory", "X-Moneybird-Administration-Id": ADMINISTRATION}
    some_id = SandboxState(contact_count=1).moneybird.contacts.popitem()[0]
    payload = {"query": OPEN, "variables": {"id": some_id}}
    with sandbox_and_gateway(
        work,
        f"memory-{count}",
        contacts=count,
        rate_limit=None,
        gateway_env=gateway_env,
        public_url=False,
    ) as stack:
        served = workers(stack.gateway_pid)

        def each_worker(extra: dict[str, str]) -> None:
            """Requests on new connections, several at once, until every worker has
            answered some (the kernel hands connections to whichever accepts first)."""

            async def rounds() -> None:
                async with httpx.AsyncClient(
                    base_url=stack.gateway_url, headers={**headers, **extra}, timeout=600
                ) as client:
                    for _ in range(5):
                        answers = await asyncio.gather(
                            *(
                                client.post(
                                    "/graphql", json=payload, headers={"Connection": "close"}
                                )
                                for _ in range(8)
                            )
                        )
                        for answer in answers:
                            if answer.json().get("errors"):
                                raise SystemExit(f"memory run: {answer.json()['errors']}")

            asyncio.run(rounds())

        # Warm every worker on a read that leaves the mirror alone.
        each_worker({"Cache-Control": "no-cache"})
        time.sleep(2)
        before = {pid: rss_bytes(pid) for pid in served}
        state_before = _state_bytes(state_path)
        started_at = time.monotonic()
        first = httpx.post(
            f"{stack.gateway_url}/graphql", json=payload, headers=headers, timeout=600
        )
        built_in = time.monotonic() - started_at
        if first.json().get("errors"):
            print(f"{count} contacts: the first read failed: {first.json()['errors']}")
            return
        each_worker({})
        time.sleep(2)
        after = {pid: rss_bytes(pid) for pid in served}
        state_after = _state_bytes(state_path)
        calls = len(httpx.get(f"{stack.sandbox_url}/_sandbox/requests", timeout=60).json())
    mib = 1024 * 1024
    print(
        f"\n{count} contacts: built in {built_in:.1f} s by the first read; {calls} Moneybird calls in all"
    )
    for pid in served:
        grown = after[pid] - before[pid]
        print(
            f"  worker {pid}: RSS {before[pid] / mib:.0f} -> {after[pid] / mib:.0f} MiB,"
            f" {grown / count:,.0f} bytes per contact"
        )
    print(
        f"  state file: {state_before / mib:.1f} -> {state_after / mib:.1f} MiB,"
        f" {(state_after - state_before) / count:,.0f} bytes per contact"
    )
    print(
        f"  live Python heap of the mirror: {live_bytes_per_contact(count):,.0f} bytes per contact"
    )


def live_bytes_per_contact(count: int) -> float:
    """The mirror's own structure for `count` contacts, as decoded from Moneybird's JSON,
    measured by tracemalloc in this process: what a worker keeps, without what building
    it left to the allocator."""
    raw = [orjson.dumps(c) for c in SandboxState(contact_count=count).moneybird.contacts.values()]
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        contacts = AdministrationContacts()
        for body in raw:
            contacts.apply(orjson.loads(body))
        contacts.versions(include_archived=True)  # builds the ordered index as reads do
        gc.collect()
        return (tracemalloc.get_traced_memory()[0] - base) / count
    finally:
        tracemalloc.stop()


def _state_bytes(path: Path) -> int:
    return sum(
        candidate.stat().st_size for candidate in (path, Path(f"{path}-wal")) if candidate.exists()
    )


# --- the command ---------------------------------------------------------------------


def _limit_seconds(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not CALLS/SECONDS, e.g. 150/300")
    return float(match[2])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--tokens", type=int, default=1, help="Moneybird tokens the users share, round robin (1)"
    )
    parser.add_argument("--duration", type=float, default=360.0, help="seconds per mode (360)")
    parser.add_argument(
        "--limit",
        default="150/300",
        help="Moneybird's rate limit, CALLS/SECONDS: the sandbox's and the gateway's budget (150/300)",
    )
    parser.add_argument(
        "--modes", default="off,mirror,webhooks", help="comma-separated: off, mirror, webhooks"
    )
    parser.add_argument("--contacts", type=int, default=1000, help="contacts in the administration")
    parser.add_argument("--think-min", type=float, default=0.5, help="seconds (0.5)")
    parser.add_argument("--think-max", type=float, default=3.0, help="seconds (3)")
    parser.add_argument(
        "--edits", type=float, default=0.003, help="share of actions that are edits (0.003)"
    )
    parser.add_argument(
        "--change-every", type=float, default=5.0, help="seconds between outside changes (5)"
    )
    parser.add_argument(
        "--poll", type=float, default=0.2, help="seconds between the watcher's reads (0.2)"
    )
    parser.add_argument(
        "--max-staleness",
        type=float,
        default=None,
        help="GATEWAY_MONEYBIRD_MAX_STALENESS (unset: the gateway's default, 30)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=40.0,
        help="seconds at the end of a mode without outside changes, to see the last ones (40)",
    )
    parser.add_argument(
        "--memory",
        default=None,
        metavar="N,N",
        help="measure RSS per mirrored contact for these contact counts instead",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-budget-"))
    if args.memory is not None:
        print(
            "gateway serve with its production default of workers, GATEWAY_MONEYBIRD_BUDGET=off;"
            " RSS per worker before and after the mirror is built and read by every worker"
        )
        for count in (int(n) for n in args.memory.split(",")):
            measure_memory(count, work)
        print(f"\nprocess logs in {work}")
        return
    args.window = _limit_seconds(args.limit)
    modes = [MODES[name.strip()] for name in args.modes.split(",") if name.strip()]
    if args.duration < args.window:
        print(
            f"note: {args.duration:g} s is shorter than the {args.window:g}-s window:"
            " no window is full",
            file=sys.stderr,
        )
    seed = seeded(args.contacts)
    print(
        f"{args.users} users on {args.tokens} token(s), one administration of {args.contacts}"
        f" contacts; {args.duration:g} s per mode; think {args.think_min:g}-{args.think_max:g} s;"
        f" edits {args.edits:.1%} of actions; Moneybird limit {args.limit} per token"
        f" (sandbox and GATEWAY_MONEYBIRD_BUDGET); a change outside every"
        f" {args.change_every:g} s, watched every {args.poll:g} s"
    )
    outcomes = [run_mode(mode, seed, args, work) for mode in modes]
    summary(outcomes, args)
    print(f"\nprocess logs in {work}")


if __name__ == "__main__":
    main()

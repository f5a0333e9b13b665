"""Several processes on one SQLite state at once: each method stays atomic."""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.state import SqliteState
from gateway.state import sqlite as sqlite_backend
from tests.state.test_contract import most_in_any_window

PROCESSES = 4
LIMIT = 20
WINDOW = 0.5
LEASE_TTL = 0.02
# Floating-point slack when a slot is rebuilt as now + delay.
EPSILON = 1e-6


@dataclass
class Report:
    slots: dict[str, list[float]] = field(default_factory=dict)
    refused: int = 0
    # (seq, key, value) of every upsert
    upserts: list[tuple[int, str, bytes]] = field(default_factory=list)
    # (granted at, expires at) of every lease taken
    leases: list[tuple[float, float]] = field(default_factory=list)
    # seconds each transaction on the event loop took, and the CPU time of
    # its thread (the difference is time the process was not running)
    blocking: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def hammer(path: str, start_at: float, seconds: float) -> Report:
    """One process's share: admissions, upserts and leases, interleaved at random."""
    report = Report()
    transaction = sqlite_backend._transaction

    def timed(*args: Any) -> Any:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return transaction(*args)
        finally:
            report.blocking.append(time.perf_counter() - started)
            report.cpu.append(time.thread_time() - cpu)

    sqlite_backend._transaction = timed
    last_now = [0.0]

    def clock() -> float:
        last_now[0] = time.time()
        return last_now[0]

    async def main() -> None:
        state = SqliteState(Path(path), clock=clock)
        owner = str(os.getpid())
        draw = random.Random(os.getpid())  # noqa: S311 - a workload, not a secret
        await asyncio.sleep(max(0.0, start_at - time.time()))
        n = 0
        while time.time() < start_at + seconds:
            n += 1
            roll = draw.random()
            if roll < 0.6:
                key = draw.choice(["token-a", "token-b"])
                admission = await state.admit(
                    key, limit=LIMIT, window=WINDOW, max_wait=draw.choice([0.0, 0.1, 0.3])
                )
                if admission.admitted:
                    report.slots.setdefault(key, []).append(last_now[0] + admission.delay)
                else:
                    report.refused += 1
            elif roll < 0.85:
                key = f"shared-{draw.randrange(10)}" if draw.random() < 0.5 else f"{owner}-{n % 20}"
                value = f"{owner}:{n}".encode()
                report.upserts.append((await state.upsert("contacts", key, value), key, value))
            else:
                if await state.try_lease("refresh", owner, LEASE_TTL):
                    report.leases.append((last_now[0], last_now[0] + LEASE_TTL))
            await asyncio.sleep(0)
        await state.aclose()

    asyncio.run(main())
    return report


def test_processes_hammering_one_state_never_break_its_promises(tmp_path: Path) -> None:
    # given one state file and several processes started together
    path = tmp_path / "state.sqlite3"
    SqliteState(path)  # the schema, so that no process waits for another to make it
    start_at = time.time() + 3
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        reports = list(
            pool.map(hammer, [str(path)] * PROCESSES, [start_at] * PROCESSES, [2.0] * PROCESSES)
        )

    # then no window holds more calls than the limit, for either key
    for key in ("token-a", "token-b"):
        slots = sorted(slot for report in reports for slot in report.slots.get(key, []))
        assert (
            most_in_any_window([s + EPSILON * i for i, s in enumerate(slots)], WINDOW - EPSILON)
            <= LIMIT
        )
        # and the budget was used, not just refused
        assert len(slots) >= LIMIT * 2.0 / WINDOW
    assert sum(report.refused for report in reports) > 0

    # each upsert got a sequence number of its own, and the feed holds each key's last value
    upserts = sorted(upsert for report in reports for upsert in report.upserts)
    assert [seq for seq, _, _ in upserts] == list(range(1, len(upserts) + 1))
    latest = {key: value for _, key, value in upserts}
    last_seq, changes = asyncio.run(_read_all(path))
    assert last_seq == len(upserts)
    assert dict(changes) == latest
    assert [key for key, _ in changes] == sorted(
        latest, key=lambda k: max(s for s, key, _ in upserts if key == k)
    )

    # leases never overlap between owners
    grants = sorted(
        (granted, expires, owner)
        for owner, report in enumerate(reports)
        for granted, expires in report.leases
    )
    assert len({owner for _, _, owner in grants}) > 1
    for (_, expires, owner), (granted, _, next_owner) in itertools.pairwise(grants):
        assert owner == next_owner or granted >= expires

    for what in ("blocking", "cpu"):
        times = sorted(seconds for report in reports for seconds in getattr(report, what))
        print(
            f"\n{len(times)} transactions on the event loop, {PROCESSES} processes, {what}: "
            f"p50 {times[len(times) // 2] * 1e6:.0f} us, "
            f"p99 {times[int(len(times) * 0.99)] * 1e6:.0f} us, "
            f"p99.9 {times[int(len(times) * 0.999)] * 1e6:.0f} us, "
            f"max {times[-1] * 1e6:.0f} us"
        )


async def _read_all(path: Path) -> tuple[int, list[tuple[str, bytes | None]]]:
    state = SqliteState(path)
    try:
        return await state.since("contacts", 0)
    finally:
        await state.aclose()

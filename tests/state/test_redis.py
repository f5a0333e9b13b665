"""What the Redis backend adds to the contract: Redis's own clock for every
process, keys under one prefix that carry no secret and go away when unused,
and scripts that stay atomic across processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import secrets
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from redis.asyncio import Redis

from gateway.state import KeyHasher, RedisState
from tests.redis_server import RedisServer
from tests.state.conftest import FakeClock
from tests.state.test_contract import most_in_any_window


def open_state(redis: RedisServer, prefix: str, **options: Any) -> RedisState:
    return RedisState.from_url(redis.url, timeout=5, prefix=prefix, **options)


async def keys_and_ttls(redis: RedisServer, prefix: str) -> dict[str, int]:
    """Every key under `prefix`, with its time to live in ms (-1: none)."""
    client = Redis.from_url(redis.url)
    try:
        return {
            key.decode(): await client.pttl(key)
            async for key in client.scan_iter(match=f"{prefix}*")
        }
    finally:
        await client.aclose()


def test_keys_stay_under_the_prefix_hold_no_secret_and_expire_unless_they_must_stay(
    redis: RedisServer,
) -> None:
    prefix = f"t-{secrets.token_hex(4)}:"

    async def scenario() -> dict[str, int]:
        state = open_state(redis, prefix, idle_ttl=60)
        try:
            hasher = await KeyHasher.for_state(state)
            budget = f"budget:moneybird:{hasher.key('secret-token')}"
            await state.admit(budget, limit=2, window=5, max_wait=0)
            await state.hold(budget, 3)
            await state.upsert("mirror:1", "7", b"contact")
            await state.try_lease("mirror:1:sync", "me", 10)
            await state.put("accepted", b"1", ttl=30)
            await state.put("registration", b"webhook")
        finally:
            await state.aclose()
        return await keys_and_ttls(redis, prefix)

    ttls = asyncio.run(scenario())
    assert not any("secret-token" in key for key in ttls)
    by_kind = {key.removeprefix(prefix).split(":{")[0]: ttl for key, ttl in ttls.items()}
    assert set(by_kind) == {
        "calls",
        "hold",
        "feed:seq",
        "feed:order",
        "feed:values",
        "lease",
        "value",
    }
    calls = next(ttl for key, ttl in ttls.items() if ":calls:" in key)
    assert 0 < calls <= 5_000
    assert 0 < next(ttl for key, ttl in ttls.items() if ":hold:" in key) <= 3_000
    assert 0 < next(ttl for key, ttl in ttls.items() if ":lease:" in key) <= 10_000
    for part in ("seq", "order", "values"):
        assert 0 < next(ttl for key, ttl in ttls.items() if f":feed:{part}:" in key) <= 60_000
    values = {key.split(":{")[1].rstrip("}"): ttl for key, ttl in ttls.items() if ":value:" in key}
    assert 0 < values["accepted"] <= 30_000
    # the salt and a value put without a ttl stay
    assert values["gateway.salt"] == -1
    assert values["registration"] == -1


def test_a_reader_past_the_end_of_a_feed_that_started_again_reads_it_all(
    redis: RedisServer,
) -> None:
    prefix = f"t-{secrets.token_hex(4)}:"

    async def scenario() -> None:
        state = open_state(redis, prefix, idle_ttl=0.2)
        try:
            await state.upsert_many("s", [(str(n), b"old") for n in range(5)])
            position, _ = await state.since("s", 0)
            assert position == 5
            # the feed expires unused, and starts again
            deadline = time.monotonic() + 10
            while await keys_and_ttls(redis, prefix):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            await state.upsert("s", "9", b"new")
            assert await state.since("s", position) == (1, [("9", b"new")])
        finally:
            await state.aclose()

    asyncio.run(scenario())


def test_a_value_put_with_a_ttl_goes_after_it(redis: RedisServer) -> None:
    async def scenario() -> None:
        state = open_state(redis, f"t-{secrets.token_hex(4)}:")
        try:
            await state.put("short", b"1", ttl=0.05)
            await state.put("long", b"1", ttl=60)
            await asyncio.sleep(0.2)
            assert await state.get("short") is None
            assert await state.get("long") == b"1"
        finally:
            await state.aclose()

    asyncio.run(scenario())


def test_on_redis_clock_calls_wait_for_their_window(redis: RedisServer) -> None:
    async def scenario() -> None:
        state = open_state(redis, f"t-{secrets.token_hex(4)}:")
        try:
            first = [await state.admit("k", limit=2, window=0.5, max_wait=1) for _ in range(3)]
            assert [a.admitted for a in first] == [True, True, True]
            assert first[0].delay == first[1].delay == 0
            assert 0.45 < first[2].delay <= 0.5
            refused = await state.admit("k", limit=2, window=0.5, max_wait=0.1)
            assert not refused.admitted
        finally:
            await state.aclose()

    asyncio.run(scenario())


PROCESSES = 4
LIMIT = 20
WINDOW = 0.5


def hammer(url: str, prefix: str, start_at: float, seconds: float) -> tuple[list[float], int]:
    """One process's admissions: the slots it got, on Redis's clock, and its refusals."""

    async def main() -> tuple[list[float], int]:
        state = RedisState.from_url(url, timeout=5, prefix=prefix)
        slots: list[float] = []
        refused = 0
        await asyncio.sleep(max(0.0, start_at - time.time()))
        try:
            while time.time() < start_at + seconds:
                # An admitted call's slot is the latest one: slots are handed out in order.
                admission, latest = await state.admit_keeping(
                    "k", limit=LIMIT, window=WINDOW, max_wait=0.2, keep=1
                )
                if admission.admitted:
                    slots += latest
                else:
                    refused += 1
        finally:
            await state.aclose()
        return slots, refused

    return asyncio.run(main())


def test_processes_on_one_redis_never_exceed_the_limit(redis: RedisServer) -> None:
    prefix = f"t-{secrets.token_hex(4)}:"
    # time for the processes to start, on a loaded machine
    start_at = time.time() + 3
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        reports = list(
            pool.map(
                hammer,
                [redis.url] * PROCESSES,
                [prefix] * PROCESSES,
                [start_at] * PROCESSES,
                [2.0] * PROCESSES,
            )
        )
    slots = sorted(slot for report, _ in reports for slot in report)
    # less than a microsecond off the window: a slot freed by one that left it exactly
    assert most_in_any_window(slots, WINDOW - 1e-6) == LIMIT
    # and the budget was used, not just refused
    assert len(slots) >= 2 * LIMIT
    assert sum(refused for _, refused in reports) > 0


def test_slots_recorded_twice_or_already_held_count_once(redis: RedisServer) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        state = open_state(redis, f"t-{secrets.token_hex(4)}:", clock=clock)
        try:
            # given two slots taken through Redis at the same time
            _, held = await state.admit_keeping("k", limit=9, window=10, max_wait=0, keep=9)
            _, held = await state.admit_keeping("k", limit=9, window=10, max_wait=0, keep=9)
            assert held == [clock.now, clock.now]
            # when processes record what they know: the same slots, and some of their own
            elsewhere = [clock.now - 1, clock.now - 1, clock.now - 1]
            await state.record("k", [*held, *elsewhere], window=10)
            await state.record("k", [*held, *elsewhere], window=10)
            await state.record("k", [clock.now - 20], window=10)
            # then each slot counts once, and one that left the window not at all
            assert (await state.usage("k", limit=9, window=10)).calls == 5
        finally:
            await state.aclose()

    asyncio.run(scenario())

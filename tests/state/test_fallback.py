"""Redis first, this process alone while Redis is down or does not answer, and
Redis again when it is back, with what was done alone handed over. Against a
real redis-server that the tests kill, pause and start again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.observability.metrics import REGISTRY
from gateway.state import FallbackState, KeyHasher, RedisState, Usage
from gateway.state.keys import SALT_KEY
from tests.redis_server import RedisServer, redis_server
from tests.state.conftest import FakeClock

# Short enough for a test, long enough for a loaded machine to answer in time.
TIMEOUT = 0.5


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as started:
        yield started


def degraded() -> float | None:
    return REGISTRY.get_sample_value("gateway_state_degraded")


def fallbacks() -> float:
    return REGISTRY.get_sample_value("gateway_state_fallbacks_total") or 0.0


async def eventually(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def states(
    server: RedisServer, clock: FakeClock, *, processes: int = 1
) -> AsyncIterator[tuple[FallbackState, RedisState]]:
    """A fallback state, and a plain one on the same Redis to look at what it holds."""
    prefix = f"t-{secrets.token_hex(4)}:"

    def redis() -> RedisState:
        return RedisState.from_url(server.url, timeout=TIMEOUT, prefix=prefix, clock=clock)

    state = FallbackState(redis(), processes=processes, retry_every=0.05, clock=clock)
    await state.connect()
    direct = redis()
    try:
        yield state, direct
    finally:
        await state.aclose()
        await direct.aclose()


async def reconnect(state: RedisState) -> None:
    """Drop a connection to the Redis that was stopped: the next command opens one."""
    with contextlib.suppress(RedisConnectionError):
        await state.ping()


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def test_redis_down_answers_everything_alone_then_hands_it_over(
    server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        async with states(server, clock, processes=3) as (state, direct):
            # given what Redis holds and this process read: a salt, a value that
            # expires, one that stays, and another process's calls
            salt = await state.put_if_absent(SALT_KEY, b"salt")
            await direct.put("accepted", b"yes", ttl=60)
            await direct.put("webhook", b"registered")
            assert await state.get("accepted") == b"yes"
            assert await state.get("webhook") == b"registered"
            assert (await direct.admit("other", limit=9, window=10, max_wait=0)).admitted
            assert (await state.admit("other", limit=9, window=10, max_wait=0)).admitted
            # when Redis is gone
            server.stop()
            used = fallbacks()
            # when this process admits calls against a limit of 9 shared by 3 processes
            taken = [await state.admit("k", limit=9, window=10, max_wait=0) for _ in range(5)]
            # then it keeps to its share of 3, and every other operation is answered too
            assert [a.admitted for a in taken] == [True, True, True, False, False]
            assert state.degraded
            assert degraded() == 1
            assert await state.usage("k", limit=9, window=10) == Usage(calls=3, wait=10)
            position = await state.upsert("mirror:1", "7", b"alone")
            assert position < 0
            assert await state.since("mirror:1", 0) == (position, [("7", b"alone")])
            assert await state.since("mirror:1", position) == (position, [])
            await state.put("registration", b"made alone")
            assert await state.get("registration") == b"made alone"
            assert await state.try_lease("sync", "me", 10)
            assert fallbacks() - used >= 9
            assert "cannot be reached" in caplog.text

            # when Redis is back (empty, as a restarted one without persistence is)
            server.start()
            await eventually(lambda: not state.degraded)
            assert degraded() == 0
            await reconnect(direct)
            # then what was done alone is in Redis for every process
            assert await direct.usage("k", limit=9, window=10) == Usage(calls=3, wait=0)
            assert await direct.since("mirror:1", 0) == (1, [("7", b"alone")])
            assert await direct.get("registration") == b"made alone"
            # and what the restarted Redis had lost and this process knew
            assert await direct.get(SALT_KEY) == salt
            assert await direct.get("webhook") == b"registered"
            assert await direct.get("accepted") == b"yes"
            assert 0 < (await direct.get_with_ttl("accepted"))[1] <= 60  # type: ignore[operator]
            assert await direct.usage("other", limit=9, window=10) == Usage(calls=2, wait=0)
            # a reader of the local feed reads Redis's from its start
            assert await state.since("mirror:1", position) == (1, [("7", b"alone")])
            # and for one window, this process leaves room for the others' shares
            assert not (await state.admit("k", limit=9, window=10, max_wait=0)).admitted
            clock.advance(10)
            admitted = [await state.admit("k", limit=9, window=10, max_wait=0) for _ in range(4)]
            assert all(a.admitted for a in admitted)

    run(scenario)


def test_going_alone_starts_from_the_calls_redis_last_counted(server: RedisServer) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        async with states(server, clock, processes=3) as (state, direct):
            # given other processes took 5 of 9 calls, this one 1, and a 429's hold is on
            for _ in range(5):
                assert (await direct.admit("k", limit=9, window=10, max_wait=0)).admitted
            assert (await state.admit("k", limit=9, window=10, max_wait=0)).admitted
            await state.hold("held", 30)
            # when Redis goes
            server.stop()
            clock.advance(1)
            # then the calls Redis counted fill this process's share of 3 until they leave
            refused = await state.admit("k", limit=9, window=10, max_wait=0)
            assert (refused.admitted, refused.delay) == (False, 9)
            assert not (await state.admit("held", limit=9, window=10, max_wait=20)).admitted
            clock.advance(9)
            assert (await state.admit("k", limit=9, window=10, max_wait=0)).admitted

    run(scenario)


def test_a_long_outage_keeps_only_what_still_counts(server: RedisServer) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        async with states(server, clock) as (state, direct):
            # given a value Redis gave with 60 s to live
            await direct.put("accepted", b"yes", ttl=60)
            assert await state.get("accepted") == b"yes"
            server.stop()
            assert await state.get("accepted") == b"yes"
            # when Redis stays away for an hour of calls
            for _ in range(360):
                assert (await state.admit("k", limit=9, window=10, max_wait=0)).admitted
                clock.advance(10)
            # then the value is gone once its time ran out, as it would be in Redis
            assert await state.get("accepted") is None
            # and of the calls made alone, only those of the last window are kept
            _, slots = state._alone.slots["k"]
            assert len(slots) == 1

    run(scenario)


def test_a_redis_that_does_not_answer_costs_one_timeout(server: RedisServer) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        async with states(server, clock) as (state, direct):
            await state.put("value", b"in common")
            # given Redis stops answering, its connections open
            server.pause()
            try:
                started = time.monotonic()
                # a value read or written through Redis is answered as Redis had it
                assert await state.get("value") == b"in common"
                first = time.monotonic() - started
                started = time.monotonic()
                for _ in range(20):
                    await state.put("value", b"alone")
                rest = time.monotonic() - started
            finally:
                server.resume()
            # then the first operation waited for the timeout, and the next ones not at all
            assert TIMEOUT <= first < TIMEOUT + 5
            assert rest < TIMEOUT
            await eventually(lambda: not state.degraded)
            assert await direct.get("value") == b"alone"

    run(scenario)


def test_a_salt_drawn_alone_gives_way_to_the_shared_one(server: RedisServer) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        async with states(server, clock) as (state, direct):
            shared = await KeyHasher.for_state(direct)
            # given a process that starts while Redis does not answer
            server.pause()
            try:
                hasher = await KeyHasher.for_state(state)
                assert state.degraded
                assert hasher.key("token") != shared.key("token")
            finally:
                server.resume()
            # then, Redis back, it derives the keys every other process derives
            await eventually(lambda: not state.degraded)
            assert hasher.key("token") == shared.key("token")
            assert await direct.get(SALT_KEY) == await state.get(SALT_KEY)

    run(scenario)


def test_redis_down_logs_once_and_back_once(
    server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        async with states(server, clock) as (state, _):
            caplog.set_level(logging.WARNING, "gateway.state")
            server.stop()
            for _ in range(10):
                await state.get("x")
            server.start()
            await eventually(lambda: not state.degraded)
            await state.get("x")

    run(scenario)
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.state"]
    assert len(lines) == 2
    assert "cannot be reached" in lines[0]
    assert "answers again" in lines[1]

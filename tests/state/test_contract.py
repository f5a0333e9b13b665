"""What every state backend promises (gateway/state/__init__.py), run on each."""

from __future__ import annotations

import asyncio
import random

from gateway.state import KeyHasher, State, Usage
from tests.state.conftest import Backend, FakeClock


def most_in_any_window(times: list[float], window: float) -> int:
    """The most of `times` that fall in one half-open window [s, s + window)."""
    ordered = sorted(times)
    most = 0
    start = 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - window:
            start += 1
        most = max(most, end - start + 1)
    return most


# Call admission


def test_calls_within_the_limit_go_at_once_then_wait_for_the_window(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        # given a limit of 3 calls per 10 s
        delays = [(await state.admit("k", limit=3, window=10, max_wait=60)).delay for _ in range(5)]
        # then three go now and the next ones take the slots the first ones free
        assert delays == [0, 0, 0, 10, 10]
        clock.advance(4)
        sixth = await state.admit("k", limit=3, window=10, max_wait=60)
        seventh = await state.admit("k", limit=3, window=10, max_wait=60)
        # the third slot at 10, then the window after it
        assert (sixth.admitted, sixth.delay) == (True, 6)
        assert (seventh.admitted, seventh.delay) == (True, 16)

    backend.run(scenario)


def test_a_slot_beyond_max_wait_is_refused_and_takes_nothing(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        for _ in range(2):
            assert (await state.admit("k", limit=2, window=10, max_wait=0)).admitted
        clock.advance(3)
        refused = await state.admit("k", limit=2, window=10, max_wait=5)
        assert not refused.admitted
        assert refused.delay == 7
        assert await state.usage("k", limit=2, window=10) == Usage(calls=2, wait=7)
        # when it is within reach, the same call waits for it
        waited = await state.admit("k", limit=2, window=10, max_wait=7)
        assert (waited.admitted, waited.delay) == (True, 7)

    backend.run(scenario)


def test_keys_have_budgets_of_their_own(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        assert (await state.admit("a", limit=1, window=10, max_wait=0)).admitted
        assert not (await state.admit("a", limit=1, window=10, max_wait=0)).admitted
        assert (await state.admit("b", limit=1, window=10, max_wait=0)).admitted

    backend.run(scenario)


def test_no_window_ever_holds_more_than_the_limit(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        # given calls arriving at random, some willing to wait, some not, with holds
        draw = random.Random(7)  # noqa: S311 - a workload, not a secret
        taken: list[float] = []
        refused = 0
        for _ in range(1500):
            clock.advance(draw.expovariate(4.0))
            if draw.random() < 0.01:
                await state.hold("k", draw.uniform(0, 3))
            admission = await state.admit(
                "k", limit=5, window=2.0, max_wait=draw.choice([0.0, 0.5, 3.0])
            )
            if admission.admitted:
                taken.append(clock.now + admission.delay)
            else:
                refused += 1
        # then no 2 s window holds more than 5 slots, and the budget was used
        assert most_in_any_window(taken, 2.0) == 5
        assert refused > 0
        assert len(taken) > 0.9 * 5 * (clock.now - 1_700_000_000.0) / 2.0

    backend.run(scenario)


def test_a_hold_keeps_every_call_back_and_a_shorter_one_does_not_shorten_it(
    backend: Backend,
) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        await state.hold("k", 30)
        await state.hold("k", 5)
        refused = await state.admit("k", limit=100, window=10, max_wait=10)
        assert (refused.admitted, refused.delay) == (False, 30)
        assert await state.usage("k", limit=100, window=10) == Usage(0, wait=30, held_for=30)
        assert (await state.admit("other", limit=100, window=10, max_wait=0)).admitted
        clock.advance(30)
        assert await state.admit("k", limit=100, window=10, max_wait=0) == (
            await state.admit("k", limit=100, window=10, max_wait=0)
        )
        assert await state.usage("k", limit=100, window=10) == Usage(2, wait=0, held_for=0)

    backend.run(scenario)


def test_usage_counts_the_slots_in_the_window_taken_ones_for_later_too(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        assert await state.usage("k", limit=3, window=10) == Usage(calls=0, wait=0)
        for _ in range(4):
            await state.admit("k", limit=3, window=10, max_wait=60)
        assert await state.usage("k", limit=3, window=10) == Usage(calls=4, wait=10)
        clock.advance(4)
        # a slot taken for later keeps the next call behind it, though the window has room
        assert await state.usage("k", limit=5, window=10) == Usage(calls=4, wait=6)
        clock.advance(6)
        # the three at 0 left the window; the one taken for 10 is in it
        assert await state.usage("k", limit=3, window=10) == Usage(calls=1, wait=0)

    backend.run(scenario)


# Change feeds


def test_a_new_reader_gets_each_key_once_with_its_latest_value(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        assert await state.since("contacts", 0) == (0, [])
        assert await state.upsert("contacts", "1", b"one") == 1
        assert await state.upsert("contacts", "2", b"two") == 2
        assert await state.upsert("contacts", "1", b"one again") == 3
        assert await state.upsert("contacts", "3", b"three") == 4
        assert await state.upsert("contacts", "2", None) == 5
        assert await state.since("contacts", 0) == (
            5,
            [("1", b"one again"), ("3", b"three"), ("2", None)],
        )

    backend.run(scenario)


def test_a_reader_gets_only_what_changed_since_its_last_read(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        await state.upsert_many("s", [("a", b"1"), ("b", b"1"), ("c", b"1")])
        last, _ = await state.since("s", 0)
        assert await state.since("s", last) == (3, [])
        await state.upsert("s", "b", b"2")
        await state.upsert("s", "a", b"2")
        assert await state.since("s", last) == (5, [("b", b"2"), ("a", b"2")])

    backend.run(scenario)


def test_upsert_many_numbers_its_changes_in_order(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        # more changes than one transaction on the event loop takes
        changes = [(f"id-{n}", str(n).encode()) for n in range(300)]
        assert await state.upsert_many("s", changes) == 300
        assert await state.upsert_many("s", [("id-7", None), ("new", b"x")]) == 302
        last, read = await state.since("s", 0)
        assert last == 302
        assert read == [*(c for c in changes if c[0] != "id-7"), ("id-7", None), ("new", b"x")]
        assert await state.since("s", 150) == (302, read[149:])
        assert await state.upsert_many("s", []) == 302

    backend.run(scenario)


def test_streams_are_separate(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        await state.upsert("admin-1", "k", b"1")
        assert await state.upsert("admin-2", "k", b"2") == 1
        assert await state.since("admin-1", 0) == (1, [("k", b"1")])

    backend.run(scenario)


# Leases


def test_one_owner_at_a_time_until_the_lease_expires(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        assert await state.try_lease("refresh:1", "worker-a", 10)
        assert not await state.try_lease("refresh:1", "worker-b", 10)
        assert await state.try_lease("refresh:2", "worker-b", 10)
        clock.advance(6)
        # the holder's try_lease extends it
        assert await state.try_lease("refresh:1", "worker-a", 10)
        clock.advance(6)
        assert not await state.try_lease("refresh:1", "worker-b", 10)
        clock.advance(4)
        assert await state.try_lease("refresh:1", "worker-b", 10)

    backend.run(scenario)


def test_release_frees_the_lease_for_its_owner_only(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        assert await state.try_lease("l", "a", 10)
        await state.release_lease("l", "b")
        assert not await state.try_lease("l", "b", 10)
        await state.release_lease("l", "a")
        assert await state.try_lease("l", "b", 10)

    backend.run(scenario)


# Small values


def test_values_are_set_replaced_and_deleted(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        assert await state.get("built_at") is None
        await state.put("built_at", b"1")
        await state.put("built_at", b"2")
        assert await state.get("built_at") == b"2"
        await state.put("built_at", None)
        assert await state.get("built_at") is None

    backend.run(scenario)


def test_put_if_absent_keeps_the_first_value(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        assert await state.put_if_absent("salt", b"first") == b"first"
        assert await state.put_if_absent("salt", b"second") == b"first"
        assert await state.get("salt") == b"first"

    backend.run(scenario)


def test_hashed_keys_never_hold_the_secret(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> tuple[str, str, str]:
        hasher = await KeyHasher.for_state(state)
        again = await KeyHasher.for_state(state)
        key = hasher.key("secret-token")
        assert again.key("secret-token") == key
        assert "secret-token" not in key
        return key, hasher.key("secret-token", "entity"), hasher.key("secret-tokenentity")

    key, with_entity, joined = backend.run(scenario)
    assert with_entity != joined
    # a state of its own draws a salt of its own (a SQLite file or a Redis prefix keeps it)
    assert (backend.run(scenario)[0] == key) == (backend.kind != "memory")


def test_a_value_put_with_a_ttl_may_go_after_it(backend: Backend) -> None:
    async def scenario(state: State, clock: FakeClock) -> None:
        await state.put("short", b"1", ttl=0.05)
        await state.put("long", b"1", ttl=60)
        # the fake clock for the memory, the real one for Redis
        clock.advance(0.1)
        await asyncio.sleep(0.1)
        # a file that lives as long as the run keeps what it was given for the run
        assert (await state.get("short") is None) == (backend.kind != "sqlite")
        assert await state.get("long") == b"1"
        await state.put("long", b"2")
        clock.advance(60)
        assert await state.get("long") == b"2"

    backend.run(scenario)

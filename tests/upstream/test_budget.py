"""The call budget per token, on a clock the test moves, and in the send chain."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from gateway.errors import RateLimited, UpstreamUnavailable
from gateway.observability.metrics import REGISTRY
from gateway.services import open_services
from gateway.settings import Settings
from gateway.state import KeyHasher, MemoryState, SqliteState, State
from gateway.upstream import request_scope
from gateway.upstream.budget import CallBudget, Rate, bearer_token
from gateway.upstream.http import UpstreamHTTP, UpstreamRequest
from gateway.upstream.moneybird import read_error_message
from gateway.upstream.transport import HttpxTransport
from tests.state.conftest import FakeClock
from tests.state.test_contract import most_in_any_window

TOKEN = "mb-secret-token"


class VirtualTime(FakeClock):
    """A clock whose sleeps move it: each call's wait shows in when it leaves."""

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)


def budget_on(state: State, clock: VirtualTime, rate: str, hasher: KeyHasher) -> CallBudget:
    return CallBudget(state, hasher, upstream="Moneybird", rate=Rate.parse(rate), sleep=clock.sleep)


def run(scenario: Callable[[CallBudget, VirtualTime], Awaitable[Any]], rate: str = "5/2") -> Any:
    async def main() -> Any:
        clock = VirtualTime()
        state = MemoryState(clock=clock)
        return await scenario(budget_on(state, clock, rate, KeyHasher(b"salt")), clock)

    return asyncio.run(main())


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name, {"upstream": "Moneybird"}) or 0.0


def test_rates_are_calls_per_seconds() -> None:
    assert Rate.parse("150/300") == Rate(150, 300.0)
    assert Rate.parse(" 5 / 2.5 ") == Rate(5, 2.5)
    assert str(Rate.parse("150/300")) == "150/300"
    for wrong in ("150", "0/300", "150/0", "-1/5", "a/b", "150/300/2"):
        with pytest.raises(ValueError, match="call budget"):
            Rate.parse(wrong)


def test_the_token_is_read_from_the_authorization_header() -> None:
    assert bearer_token({"authorization": f"Bearer {TOKEN}"}) == TOKEN
    assert bearer_token({}) == ""


def test_never_more_than_the_limit_in_any_window() -> None:
    async def scenario(budget: CallBudget, clock: VirtualTime) -> tuple[list[float], int]:
        # given calls arriving faster than the budget allows, some willing to wait
        draw = random.Random(3)  # noqa: S311 - a workload, not a secret
        left: list[float] = []
        refused = 0
        for _ in range(400):
            clock.advance(draw.expovariate(6.0))
            try:
                await budget.acquire(TOKEN, max_wait=draw.choice([0.0, 0.5, 5.0]))
            except RateLimited:
                refused += 1
            else:
                left.append(clock.now)
        return left, refused

    left, refused = run(scenario)
    # then no 2 s window saw more than 5 calls leave, and the budget was used
    assert most_in_any_window(left, 2.0) <= 5
    assert refused > 0
    span = left[-1] - left[0]
    assert len(left) >= 5 * span / 2.1 - 5


def test_a_call_waits_for_a_slot_within_its_deadline() -> None:
    async def scenario(budget: CallBudget, clock: VirtualTime) -> None:
        for _ in range(5):
            await budget.acquire(TOKEN, max_wait=0)
        waits = metric("gateway_upstream_budget_waits_total")
        started = clock.now
        await budget.acquire(TOKEN, max_wait=3.0)
        # the first slot frees one window (and its margin) after it was taken
        assert clock.now - started == pytest.approx(budget.window)
        assert 2.0 < budget.window <= 2.1
        assert metric("gateway_upstream_budget_waits_total") == waits + 1

    run(scenario)


def test_a_slot_beyond_the_deadline_is_refused_with_retry_after() -> None:
    async def scenario(budget: CallBudget, clock: VirtualTime) -> None:
        for _ in range(5):
            await budget.acquire(TOKEN, max_wait=0)
        clock.advance(0.5)
        refusals = metric("gateway_upstream_budget_refusals_total")
        with pytest.raises(RateLimited) as caught:
            await budget.acquire(TOKEN, max_wait=1.0)
        error = caught.value
        assert error.retry_after == pytest.approx(budget.window - 0.5, abs=0.001)
        assert error.extensions() == {
            "code": "RATE_LIMITED",
            "upstream": "Moneybird",
            "retryAfter": error.retry_after,
        }
        assert TOKEN not in error.message
        assert metric("gateway_upstream_budget_refusals_total") == refusals + 1
        # the refusal took nothing: the slot is still the first to free
        clock.advance(error.retry_after)
        await budget.acquire(TOKEN, max_wait=0)

    run(scenario)


def test_each_token_has_its_own_budget() -> None:
    async def scenario(budget: CallBudget, clock: VirtualTime) -> None:
        await budget.acquire(TOKEN, max_wait=0)
        with pytest.raises(RateLimited):
            await budget.acquire(TOKEN, max_wait=0)
        await budget.acquire("another-token", max_wait=0)

    run(scenario, rate="1/60")


def test_retry_after_holds_back_every_call_of_its_token_until_it_passes() -> None:
    async def scenario(budget: CallBudget, clock: VirtualTime) -> None:
        await budget.hold(TOKEN, 30)
        with pytest.raises(RateLimited) as caught:
            await budget.acquire(TOKEN, max_wait=10)
        assert caught.value.retry_after == 30
        assert await budget.remaining(TOKEN) == 0
        await budget.acquire("another-token", max_wait=0)
        # a call that may wait that long leaves when the hold ends
        started = clock.now
        await budget.acquire(TOKEN, max_wait=60)
        assert clock.now - started == 30

    run(scenario)


def test_remaining_says_how_many_calls_could_go_now() -> None:
    async def scenario(budget: CallBudget, clock: VirtualTime) -> None:
        assert await budget.remaining(TOKEN) == 5
        for _ in range(3):
            await budget.acquire(TOKEN, max_wait=0)
        assert await budget.remaining(TOKEN) == 2
        clock.advance(budget.window)
        assert await budget.remaining(TOKEN) == 5

    run(scenario)


def test_workers_sharing_a_state_share_budgets_and_holds(tmp_path: Path) -> None:
    async def main() -> None:
        # given two workers on one state file, each with its budget object
        clock = VirtualTime()
        first_state = SqliteState(tmp_path / "state.sqlite3", clock=clock)
        second_state = SqliteState(tmp_path / "state.sqlite3", clock=clock)
        first = budget_on(first_state, clock, "3/10", await KeyHasher.for_state(first_state))
        second = budget_on(second_state, clock, "3/10", await KeyHasher.for_state(second_state))
        # when each spends part of a token's budget
        await first.acquire(TOKEN, max_wait=0)
        await second.acquire(TOKEN, max_wait=0)
        await first.acquire(TOKEN, max_wait=0)
        # then the token has nothing left in either
        with pytest.raises(RateLimited):
            await second.acquire(TOKEN, max_wait=0)
        # and a Retry-After one of them saw holds back the other
        await first.hold("other", 20)
        with pytest.raises(RateLimited) as caught:
            await second.acquire("other", max_wait=5)
        assert caught.value.retry_after == 20
        await first_state.aclose()
        await second_state.aclose()
        # no token in the file: its keys are salted hashes
        assert TOKEN.encode() not in (tmp_path / "state.sqlite3").read_bytes()
        wal = tmp_path / "state.sqlite3-wal"
        assert not wal.exists() or TOKEN.encode() not in wal.read_bytes()

    asyncio.run(main())


# In the send chain


def moneybird_with_budget(
    handler: Callable[[httpx.Request], httpx.Response],
    budget: CallBudget | None,
    max_retries: int = 2,
) -> tuple[UpstreamHTTP, httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    http = UpstreamHTTP(
        HttpxTransport(client),
        name="Moneybird",
        base_url="https://moneybird.test/",
        read_error_message=read_error_message,
        max_retries=max_retries,
        budget=budget,
    )
    return http, client


def get(token: str = TOKEN, *, is_write: bool = False) -> UpstreamRequest:
    return UpstreamRequest(
        "POST" if is_write else "GET",
        "1/contacts.json",
        {"authorization": f"Bearer {token}"},
        is_write=is_write,
    )


def test_the_chain_refuses_beyond_the_deadline_without_calling() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=[])

    async def main() -> None:
        state = MemoryState()
        budget = CallBudget(state, KeyHasher(b"s"), upstream="Moneybird", rate=Rate(2, 30))
        http, client = moneybird_with_budget(handler, budget)
        async with client:
            request_scope.start(1.0)
            await http.send(get())
            await http.send(get(is_write=True))
            with pytest.raises(RateLimited) as caught:
                await http.send(get())
            assert caught.value.status is None
            assert 29 < caught.value.retry_after <= 31
            with pytest.raises(RateLimited):
                await http.send(get(is_write=True))
            # another token still calls
            await http.send(get("another"))

    asyncio.run(main())
    assert len(sent) == 3


def test_each_attempt_takes_a_slot() -> None:
    answers = iter([httpx.Response(503), httpx.Response(503), httpx.Response(200, json=[])])

    async def main() -> tuple[int, int]:
        state = MemoryState()
        budget = CallBudget(state, KeyHasher(b"s"), upstream="Moneybird", rate=Rate(10, 30))
        http, client = moneybird_with_budget(lambda request: next(answers), budget)
        async with client:
            request_scope.start(5.0)
            await http.send(get())
            return await budget.remaining(TOKEN), await budget.remaining(TOKEN, from_reserve=True)

    # three attempts taken of the nine slots clients may take, and the one kept for syncs
    assert asyncio.run(main()) == (6, 7)


def test_a_429_holds_the_token_back_across_requests() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["authorization"])
        if len(sent) == 1:
            return httpx.Response(429, json={"error": "slow down"}, headers={"Retry-After": "40"})
        return httpx.Response(200, json=[])

    async def main() -> None:
        state = MemoryState()
        budget = CallBudget(state, KeyHasher(b"s"), upstream="Moneybird", rate=Rate(100, 300))
        http, client = moneybird_with_budget(handler, budget)
        async with client:
            request_scope.start(2.0)
            with pytest.raises(RateLimited) as first:
                await http.send(get())
            assert first.value.status == 429

            async def later_request() -> None:
                request_scope.start(2.0)
                with pytest.raises(RateLimited) as held:
                    await http.send(get())
                assert held.value.status is None
                assert 39 < held.value.retry_after <= 40

            await asyncio.create_task(later_request())
            await http.send(get("another"))

    asyncio.run(main())
    assert sent == [f"Bearer {TOKEN}", "Bearer another"]


def test_a_short_retry_after_is_waited_out_and_the_retry_goes() -> None:
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(asyncio.get_running_loop().time())
        if len(sent) == 1:
            return httpx.Response(429, json={"error": "slow down"}, headers={"Retry-After": "0.2"})
        return httpx.Response(200, json=[])

    async def main() -> None:
        state = MemoryState()
        budget = CallBudget(state, KeyHasher(b"s"), upstream="Moneybird", rate=Rate(100, 300))
        http, client = moneybird_with_budget(handler, budget)
        async with client:
            request_scope.start(5.0)
            assert (await http.send(get())).body == []

    asyncio.run(main())
    assert len(sent) == 2
    assert sent[1] - sent[0] >= 0.2


def test_an_upstream_without_a_budget_is_not_held_back() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"error": "slow down"}, headers={"Retry-After": "40"})

    async def main() -> None:
        http, client = moneybird_with_budget(handler, None, max_retries=0)
        async with client:
            for _ in range(2):
                with pytest.raises(RateLimited) as caught:
                    await http.send(get())
                assert caught.value.status == 429

    asyncio.run(main())


def test_the_deadline_passed_takes_no_slot() -> None:
    async def main() -> int:
        state = MemoryState()
        budget = CallBudget(state, KeyHasher(b"s"), upstream="Moneybird", rate=Rate(5, 30))
        http, client = moneybird_with_budget(lambda r: httpx.Response(200, json=[]), budget)
        async with client:
            request_scope.start(0.0)
            with pytest.raises(UpstreamUnavailable, match="deadline"):
                await http.send(get())
            return await budget.remaining(TOKEN)

    assert asyncio.run(main()) == 5


def test_a_slot_that_would_leave_the_call_no_time_is_refused_at_once() -> None:
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(asyncio.get_running_loop().time())
        return httpx.Response(200, json=[])

    async def main() -> None:
        state = MemoryState()
        budget = CallBudget(state, KeyHasher(b"s"), upstream="Moneybird", rate=Rate(1, 0.5))
        http, client = moneybird_with_budget(handler, budget)
        async with client:
            await http.send(get())
            # the next slot, half a second away, comes before the deadline but leaves the
            # call too little of it: refused now, and not retried when the slot comes
            request_scope.start(0.6)
            started = asyncio.get_running_loop().time()
            with pytest.raises(RateLimited) as caught:
                await http.send(get())
            assert asyncio.get_running_loop().time() - started < 0.1
            assert 0.4 < caught.value.retry_after <= 0.52
            # with time enough, the call waits for its slot
            request_scope.start(5.0)
            await http.send(get())

    asyncio.run(main())
    assert len(sent) == 2
    assert sent[1] - sent[0] >= 0.5


def test_the_setting_is_a_rate_or_off() -> None:
    assert Settings(moneybird_budget=" 5 / 2 ").moneybird_rate == Rate(5, 2.0)
    assert Settings().moneybird_rate == Rate(150, 300.0)
    assert Settings(moneybird_budget="OFF").moneybird_rate is None
    with pytest.raises(ValidationError, match="call budget"):
        Settings(moneybird_budget="150 per 5 minutes")


@pytest.mark.parametrize(("setting", "budgeted"), [("150/300", True), ("off", False)])
def test_moneybird_calls_take_a_budget_unless_it_is_off(setting: str, budgeted: bool) -> None:
    async def main() -> tuple[bool, bool]:
        settings = Settings(moneybird_budget=setting)
        async with open_services(
            settings, moneybird_base_url="https://mb.test", monite_base_url="https://monite.test"
        ) as services:
            return services.moneybird.budget is not None, services.monite.budget is not None

    assert asyncio.run(main()) == (budgeted, False)


def test_a_429_while_a_call_waits_for_its_slot_holds_that_call_back() -> None:
    async def main() -> None:
        # given a call waiting for its slot, a second ahead
        state = MemoryState()
        budget = CallBudget(state, KeyHasher(b"s"), upstream="Moneybird", rate=Rate(1, 1))
        await budget.acquire(TOKEN, max_wait=0)
        waiting = asyncio.create_task(budget.acquire(TOKEN, max_wait=5))
        await asyncio.sleep(0.1)
        # when a call in flight meets a 429 meanwhile
        await budget.hold(TOKEN, 10)
        # then the waiting call does not leave when its slot comes
        with pytest.raises(RateLimited) as caught:
            await waiting
        assert 9 < caught.value.retry_after <= 10

    asyncio.run(main())


def test_a_tenth_of_the_budget_is_kept_for_the_mirrors_syncs() -> None:
    async def scenario(budget: CallBudget, clock: VirtualTime) -> tuple[int, int]:
        assert budget.reserve == 2
        ordinary = 0
        while True:
            try:
                await budget.acquire(TOKEN, max_wait=0)
            except RateLimited:
                break
            ordinary += 1
        synced = 0
        while True:
            try:
                await budget.acquire(TOKEN, max_wait=0, from_reserve=True)
            except RateLimited:
                break
            synced += 1
        return ordinary, synced

    # clients' calls stop two short of the limit; the syncs may take those two
    assert run(scenario, rate="20/10") == (18, 2)


def test_a_small_budget_keeps_nothing_back() -> None:
    async def scenario(budget: CallBudget, clock: VirtualTime) -> int:
        return budget.reserve

    assert run(scenario, rate="5/2") == 0


def test_syncs_and_clients_together_never_pass_the_limit_in_any_window() -> None:
    async def scenario(budget: CallBudget, clock: VirtualTime) -> tuple[list[float], int]:
        draw = random.Random(5)  # noqa: S311 - a workload, not a secret
        left: list[float] = []
        synced = 0
        for _ in range(600):
            clock.advance(draw.expovariate(8.0))
            from_reserve = draw.random() < 0.2
            try:
                await budget.acquire(
                    TOKEN, max_wait=draw.choice([0.0, 1.0]), from_reserve=from_reserve
                )
            except RateLimited:
                continue
            left.append(clock.now)
            synced += from_reserve
        return left, synced

    left, synced = run(scenario, rate="20/10")
    assert most_in_any_window(left, 10.0) <= 20
    assert synced > 0

"""Monite reads sharing a call: in flight, kept for a while, forgotten on writes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from gateway.errors import UpstreamUnavailable
from gateway.upstream import request_scope
from gateway.upstream.http import UpstreamHTTP, UpstreamRequest
from gateway.upstream.monite import read_error_message
from gateway.upstream.reuse import ReadReuse
from gateway.upstream.transport import HttpxTransport
from tests.state.conftest import FakeClock

TOKEN = "monite-secret-token"
ENTITY = "9d2b4c8f-2087-4738-ba91-7359683c49a4"


class Upstream:
    """A Monite stand-in: counts the calls, answers after `delay` seconds."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[tuple[str, str]] = []
        self.status = 200

    async def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, str(request.url)))
        # which call this is, as the answer says it
        n = len(self.calls)
        await asyncio.sleep(self.delay)
        if request.method != "GET":
            return httpx.Response(self.status, json={"id": "new"})
        return httpx.Response(self.status, json={"data": [{"id": "1", "n": n}]})


def run(
    upstream: Upstream,
    scenario: Callable[[UpstreamHTTP, ReadReuse, FakeClock], Awaitable[Any]],
    *,
    max_staleness: float = 5.0,
    max_bytes: int = 1_000_000,
) -> Any:
    async def main() -> Any:
        clock = FakeClock()
        reuse = ReadReuse(
            upstream="Monite",
            credential_headers=("authorization", "x-monite-entity-id"),
            max_staleness=max_staleness,
            max_bytes=max_bytes,
            clock=clock,
        )
        async with httpx.AsyncClient(transport=httpx.MockTransport(upstream.handler)) as client:
            http = UpstreamHTTP(
                HttpxTransport(client),
                name="Monite",
                base_url="https://monite.test/",
                read_error_message=read_error_message,
                max_retries=0,
                reuse=reuse,
            )
            return await scenario(http, reuse, clock)

    return asyncio.run(main())


def read(
    path: str = "counterparts", *, token: str = TOKEN, entity: str = ENTITY, limit: str = "20"
) -> UpstreamRequest:
    headers = {"authorization": f"Bearer {token}", "x-monite-entity-id": entity}
    return UpstreamRequest("GET", path, headers, is_write=False, params=[("limit", limit)])


def write(*, token: str = TOKEN, entity: str = ENTITY) -> UpstreamRequest:
    headers = {"authorization": f"Bearer {token}", "x-monite-entity-id": entity}
    return UpstreamRequest(
        "POST", "counterparts/1/contacts", headers, is_write=True, json={"first_name": "A"}
    )


def test_identical_reads_in_flight_share_one_call() -> None:
    upstream = Upstream(delay=0.05)

    async def scenario(http: UpstreamHTTP, reuse: ReadReuse, clock: FakeClock) -> None:
        first, second, third = await asyncio.gather(
            http.send(read()), http.send(read()), http.send(read())
        )
        assert first.body == second.body == third.body
        # each reader has objects of its own
        first.body["data"].clear()
        assert second.body["data"] == third.body["data"] == [{"id": "1", "n": 1}]

    run(upstream, scenario, max_staleness=0)
    assert len(upstream.calls) == 1


def test_other_credentials_or_parameters_make_their_own_calls() -> None:
    upstream = Upstream(delay=0.05)

    async def scenario(http: UpstreamHTTP, reuse: ReadReuse, clock: FakeClock) -> None:
        await asyncio.gather(
            http.send(read()),
            http.send(read(token="other-token")),
            http.send(read(entity="other-entity")),
            http.send(read(limit="10")),
            http.send(read("counterparts/1/contacts")),
        )

    run(upstream, scenario)
    assert len(upstream.calls) == 5


def test_an_answer_is_reused_until_it_is_older_than_the_staleness() -> None:
    upstream = Upstream()

    async def scenario(http: UpstreamHTTP, reuse: ReadReuse, clock: FakeClock) -> None:
        await http.send(read())
        clock.advance(4.9)
        assert (await http.send(read())).body["data"][0]["n"] == 1
        clock.advance(0.2)
        assert (await http.send(read())).body["data"][0]["n"] == 2

    run(upstream, scenario)
    assert len(upstream.calls) == 2


def test_without_staleness_only_reads_in_flight_are_shared() -> None:
    upstream = Upstream()

    async def scenario(http: UpstreamHTTP, reuse: ReadReuse, clock: FakeClock) -> None:
        await http.send(read())
        await http.send(read())
        assert reuse.kept_bytes == 0

    run(upstream, scenario, max_staleness=0)
    assert len(upstream.calls) == 2


def test_a_write_forgets_what_its_credentials_kept() -> None:
    upstream = Upstream()

    async def scenario(http: UpstreamHTTP, reuse: ReadReuse, clock: FakeClock) -> None:
        await http.send(read())
        await http.send(read("counterparts/1/contacts"))
        await http.send(read(token="other-token"))
        await http.send(write())
        await http.send(read())
        await http.send(read("counterparts/1/contacts"))
        # another token's answers are not touched by this token's write
        await http.send(read(token="other-token"))

    run(upstream, scenario)
    assert [method for method, _ in upstream.calls] == ["GET", "GET", "GET", "POST", "GET", "GET"]


def test_a_read_in_flight_during_a_write_is_not_kept() -> None:
    upstream = Upstream(delay=0.1)

    async def scenario(http: UpstreamHTTP, reuse: ReadReuse, clock: FakeClock) -> None:
        slow_read = asyncio.create_task(http.send(read()))
        await asyncio.sleep(0.01)
        upstream.delay = 0
        await http.send(write())
        # a read after the write does not join the read that started before it
        after = await http.send(read())
        assert (await slow_read).body["data"][0]["n"] == 1
        again = await http.send(read())
        assert after.body == again.body == {"data": [{"id": "1", "n": 3}]}

    run(upstream, scenario)
    assert [method for method, _ in upstream.calls] == ["GET", "POST", "GET"]


def test_a_failed_write_forgets_too() -> None:
    upstream = Upstream()

    async def scenario(http: UpstreamHTTP, reuse: ReadReuse, clock: FakeClock) -> None:
        await http.send(read())
        upstream.status = 503
        delete = UpstreamRequest(
            "DELETE", "counterparts/1/contacts/2", write().headers, is_write=True
        )
        with pytest.raises(UpstreamUnavailable):
            await http.send(delete)
        upstream.status = 200
        await http.send(read())

    run(upstream, scenario)
    assert [method for method, _ in upstream.calls] == ["GET", "DELETE", "GET"]


def test_errors_are_shared_in_flight_but_not_kept() -> None:
    upstream = Upstream(delay=0.05)
    upstream.status = 500

    async def scenario(http: UpstreamHTTP, reuse: ReadReuse, clock: FakeClock) -> None:
        outcomes = await asyncio.gather(
            http.send(read()), http.send(read()), return_exceptions=True
        )
        assert all(isinstance(outcome, UpstreamUnavailable) for outcome in outcomes)
        upstream.status = 200
        await http.send(read())

    run(upstream, scenario)
    assert len(upstream.calls) == 2


def test_kept_answers_stay_within_their_bytes_least_recently_used_leaving_first() -> None:
    upstream = Upstream()

    async def scenario(http: UpstreamHTTP, reuse: ReadReuse, clock: FakeClock) -> None:
        for limit in ("1", "2", "3"):
            await http.send(read(limit=limit))
        assert reuse.kept_bytes <= 1200
        await http.send(read(limit="3"))  # kept
        await http.send(read(limit="1"))  # left first: called again

    run(upstream, scenario, max_bytes=1200)
    assert len(upstream.calls) == 4


def test_no_credential_is_kept_in_the_clear() -> None:
    upstream = Upstream()

    async def scenario(http: UpstreamHTTP, reuse: ReadReuse, clock: FakeClock) -> str:
        await http.send(read())
        return repr(reuse.__dict__)

    held = run(upstream, scenario)
    assert TOKEN not in held
    assert ENTITY not in held


def test_a_reader_out_of_time_leaves_the_call_to_the_others() -> None:
    upstream = Upstream(delay=0.3)

    async def scenario(http: UpstreamHTTP, reuse: ReadReuse, clock: FakeClock) -> None:
        async def request(deadline: float) -> Any:
            scope = request_scope.start(deadline)
            try:
                return (await http.send(read())).body
            except UpstreamUnavailable as exc:
                return exc
            finally:
                assert scope.calls <= 1

        async def counted(deadline: float) -> int:
            scope = request_scope.start(deadline)
            await http.send(read())
            return scope.calls

        # the request that starts the call runs out of time first; the one that joined has time
        short = asyncio.create_task(request(0.1))
        await asyncio.sleep(0.01)
        long = asyncio.create_task(request(5.0))
        short_outcome, long_outcome = await asyncio.gather(short, long)
        assert isinstance(short_outcome, UpstreamUnavailable)
        assert "deadline" in short_outcome.message
        assert long_outcome == {"data": [{"id": "1", "n": 1}]}
        # and the other way round: the one that joins runs out of time
        upstream.delay = 0.3
        clock.advance(10)
        long = asyncio.create_task(request(5.0))
        await asyncio.sleep(0.01)
        short = asyncio.create_task(request(0.1))
        long_outcome, short_outcome = await asyncio.gather(long, short)
        assert isinstance(short_outcome, UpstreamUnavailable)
        assert long_outcome == {"data": [{"id": "1", "n": 2}]}
        # a call counts in the log line of the request that started it only
        clock.advance(10)
        assert await asyncio.gather(counted(5.0), counted(5.0)) == [1, 0]

    run(upstream, scenario)
    assert len(upstream.calls) == 3

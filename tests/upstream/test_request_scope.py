"""The request's deadline over its upstream calls: one timer, TimeoutError semantics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from gateway.errors import UpstreamUnavailable
from gateway.upstream import request_scope
from gateway.upstream.http import UpstreamHTTP, UpstreamRequest
from gateway.upstream.moneybird import read_error_message
from gateway.upstream.transport import HttpxTransport

AsyncHandler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def answering_after(seconds: float, sent: list[str]) -> AsyncHandler:
    async def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        await asyncio.sleep(seconds)
        return httpx.Response(200, json={"ok": True})

    return handler


def run_with_upstream(
    handler: AsyncHandler, scenario: Callable[[UpstreamHTTP, list[asyncio.TimerHandle]], Any]
) -> Any:
    """Runs `scenario` with an upstream client; it is told of every deadline timer armed."""

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        timers: list[asyncio.TimerHandle] = []
        call_at = loop.call_at

        def counting_call_at(when: float, callback: Any, *args: Any, **kwargs: Any) -> Any:
            handle = call_at(when, callback, *args, **kwargs)
            if isinstance(getattr(callback, "__self__", None), request_scope.RequestScope):
                timers.append(handle)
            return handle

        loop.call_at = counting_call_at  # type: ignore[method-assign]
        async with httpx.AsyncClient(
            base_url="https://upstream.test/", transport=httpx.MockTransport(handler)
        ) as client:
            http = UpstreamHTTP(
                HttpxTransport(client),
                name="Moneybird",
                base_url="https://upstream.test/",
                read_error_message=read_error_message,
            )
            return await scenario(http, timers)

    return asyncio.run(main())


async def get(http: UpstreamHTTP, path: str) -> Any:
    return (await http.send(UpstreamRequest("GET", path, {}, is_write=False))).body


def test_calls_in_flight_when_the_deadline_passes_fail_with_the_deadline_error() -> None:
    sent: list[str] = []

    async def scenario(http: UpstreamHTTP, timers: list[asyncio.TimerHandle]) -> Any:
        request_scope.start(0.05)
        started = asyncio.get_running_loop().time()
        results = await asyncio.gather(
            *(get(http, f"{n}.json") for n in range(5)), return_exceptions=True
        )
        return results, asyncio.get_running_loop().time() - started, len(timers)

    results, elapsed, timers_armed = run_with_upstream(answering_after(5.0, sent), scenario)
    assert len(sent) == 5
    assert elapsed < 1.0
    assert timers_armed == 1
    for result in results:
        assert isinstance(result, UpstreamUnavailable)
        assert "did not answer within the request's deadline" in result.message


def test_calls_in_flight_together_share_one_timer_cancelled_when_the_last_ends() -> None:
    sent: list[str] = []

    async def scenario(http: UpstreamHTTP, timers: list[asyncio.TimerHandle]) -> Any:
        scope = request_scope.start(10.0)
        await asyncio.gather(*(get(http, f"{n}.json") for n in range(20)))
        await get(http, "after.json")
        return scope.calls, [timer.cancelled() for timer in timers]

    calls, timers = run_with_upstream(answering_after(0.01, sent), scenario)
    assert calls == 21
    assert timers == [True, True]  # one for the 20 together, one for the last call


def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    sent: list[str] = []

    async def scenario(http: UpstreamHTTP, timers: list[asyncio.TimerHandle]) -> Any:
        request_scope.start(10.0)
        call = asyncio.ensure_future(get(http, "slow.json"))
        await asyncio.sleep(0.02)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        # The deadline still holds for the request's next calls.
        return await get(http, "next.json")

    handler = answering_after(0.05, sent)
    assert run_with_upstream(handler, scenario) == {"ok": True}
    assert sent == ["/slow.json", "/next.json"]


def test_no_call_goes_out_once_the_deadline_has_passed() -> None:
    sent: list[str] = []

    async def scenario(http: UpstreamHTTP, timers: list[asyncio.TimerHandle]) -> Any:
        request_scope.start(0.01)
        await asyncio.sleep(0.02)
        with pytest.raises(UpstreamUnavailable, match="deadline passed before Moneybird"):
            await get(http, "late.json")
        return len(timers)

    assert run_with_upstream(answering_after(0.0, sent), scenario) == 0
    assert sent == []


def test_outside_a_request_calls_run_without_a_deadline_timer() -> None:
    sent: list[str] = []

    async def scenario(http: UpstreamHTTP, timers: list[asyncio.TimerHandle]) -> Any:
        assert request_scope.current() is None
        await get(http, "plain.json")
        return len(timers), request_scope.calls_made()

    assert run_with_upstream(answering_after(0.0, sent), scenario) == (0, 0)

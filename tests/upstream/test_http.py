"""How `UpstreamHTTP` turns answers and transport failures into gateway errors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway.errors import (
    OutcomeUnknown,
    RateLimited,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRejected,
    UpstreamUnauthorized,
    UpstreamUnavailable,
)
from gateway.upstream.http import UpstreamHTTP, UpstreamRequest
from gateway.upstream.moneybird import read_error_message
from gateway.upstream.transport import HttpxTransport

Handler = Callable[[httpx.Request], httpx.Response]


def call(handler: Handler, *, is_write: bool = False) -> Any:
    async def run() -> Any:
        async with httpx.AsyncClient(
            base_url="https://upstream.test/", transport=httpx.MockTransport(handler)
        ) as client:
            http = UpstreamHTTP(
                HttpxTransport(client),
                name="Moneybird",
                base_url="https://upstream.test/",
                read_error_message=read_error_message,
            )
            request = UpstreamRequest(
                "POST" if is_write else "GET", "x.json", {}, is_write=is_write
            )
            return (await http.send(request)).body

    return asyncio.run(run())


def answer(status: int, body: Any = None, **kwargs: Any) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, (bytes, str)):
            return httpx.Response(status, content=body, **kwargs)
        return httpx.Response(status, json=body, **kwargs)

    return handler


def test_json_comes_back_parsed() -> None:
    assert call(answer(200, [{"id": "1"}])) == [{"id": "1"}]


def test_no_content_is_none() -> None:
    assert call(answer(204, b"")) is None


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (401, {"error": "token invalid"}, UpstreamUnauthorized, "rejected the credentials"),
        (403, {"error": "no scope"}, UpstreamForbidden, "no scope"),
        (404, {"error": "record not found"}, UpstreamNotFound, "record not found"),
        (400, {"error": "Ids is required"}, UpstreamRejected, "Ids is required"),
        (422, {"error": {"company_name": ["is required"]}}, UpstreamRejected, "is required"),
        (500, {"error": "boom"}, UpstreamUnavailable, "HTTP 500"),
        (503, b"<html>down</html>", UpstreamUnavailable, "HTTP 503"),
    ],
)
def test_statuses_become_gateway_errors(
    status: int, body: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call(answer(status, body))


def test_422_keeps_the_body_for_field_errors() -> None:
    with pytest.raises(UpstreamRejected) as caught:
        call(answer(422, {"error": {"company_name": ["is required"]}}))
    assert caught.value.body == {"error": {"company_name": ["is required"]}}
    assert caught.value.status == 422


def test_429_carries_retry_after() -> None:
    with pytest.raises(RateLimited) as caught:
        call(answer(429, {"error": "slow down"}, headers={"Retry-After": "12"}))
    assert caught.value.retry_after == 12.0
    assert caught.value.extensions()["retryAfter"] == 12.0


def test_a_body_that_is_not_json_is_unavailable_not_a_crash() -> None:
    with pytest.raises(UpstreamUnavailable, match="not JSON"):
        call(answer(200, b"<html>maintenance</html>"))


def test_a_connection_refused_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(UpstreamUnavailable) as caught:
        call(refuse, is_write=True)
    # nothing was sent, so even a write's outcome is known
    assert not isinstance(caught.value, OutcomeUnknown)


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut short")]
)
def test_a_write_without_an_answer_has_an_unknown_outcome(failure: Exception) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    with pytest.raises(OutcomeUnknown, match="outcome is unknown") as caught:
        call(fail, is_write=True)
    assert caught.value.extensions()["outcome"] == "UNKNOWN"


def test_a_read_without_an_answer_is_plainly_unavailable() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    with pytest.raises(UpstreamUnavailable) as caught:
        call(fail)
    assert not isinstance(caught.value, OutcomeUnknown)

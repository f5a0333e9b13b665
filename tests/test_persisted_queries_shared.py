"""Registered persisted queries shared through Redis: a text registered through
one gateway runs by hash through another, and Redis going away costs a client
no more than registering its text again."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.state import FallbackState, RedisState
from tests.conftest import gateway_settings
from tests.redis_server import RedisServer, redis_server
from tests.servers import serve

ANSWER = {"data": {"__typename": "Query"}}


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest(text)}}


def post(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{url}/graphql", json=payload, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def not_found(body: dict[str, Any]) -> bool:
    return [error["extensions"]["code"] for error in body.get("errors", [])] == [
        "PERSISTED_QUERY_NOT_FOUND"
    ]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as started:
        yield started


@contextmanager
def gateways(
    sandbox_url: str, server: RedisServer, count: int, prefix: str
) -> Iterator[list[tuple[str, Starlette]]]:
    """`count` gateways sharing one Redis under `prefix`, as replicas do."""
    settings = gateway_settings(
        sandbox_url,
        redis_url=server.url,
        redis_prefix=prefix,
        redis_timeout=0.5,
        redis_retry=0.05,
    )
    with ExitStack() as stack:
        apps = [create_app(settings) for _ in range(count)]
        yield [(stack.enter_context(serve(app)), app) for app in apps]


def shared_again(app: Starlette) -> None:
    state = app.state.services.state
    assert isinstance(state, FallbackState)
    deadline = time.monotonic() + 20
    while state.degraded:
        assert time.monotonic() < deadline, "Redis never came back for this gateway"
        time.sleep(0.02)


def test_a_text_registered_through_one_gateway_runs_by_hash_through_another(
    sandbox_url: str, server: RedisServer
) -> None:
    text = "query RegisteredOnce { __typename }"
    with gateways(sandbox_url, server, 2, "t:") as [(one, _), (other, _)]:
        assert not_found(post(other, {"extensions": apq(text)}))
        assert post(one, {"query": text, "extensions": apq(text)}) == ANSWER
        assert post(other, {"extensions": apq(text)}) == ANSWER
        assert post(other, {"documentId": f"sha256:{digest(text)}"}) == ANSWER


def test_a_text_redis_holds_under_another_texts_hash_is_not_run(
    sandbox_url: str, server: RedisServer
) -> None:
    text = "query Genuine { __typename }"

    async def plant() -> None:
        state = RedisState.from_url(server.url, timeout=5, prefix="t:")
        try:
            await state.put(f"apq:{digest(text)}", b"query Planted { planted: __typename }")
        finally:
            await state.aclose()

    asyncio.run(plant())
    with gateways(sandbox_url, server, 1, "t:") as [(url, _)]:
        assert not_found(post(url, {"extensions": apq(text)}))
        assert post(url, {"query": text, "extensions": apq(text)}) == ANSWER


def test_redis_down_costs_a_client_one_registration_and_no_failure(
    sandbox_url: str, server: RedisServer
) -> None:
    before, during = "query Before { __typename }", "query During { __typename }"
    with gateways(sandbox_url, server, 2, "t:") as [(one, one_app), (other, other_app)]:
        assert post(one, {"query": before, "extensions": apq(before)}) == ANSWER
        # given Redis goes away
        server.stop()
        # then what a gateway registered still runs by hash through it
        assert post(one, {"extensions": apq(before)}) == ANSWER
        # another gateway that had not seen it asks for the text once, and runs it
        assert not_found(post(other, {"extensions": apq(before)}))
        assert post(other, {"query": before, "extensions": apq(before)}) == ANSWER
        assert post(other, {"extensions": apq(before)}) == ANSWER
        # and a text registered meanwhile runs where it was registered
        assert post(one, {"query": during, "extensions": apq(during)}) == ANSWER
        assert post(one, {"extensions": apq(during)}) == ANSWER
        # when Redis is back, empty as a restarted one without persistence is
        server.start()
        shared_again(one_app)
        shared_again(other_app)
    # then what was registered while it was away runs by hash through a new gateway
    with gateways(sandbox_url, server, 1, "t:") as [(fresh, _)]:
        assert post(fresh, {"extensions": apq(during)}) == ANSWER
        assert post(fresh, {"extensions": apq(before)}) == ANSWER

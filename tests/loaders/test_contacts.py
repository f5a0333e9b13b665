"""`ContactByIdLoader.load_all`: batched, ordered, deduplicated, failures retrieved."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from typing import Any

import httpx
import pytest

from gateway.errors import UpstreamUnavailable
from gateway.loaders.contacts import ContactByIdLoader
from gateway.upstream.http import UpstreamHTTP
from gateway.upstream.moneybird import MoneybirdClient, read_error_message
from gateway.upstream.transport import HttpxTransport


def load_all(keys: list[str], *, status: int = 200) -> tuple[Any, list[list[int]]]:
    """Loads `keys` through a Moneybird client on a mock transport; returns what
    load_all gave (or raised) and the ids of each synchronization call."""
    calls: list[list[int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids = json.loads(request.content)["ids"]
        calls.append(ids)
        if status != 200:
            return httpx.Response(status, json={"error": "down"})
        # Moneybird leaves out ids that do not exist and keeps its own order.
        return httpx.Response(
            200, json=[{"id": str(i), "version": 1} for i in ids if i < 900][::-1]
        )

    async def run() -> Any:
        async with httpx.AsyncClient(
            base_url="https://moneybird.test/", transport=httpx.MockTransport(handler)
        ) as client:
            http = UpstreamHTTP(
                HttpxTransport(client),
                name="Moneybird",
                base_url="https://moneybird.test/",
                read_error_message=read_error_message,
                max_retries=0,
            )
            client = MoneybirdClient(http, token="t", administration_id="1")

            async def source() -> MoneybirdClient:
                return client

            loader = ContactByIdLoader(source)
            try:
                return await loader.load_all(keys)
            except UpstreamUnavailable as error:
                failure = error.message
            await asyncio.sleep(0.01)  # the other batches settle
            del loader  # its cache holds the futures: dropping them lets them report
            gc.collect()
            return UpstreamUnavailable(failure, upstream="Moneybird")

    return asyncio.run(run()), calls


def test_keys_come_back_in_the_order_asked_with_null_for_the_missing() -> None:
    result, calls = load_all(["3", "1", "901", "2"])
    assert [None if contact is None else contact["id"] for contact in result] == [
        "3",
        "1",
        None,
        "2",
    ]
    assert calls == [[3, 1, 901, 2]]


def test_repeated_keys_are_asked_once_and_batches_hold_at_most_100() -> None:
    keys = [str(n) for n in range(1, 251)] + ["7", "7"]
    result, calls = load_all(keys)
    assert [contact["id"] for contact in result] == keys
    assert [len(call) for call in calls] == [100, 100, 50]


def test_a_failed_batch_fails_the_load_and_leaves_no_unretrieved_futures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    result, calls = load_all([str(n) for n in range(1, 251)], status=503)
    assert isinstance(result, UpstreamUnavailable)
    assert len(calls) == 3
    assert "never retrieved" not in caplog.text


def test_a_listing_cancelled_before_it_started_is_closed_not_left_unawaited() -> None:
    async def source() -> Any:
        raise AssertionError("no batch runs here")

    started: list[bool] = []

    async def listing() -> list[dict[str, Any]]:
        started.append(True)
        return []

    async def run() -> None:
        loader = ContactByIdLoader(source)
        call = listing()
        waiting = asyncio.ensure_future(loader.while_listing(call, contacts_of=lambda c: c))
        await asyncio.sleep(0)  # while_listing has made its task, which has not run yet
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.sleep(0)
        assert started == []
        # closed: awaiting it now is an error, and it never warns as unawaited
        with pytest.raises(RuntimeError, match="cannot reuse already awaited coroutine"):
            await call

    asyncio.run(run())

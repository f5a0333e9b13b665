"""A caller's cancellation stops at its own future: the others sharing a key still
get the value (graphql-core cancels the completions left when one fails)."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from gateway.loaders.contacts import ContactByIdLoader
from gateway.loaders.detached import DetachedLoader


class SlowLoader(DetachedLoader[str, str]):
    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.batches: list[list[str]] = []

    async def batch_load_fn(self, keys: list[str]) -> list[str]:
        self.batches.append(keys)
        await asyncio.sleep(0.02)
        if self.fail:
            raise LookupError("the batch failed")
        return [f"value of {key}" for key in keys]


async def _cancelled(task: asyncio.Task[Any]) -> None:
    await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_a_cancelled_caller_leaves_the_key_to_the_others() -> None:
    async def run() -> tuple[str, list[list[str]]]:
        loader = SlowLoader()
        # given two fields waiting for the same key
        cancelled = asyncio.ensure_future(loader.load("a"))
        waiting = asyncio.ensure_future(loader.load("a"))
        # when one of them is cancelled
        await _cancelled(cancelled)
        # then the other still gets the value, from the one batch
        return await waiting, loader.batches

    assert asyncio.run(run()) == ("value of a", [["a"]])


def test_a_failure_nobody_awaits_any_more_is_retrieved() -> None:
    unretrieved: list[dict[str, Any]] = []

    async def run() -> None:
        asyncio.get_running_loop().set_exception_handler(
            lambda _loop, context: unretrieved.append(context)
        )
        loader = SlowLoader(fail=True)
        await _cancelled(asyncio.ensure_future(loader.load("a")))
        await asyncio.sleep(0.05)
        gc.collect()

    asyncio.run(run())
    assert unretrieved == []


def test_a_value_already_there_is_given_as_it_is() -> None:
    async def run() -> bool:
        loader = SlowLoader()
        loader.prime("a", "known")
        return loader.load("a").done()

    assert asyncio.run(run())


class SlowSource:
    async def contacts_by_ids(self, ids: list[str]) -> list[dict[str, Any]]:
        await asyncio.sleep(0.02)
        return [{"id": key} for key in ids]


def test_a_cancelled_load_all_leaves_its_keys_to_the_others() -> None:
    async def source() -> Any:
        return SlowSource()

    async def run() -> Any:
        loader = ContactByIdLoader(source)
        # given a list of ids and a field asking for one of them
        listing = asyncio.ensure_future(loader.load_all(["1", "2"]))
        single = asyncio.ensure_future(loader.load("2"))
        # when the list is cancelled
        await _cancelled(listing)
        # then the field still gets its contact
        return await single

    assert asyncio.run(run()) == {"id": "2"}

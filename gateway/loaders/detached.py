"""Loader futures that one caller's cancellation does not cancel for the others.

A DataLoader gives every caller that asks for a key the same future. A task
cancelled while it awaits a future cancels that future, and graphql-core
cancels the completions still running once one of them fails (the planned
executor does as graphql-core does). A field cancelled that way would cancel
the key's future for every other field waiting on it: their CancelledError is
no field error, so it would end the whole operation. Each caller awaits a
future of its own instead, which follows the shared one.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from aiodataloader import DataLoader

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


def detached(shared: asyncio.Future[T]) -> asyncio.Future[T]:
    """A future of the caller's own that follows `shared`; `shared` itself once it
    is done, when awaiting it can no longer cancel it."""
    if shared.done():
        return shared
    own: asyncio.Future[T] = shared.get_loop().create_future()

    def follow(done: asyncio.Future[T]) -> None:
        if own.done():
            # The caller was cancelled; the outcome is still taken, so that a
            # failure nobody else awaits is not logged as never retrieved.
            if not done.cancelled():
                done.exception()
            return
        if done.cancelled():
            own.cancel()
        elif (error := done.exception()) is not None:
            own.set_exception(error)
        else:
            own.set_result(done.result())

    shared.add_done_callback(follow)
    return own


class DetachedLoader(DataLoader[K, V]):
    """A DataLoader whose `load` gives each caller a future of its own."""

    def load(self, key: K) -> asyncio.Future[V]:
        return detached(super().load(key))

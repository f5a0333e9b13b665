"""The interface both backends implement, and the values it returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

# (key, value) of a change feed; a value of None means the key was deleted.
Change = tuple[str, bytes | None]


@dataclass(frozen=True, slots=True)
class Admission:
    """The answer to `State.admit`.

    Admitted: a slot `delay` seconds from now is taken for the call, which
    leaves when it comes. Refused: nothing was taken; the earliest slot is
    `delay` seconds away.
    """

    admitted: bool
    delay: float


@dataclass(frozen=True, slots=True)
class Usage:
    """A budget key's slots taken in the window that ends now (those taken for
    later count too), the seconds a call admitted now would wait, and the
    seconds a hold still keeps every call back (0 without one)."""

    calls: int
    wait: float
    held_for: float = 0.0


class State(Protocol):
    """Coordination state shared by the processes of one gateway; see the package
    docstring for what each method promises."""

    async def admit(self, key: str, *, limit: int, window: float, max_wait: float) -> Admission: ...

    async def hold(self, key: str, seconds: float) -> None: ...

    async def usage(self, key: str, *, limit: int, window: float) -> Usage: ...

    async def upsert(self, stream: str, key: str, value: bytes | None) -> int: ...

    async def upsert_many(self, stream: str, changes: Iterable[Change]) -> int: ...

    async def since(self, stream: str, seq: int) -> tuple[int, list[Change]]: ...

    async def try_lease(self, name: str, owner: str, ttl: float) -> bool: ...

    async def release_lease(self, name: str, owner: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def put(self, key: str, value: bytes | None, *, ttl: float | None = None) -> None: ...

    async def put_if_absent(self, key: str, value: bytes) -> bytes: ...

    async def aclose(self) -> None: ...


def next_slot(
    *, now: float, held_until: float, latest: float | None, nth_latest: float | None, window: float
) -> float:
    """The earliest moment a new call may take so that no window of `window`
    seconds holds more than the budget's limit of calls. `latest` is the latest
    time taken, `nth_latest` the limit-th latest (None while fewer are taken).

    Slots are handed out in order (never before the latest one), so the only
    window a new slot can overfill is the one that ends at it: it holds the new
    call and every time taken after `slot - window`. The slot is free once the
    limit-th latest time has left that window.
    """
    slot = max(now, held_until)
    if latest is not None:
        slot = max(slot, latest)
    if nth_latest is not None:
        slot = max(slot, nth_latest + window)
    return slot

"""State in this process's memory: for a gateway that runs as one process.

Every method runs to its end without awaiting, so each is atomic on the event
loop without a lock.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from gateway.state.base import Admission, Change, Usage, next_slot

# Admissions between two sweeps of the keys whose calls have all left their window.
_SWEEP_EVERY = 1024


@dataclass(slots=True)
class _CallLog:
    window: float
    times: deque[float] = field(default_factory=deque)


@dataclass(slots=True)
class _Stream:
    seq: int = 0
    # key -> (seq, value), in seq order: an upsert moves its key to the end.
    latest: dict[str, tuple[int, bytes | None]] = field(default_factory=dict)


class MemoryState:
    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._calls: dict[str, _CallLog] = {}
        self._holds: dict[str, float] = {}
        self._streams: dict[str, _Stream] = {}
        self._leases: dict[str, tuple[str, float]] = {}
        self._values: dict[str, bytes] = {}
        # When values put with a ttl may go.
        self._expires: dict[str, float] = {}
        self._until_sweep = _SWEEP_EVERY

    # Call admission

    async def admit(self, key: str, *, limit: int, window: float, max_wait: float) -> Admission:
        now = self._clock()
        self._until_sweep -= 1
        if self._until_sweep <= 0:
            self._sweep(now)
        log = self._log(key, window)
        log.window = window
        times = log.times
        while times and times[0] <= now - window:
            times.popleft()
        # Only the latest `limit` times decide the next slot.
        while len(times) > limit:
            times.popleft()
        slot = self._next_slot(key, times, now, limit, window)
        delay = slot - now
        if delay > max_wait:
            if not times:
                del self._calls[key]
            return Admission(admitted=False, delay=delay)
        times.append(slot)
        return Admission(admitted=True, delay=delay)

    async def record(self, key: str, slots: Iterable[float], *, window: float) -> None:
        """Count `slots` as taken: slots taken elsewhere, which calls admitted here
        must leave room for (`gateway.state.fallback`)."""
        now = self._clock()
        log = self._log(key, window)
        log.times = deque(sorted([*log.times, *(at for at in slots if at > now - window)]))
        if not log.times:
            del self._calls[key]

    async def hold(self, key: str, seconds: float) -> None:
        until = self._clock() + seconds
        if until > self._holds.get(key, 0.0):
            self._holds[key] = until

    async def usage(self, key: str, *, limit: int, window: float) -> Usage:
        now = self._clock()
        log = self._calls.get(key)
        times = [at for at in log.times if at > now - window] if log is not None else []
        wait = self._next_slot(key, times, now, limit, window) - now
        held_for = max(0.0, self._holds.get(key, 0.0) - now)
        return Usage(calls=len(times), wait=wait, held_for=held_for)

    def _log(self, key: str, window: float) -> _CallLog:
        log = self._calls.get(key)
        if log is None:
            log = self._calls[key] = _CallLog(window)
        return log

    def _next_slot(
        self, key: str, times: Sequence[float], now: float, limit: int, window: float
    ) -> float:
        """`next_slot` for `key`, from its times taken in the window that ends now."""
        return next_slot(
            now=now,
            held_until=self._holds.get(key, 0.0),
            latest=times[-1] if times else None,
            nth_latest=times[-limit] if len(times) >= limit else None,
            window=window,
        )

    def _sweep(self, now: float) -> None:
        self._until_sweep = _SWEEP_EVERY
        for key in [k for k, log in self._calls.items() if _idle(log, now)]:
            del self._calls[key]
        for key in [k for k, until in self._holds.items() if until <= now]:
            del self._holds[key]
        for key in [k for k, until in self._expires.items() if until <= now]:
            del self._expires[key]
            self._values.pop(key, None)

    # Change feeds

    async def upsert(self, stream: str, key: str, value: bytes | None) -> int:
        return await self.upsert_many(stream, [(key, value)])

    async def upsert_many(self, stream: str, changes: Iterable[Change]) -> int:
        feed = self._streams.get(stream)
        if feed is None:
            feed = self._streams[stream] = _Stream()
        for key, value in changes:
            feed.seq += 1
            feed.latest.pop(key, None)
            feed.latest[key] = (feed.seq, value)
        return feed.seq

    async def since(self, stream: str, seq: int) -> tuple[int, list[Change]]:
        feed = self._streams.get(stream)
        if feed is None:
            return 0, []
        newer: list[Change] = []
        for key, (key_seq, value) in reversed(feed.latest.items()):
            if key_seq <= seq:
                break
            newer.append((key, value))
        newer.reverse()
        return feed.seq, newer

    # Leases

    async def try_lease(self, name: str, owner: str, ttl: float) -> bool:
        now = self._clock()
        current = self._leases.get(name)
        if current is not None and current[0] != owner and current[1] > now:
            return False
        self._leases[name] = (owner, now + ttl)
        return True

    async def release_lease(self, name: str, owner: str) -> None:
        current = self._leases.get(name)
        if current is not None and current[0] == owner:
            del self._leases[name]

    # Small values

    async def get(self, key: str) -> bytes | None:
        until = self._expires.get(key)
        if until is not None and until <= self._clock():
            del self._expires[key]
            self._values.pop(key, None)
        return self._values.get(key)

    async def put(self, key: str, value: bytes | None, *, ttl: float | None = None) -> None:
        self._until_sweep -= 1
        if self._until_sweep <= 0:
            self._sweep(self._clock())
        self._expires.pop(key, None)
        if value is None:
            self._values.pop(key, None)
            return
        self._values[key] = value
        if ttl is not None:
            self._expires[key] = self._clock() + ttl

    async def put_if_absent(self, key: str, value: bytes) -> bytes:
        current = await self.get(key)
        if current is not None:
            return current
        self._values[key] = value
        return value

    async def aclose(self) -> None:
        return None


def _idle(log: _CallLog, now: float) -> bool:
    return not log.times or log.times[-1] <= now - log.window

"""Redis first, this process's memory while Redis cannot be reached.

The replicas of a gateway share their state in Redis (`RedisState`). Redis
trouble must never fail a request, so every operation that Redis does not
answer within its timeout is answered by a `MemoryState` of this process
instead, and the process goes on alone until Redis answers again: a probe asks
every `retry_every` seconds. The gauge `gateway_state_degraded` is 1 meanwhile,
and `gateway_state_fallbacks` counts the operations answered alone.

What going on alone means, by kind of state:

- Call budgets: each process keeps to its share of a key's limit, `limit //
  processes` (at least one call), where `processes` counts every process that
  shares the budget (replicas times workers), so that together they stay under
  the limit. Each admission through Redis brings back the latest slots of its
  key, and a process that loses Redis starts from those, so the calls made
  just before count. Holds (a 429's Retry-After) are kept here as well as in
  Redis, and stay in force. When Redis is back, the slots taken alone are
  recorded in it, and for one window each process admits under the limit less
  the others' shares, since the calls the others made alone may not have
  reached Redis yet.
- Feeds: changes go to this process's feed; positions read from it are told
  apart from Redis's (they are negative), so that a reader switching between
  them reads the other feed from its start. When Redis is back the changes
  made alone are published there for every process, and each reader reads
  Redis's feed from its start once.
- Leases: taken here, so this process does the job on its own.
- Values: put here; one not put here since is read as Redis last gave it
  (a copy of the values read and written through Redis, bounded in size, so
  that a token Moneybird accepted or a webhook's registration is still known).
  Those put alone are put in Redis when it is back. A value `put_if_absent`
  drew alone (the salt of `gateway.state.keys`) gives way to the one Redis
  holds, and whoever `watch`es the key is told.

A Redis that comes back restarted may have lost everything (without
persistence it has): each process then gives it back what it knew, where the
key holds nothing, with the time each value had left to live, as well as the
latest slots of each budget key (a slot Redis holds already, or another
process gave back, counts once).

Two processes that both change a feed's key alone leave in Redis whichever
change came back last; the mirror's next sync corrects it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from gateway.observability.metrics import STATE_DEGRADED, STATE_FALLBACKS
from gateway.state.base import Admission, Change, Usage
from gateway.state.memory import MemoryState
from gateway.state.redis import RedisState

logger = logging.getLogger("gateway.state")

# What Redis trouble looks like: the client's own errors (connection refused or
# lost, a timeout, a full pool, an error answer) and the socket's.
UNREACHABLE = (RedisError, OSError, TimeoutError)
# Admissions between two sweeps of the copies kept for going on alone.
_SWEEP_EVERY = 1024
# The copy of values read and written through Redis: their total size, and the
# largest one kept.
_KNOWN_BYTES = 4_000_000
_KNOWN_LARGEST = 64_000


@dataclass
class _Alone:
    """What this process did while Redis could not be reached, for Redis when it is back."""

    # budget key -> (window, slots admitted)
    slots: dict[str, tuple[float, list[float]]] = field(default_factory=dict)
    # budget key -> end of a hold set
    holds: dict[str, float] = field(default_factory=dict)
    # streams changed
    streams: set[str] = field(default_factory=set)
    # key -> (value, ttl) put
    values: dict[str, tuple[bytes | None, float | None]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.slots or self.holds or self.streams or self.values)

    def merge(self, later: _Alone) -> None:
        """Add what was done after this, which a hand-over that failed left behind."""
        for key, (window, slots) in later.slots.items():
            _, earlier = self.slots.get(key, (window, []))
            self.slots[key] = (window, earlier + slots)
        self.holds |= later.holds
        self.streams |= later.streams
        self.values |= later.values


class FallbackState:
    def __init__(
        self,
        primary: RedisState,
        *,
        processes: int = 1,
        retry_every: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._primary = primary
        self._processes = max(1, processes)
        self._retry_every = retry_every
        self._clock = clock
        self._local = MemoryState(clock=clock)
        self._degraded = False
        self._recovered_at = -math.inf
        self._probe: asyncio.Task[None] | None = None
        self._alone = _Alone()
        # stream -> position of the local feed already handed over to Redis
        self._handed: dict[str, int] = {}
        # The latest slots of each budget key, as Redis last gave them: (window, slots).
        self._recent: dict[str, tuple[float, list[float]]] = {}
        # Every hold this process set, against a 429 forgotten when Redis goes.
        self._holds: dict[str, float] = {}
        self._watchers: dict[str, list[Callable[[bytes], None]]] = {}
        # Values as Redis last gave them, with when they expire there (None: never),
        # least recently used first.
        self._known: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self._known_bytes = 0
        # Which run of the Redis server this process last shared.
        self._server: str | None = None
        # What put_if_absent settled on, for Redis should it lose it.
        self._settled: dict[str, bytes] = {}
        self._until_sweep = _SWEEP_EVERY
        STATE_DEGRADED.set(0)

    @property
    def degraded(self) -> bool:
        return self._degraded

    async def connect(self) -> None:
        """Learn which run of Redis this is, or go on alone from the start."""
        try:
            self._server = await self._primary.server_id()
        except UNREACHABLE as exc:
            await self._degrade(exc)

    def watch(self, key: str, callback: Callable[[bytes], None]) -> None:
        """Call `callback` with the value Redis holds for `key`, when it differs from
        the one `put_if_absent` gave this process while it went on alone."""
        self._watchers.setdefault(key, []).append(callback)

    # Call admission

    def _share(self, limit: int) -> int:
        return max(1, limit // self._processes)

    def _shared_limit(self, limit: int, window: float, now: float) -> int:
        """The limit to keep to through Redis: for one window after Redis is back, the
        limit less the others' shares, since their calls made alone may not be in
        Redis yet."""
        if now < self._recovered_at + window:
            share = self._share(limit)
            return max(share, limit - (self._processes - 1) * share)
        return limit

    async def admit(self, key: str, *, limit: int, window: float, max_wait: float) -> Admission:
        share = self._share(limit)
        if not self._degraded:
            now = self._clock()
            within = self._shared_limit(limit, window, now)
            try:
                admission, recent = await self._primary.admit_keeping(
                    key, limit=within, window=window, max_wait=max_wait, keep=share, retain=limit
                )
            except UNREACHABLE as exc:
                await self._degrade(exc)
            else:
                if admission.admitted:
                    self._recent[key] = (window, recent)
                    if self._degraded:
                        await self._local.record(key, recent, window=window)
                self._forget_idle_keys(now)
                return admission
        STATE_FALLBACKS.inc()
        admission = await self._local.admit(key, limit=share, window=window, max_wait=max_wait)
        if admission.admitted:
            _, slots = self._alone.slots.setdefault(key, (window, []))
            now = self._clock()
            # Only slots still within their window count once Redis is back.
            slots[:] = [slot for slot in slots if slot > now - window]
            slots.append(now + admission.delay)
        return admission

    async def hold(self, key: str, seconds: float) -> None:
        until = self._clock() + seconds
        if until > self._holds.get(key, 0.0):
            self._holds[key] = until
        await self._local.hold(key, seconds)
        if not self._degraded:
            try:
                await self._primary.hold(key, seconds)
                return
            except UNREACHABLE as exc:
                await self._degrade(exc)
        STATE_FALLBACKS.inc()
        self._alone.holds[key] = max(until, self._alone.holds.get(key, 0.0))

    async def usage(self, key: str, *, limit: int, window: float) -> Usage:
        if not self._degraded:
            within = self._shared_limit(limit, window, self._clock())
            try:
                return await self._primary.usage(key, limit=within, window=window)
            except UNREACHABLE as exc:
                await self._degrade(exc)
        STATE_FALLBACKS.inc()
        return await self._local.usage(key, limit=self._share(limit), window=window)

    def _forget_idle_keys(self, now: float) -> None:
        """Now and then, the copies of keys whose slots all left their window go."""
        self._until_sweep -= 1
        if self._until_sweep > 0:
            return
        self._until_sweep = _SWEEP_EVERY
        for key, (window, slots) in list(self._recent.items()):
            if max(slots, default=0.0) <= now - window:
                del self._recent[key]
        for key in [k for k, until in self._holds.items() if until <= now]:
            del self._holds[key]

    # Change feeds

    async def upsert(self, stream: str, key: str, value: bytes | None) -> int:
        return await self.upsert_many(stream, [(key, value)])

    async def upsert_many(self, stream: str, changes: Iterable[Change]) -> int:
        changes = list(changes)
        if not self._degraded:
            try:
                return await self._primary.upsert_many(stream, changes)
            except UNREACHABLE as exc:
                await self._degrade(exc)
        STATE_FALLBACKS.inc()
        self._alone.streams.add(stream)
        return _local_position(await self._local.upsert_many(stream, changes))

    async def since(self, stream: str, seq: int) -> tuple[int, list[Change]]:
        if not self._degraded:
            try:
                # A position in this process's feed: Redis's is read from its start.
                return await self._primary.since(stream, max(seq, 0))
            except UNREACHABLE as exc:
                await self._degrade(exc)
        STATE_FALLBACKS.inc()
        local_seq = -seq - 1 if seq < 0 else 0
        last, changes = await self._local.since(stream, local_seq)
        return _local_position(last), changes

    # Leases

    async def try_lease(self, name: str, owner: str, ttl: float) -> bool:
        if not self._degraded:
            try:
                return await self._primary.try_lease(name, owner, ttl)
            except UNREACHABLE as exc:
                await self._degrade(exc)
        STATE_FALLBACKS.inc()
        return await self._local.try_lease(name, owner, ttl)

    async def release_lease(self, name: str, owner: str) -> None:
        # Whichever state the lease was taken in: releasing in the other does nothing.
        await self._local.release_lease(name, owner)
        if not self._degraded:
            try:
                await self._primary.release_lease(name, owner)
            except UNREACHABLE as exc:
                await self._degrade(exc)

    # Small values

    async def get(self, key: str) -> bytes | None:
        if not self._degraded:
            try:
                value, ttl = await self._primary.get_with_ttl(key)
            except UNREACHABLE as exc:
                await self._degrade(exc)
            else:
                self._know(key, value, ttl)
                return value
        STATE_FALLBACKS.inc()
        if key in self._alone.values:
            return await self._local.get(key)
        known = self._known.get(key)
        if known is None:
            return None
        value, expires = known
        if expires is not None and expires <= self._clock():
            return None
        self._known.move_to_end(key)
        return value

    async def put(self, key: str, value: bytes | None, *, ttl: float | None = None) -> None:
        if not self._degraded:
            try:
                await self._primary.put(key, value, ttl=ttl)
            except UNREACHABLE as exc:
                await self._degrade(exc)
            else:
                self._know(key, value, ttl)
                return
        STATE_FALLBACKS.inc()
        self._alone.values[key] = (value, ttl)
        await self._local.put(key, value, ttl=ttl)

    async def put_if_absent(self, key: str, value: bytes) -> bytes:
        if not self._degraded:
            try:
                stored = await self._primary.put_if_absent(key, value)
            except UNREACHABLE as exc:
                await self._degrade(exc)
            else:
                self._settled[key] = stored
                return stored
        STATE_FALLBACKS.inc()
        return self._settled.setdefault(key, value)

    def _know(self, key: str, value: bytes | None, ttl: float | None) -> None:
        """Keep `value` as Redis has it now, for when Redis cannot be reached."""
        old = self._known.pop(key, None)
        if old is not None:
            self._known_bytes -= len(old[0])
        if value is None or len(value) > _KNOWN_LARGEST:
            return
        self._known[key] = (value, None if ttl is None else self._clock() + ttl)
        self._known_bytes += len(value)
        while self._known_bytes > _KNOWN_BYTES:
            _, (evicted, _) = self._known.popitem(last=False)
            self._known_bytes -= len(evicted)

    async def aclose(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)
        await self._primary.aclose()

    # Losing Redis and finding it again

    async def _degrade(self, exc: BaseException) -> None:
        if self._degraded:
            return
        self._degraded = True
        STATE_DEGRADED.set(1)
        logger.warning(
            "the shared state (Redis) cannot be reached (%s: %s); this process goes on alone",
            type(exc).__name__,
            exc,
        )
        # The latest calls admitted through Redis, by every process, still count.
        for key, (window, slots) in self._recent.items():
            await self._local.record(key, slots, window=window)
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        while True:
            await asyncio.sleep(self._retry_every)
            try:
                await self._primary.ping()
                await self._hand_over()
            except UNREACHABLE:
                continue
            except Exception:
                logger.exception("could not hand over to Redis what was done without it")
                continue
            return

    async def _hand_over(self) -> None:
        """Give Redis what this process did alone, then go back to it. Operations
        keep coming meanwhile, answered here: what they did is handed over too,
        until nothing is left, and then Redis takes over without a pause."""
        server = await self._primary.server_id()
        if self._server is not None and server != self._server:
            await self._restore()
        self._server = server
        # A value drawn alone gives way to the one Redis holds.
        for key, value in list(self._settled.items()):
            stored = await self._primary.put_if_absent(key, value)
            if stored != value:
                self._settled[key] = stored
                for callback in self._watchers.get(key, []):
                    callback(stored)
        while self._alone:
            alone, self._alone = self._alone, _Alone()
            try:
                await self._replay(alone)
            except BaseException:
                alone.merge(self._alone)
                self._alone = alone
                raise
        # Nothing below waits: no operation comes between the last hand-over and the switch.
        now = self._clock()
        local = MemoryState(clock=self._clock)
        for key, until in self._holds.items():
            if until > now:
                await local.hold(key, until - now)
        self._local = local
        self._handed = {}
        self._recovered_at = now
        self._degraded = False
        STATE_DEGRADED.set(0)
        logger.warning("the shared state (Redis) answers again; this process shares it again")

    async def _restore(self) -> None:
        """Give a restarted Redis what this process knew, where it holds nothing."""
        now = self._clock()
        for key, (value, expires) in list(self._known.items()):
            if expires is None or expires > now:
                await self._primary.put_new(
                    key, value, ttl=None if expires is None else expires - now
                )
        for key, (window, slots) in list(self._recent.items()):
            await self._primary.record(key, slots, window=window)

    async def _replay(self, alone: _Alone) -> None:
        now = self._clock()
        for key in list(alone.slots):
            window, slots = alone.slots[key]
            await self._primary.record(key, slots, window=window)
            del alone.slots[key]
        for key in list(alone.holds):
            if alone.holds[key] > now:
                await self._primary.hold(key, alone.holds[key] - now)
            del alone.holds[key]
        for stream in list(alone.streams):
            last, changes = await self._local.since(stream, self._handed.get(stream, 0))
            if changes:
                await self._primary.upsert_many(stream, changes)
            self._handed[stream] = last
            alone.streams.discard(stream)
        for key in list(alone.values):
            value, ttl = alone.values[key]
            await self._primary.put(key, value, ttl=ttl)
            del alone.values[key]


def _local_position(seq: int) -> int:
    """A position in this process's feed, told apart from Redis's: negative."""
    return -seq - 1

"""Coordination state shared by the processes of one gateway.

One interface (`State`), three backends: `MemoryState` for a gateway that runs
as one process, `SqliteState` (one SQLite file in WAL mode) for the worker
processes of one host, and `RedisState` for replicas on several hosts
(GATEWAY_REDIS_URL). `gateway serve` with several workers and no Redis creates
the SQLite file in a run directory and names it in GATEWAY_STATE_PATH. Redis
comes wrapped in `FallbackState`, which answers from the process's memory while
Redis cannot be reached, so that Redis trouble never fails a request. Every
method is async and atomic across the processes that share the state. Times are
the state's clock (`time.time`, shared by the processes of a host; Redis's own
for Redis); durations are seconds.

Call admission (`gateway.upstream.budget` keeps one key per token):

    admit(key, *, limit, window, max_wait) -> Admission
        Takes the earliest slot for a call such that no window of `window`
        seconds holds more than `limit` taken slots, and no slot falls within
        a hold. Slots are handed out in order and may lie in the future: the
        call waits for its slot (`Admission.delay`). When the slot is more than
        `max_wait` seconds away, nothing is taken (`admitted` is False) and
        `delay` says when a slot would be free.
    hold(key, seconds)
        No slot for `key` before `seconds` from now (an upstream's Retry-After);
        a later hold already set stays.
    usage(key, *, limit, window) -> Usage
        Slots taken in the window ending now (later ones included), the
        seconds a call admitted now would wait, and those a hold still has to
        run; takes nothing.

Change feeds, one per stream; each key keeps only its latest value, so a
stream holds at most one entry per key:

    upsert(stream, key, value: bytes | None) -> seq
        Sets the key's value (None: the key was deleted); the stream's sequence
        number, one higher than the change before it.
    upsert_many(stream, [(key, value), ...]) -> seq
        The same for several keys, in one transaction, in the order given;
        returns the last sequence number.
    since(stream, seq) -> (last_seq, [(key, value), ...])
        The keys changed after `seq`, each once with its latest value, in the
        order of their last change; `last_seq` is the stream's latest sequence
        number, to pass next time. `since(stream, 0)` gives a new reader every
        key ever set, deleted ones with None.

Leases, so that one process at a time does a job:

    try_lease(name, owner, ttl) -> bool
        Takes the lease for `ttl` seconds if it is free, expired or already
        `owner`'s (then it is extended).
    release_lease(name, owner)
        Frees the lease if `owner` holds it.

Small values (a salt, a stream's metadata):

    get(key) -> bytes | None
    put(key, value: bytes | None, *, ttl=None)
                                         None deletes; with `ttl`, the value may
                                         be gone `ttl` seconds after it was put
                                         (SQLite keeps it for the run)
    put_if_absent(key, value) -> bytes   the value now stored: `value`, or the
                                         one another process stored first

Keys derived from secrets are made with `KeyHasher` (HMAC-SHA256 with a salt
kept in the state); no token is ever a key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gateway.state.base import Admission, Change, State, Usage
from gateway.state.fallback import FallbackState
from gateway.state.keys import KeyHasher
from gateway.state.memory import MemoryState
from gateway.state.redis import RedisState
from gateway.state.sqlite import SqliteState, StateBusy

__all__ = [
    "Admission",
    "Change",
    "FallbackState",
    "KeyHasher",
    "MemoryState",
    "RedisConfig",
    "RedisState",
    "SqliteState",
    "State",
    "StateBusy",
    "Usage",
    "open_state",
]


@dataclass(frozen=True)
class RedisConfig:
    """Where the replicas share their state, and how this process goes on without it."""

    # It may hold a password: kept out of the repr.
    url: str = field(repr=False)
    prefix: str = "gateway:"
    # Seconds a command may take, connecting included, before the process goes on alone.
    timeout: float = 0.25
    # Seconds between attempts to reach Redis again.
    retry_every: float = 1.0
    # Seconds a feed stays after its last change.
    idle_ttl: float = 604_800.0
    # Processes sharing the state (replicas times workers): while alone, each keeps
    # to this share of a call budget.
    processes: int = 1


@asynccontextmanager
async def open_state(
    path: Path | None, *, redis: RedisConfig | None = None
) -> AsyncIterator[State]:
    """The state in Redis when configured (this process's memory standing in while
    it cannot be reached), else in the SQLite file at `path` (created if missing),
    else in memory; closed on exit."""
    state: State
    if redis is not None:
        shared = RedisState.from_url(
            redis.url, timeout=redis.timeout, prefix=redis.prefix, idle_ttl=redis.idle_ttl
        )
        state = FallbackState(shared, processes=redis.processes, retry_every=redis.retry_every)
        await state.connect()
    elif path is not None:
        state = SqliteState(path)
    else:
        state = MemoryState()
    try:
        yield state
    finally:
        await state.aclose()

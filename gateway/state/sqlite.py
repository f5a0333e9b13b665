"""State in one SQLite file in WAL mode: for the worker processes of one host.

Each process opens its own connection. Every method is one transaction; those
that write begin with `BEGIN IMMEDIATE`, which takes the file's one write lock
first, so that what a method reads and what it writes are never interleaved
with another process's writes.

Small transactions run on the event loop: on a local file they take a few tens
of microseconds, less than handing them to a thread would. The lock is never
waited for on the loop: the connection does not wait (busy timeout 0), and a
method that finds the lock taken sleeps asynchronously and tries again.
Transactions whose size a caller decides (`upsert_many` of many changes,
`since` with many changes to return) run on one thread of their own, with a
second connection that may wait for the lock there. So do the checkpoints that
copy the write-ahead log back into the file, which would otherwise fall to
whichever commit filled the log, on the loop.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from gateway.state.base import Admission, Change, Usage, next_slot

T = TypeVar("T")

logger = logging.getLogger("gateway.state")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS budget_calls (
    key TEXT NOT NULL, at REAL NOT NULL, expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS budget_calls_by_key ON budget_calls (key, at);
CREATE INDEX IF NOT EXISTS budget_calls_by_expiry ON budget_calls (expires);
CREATE TABLE IF NOT EXISTS budget_holds (key TEXT PRIMARY KEY, until REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS feed_seqs (stream TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS feed (
    stream TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, value BLOB,
    PRIMARY KEY (stream, key)
);
CREATE INDEX IF NOT EXISTS feed_by_seq ON feed (stream, seq);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
"""

# Changes one transaction on the event loop may write or read; more go to the thread.
_INLINE_ROWS = 64
# Writes on the event loop between two checkpoints on the thread.
_CHECKPOINT_EVERY = 1000
# Admissions between two sweeps of the call times and holds that have expired.
_SWEEP_EVERY = 1024
# How long a thread's connection, or the opening of the file, waits for the lock.
_LOCK_WAIT = 5.0
_FIRST_RETRY = 0.0002
_LONGEST_RETRY = 0.01


class StateBusy(Exception):
    """Another process held the state's write lock for longer than `_LOCK_WAIT`."""


class SqliteState:
    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._clock = clock
        self._db = _connect(path, busy_timeout=_LOCK_WAIT)
        try:
            # WAL lets readers go on while one process writes; the mode stays with the file.
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} COMMIT;")
            self._db.execute("PRAGMA busy_timeout = 0")
        except BaseException:
            self._db.close()
            raise
        self._thread: ThreadPoolExecutor | None = None
        self._thread_db: sqlite3.Connection | None = None
        self._until_sweep = _SWEEP_EVERY
        self._until_checkpoint = _CHECKPOINT_EVERY
        self._checkpoint: asyncio.Future[None] | None = None

    # Call admission

    async def admit(self, key: str, *, limit: int, window: float, max_wait: float) -> Admission:
        self._until_sweep -= 1
        sweep = self._until_sweep <= 0
        if sweep:
            self._until_sweep = _SWEEP_EVERY
        return await self._inline(True, self._admit, key, limit, window, max_wait, sweep)

    def _admit(
        self,
        db: sqlite3.Connection,
        key: str,
        limit: int,
        window: float,
        max_wait: float,
        sweep: bool,
    ) -> Admission:
        now = self._clock()
        if sweep:
            db.execute("DELETE FROM budget_calls WHERE expires <= ?", (now,))
            db.execute("DELETE FROM budget_holds WHERE until <= ?", (now,))
        db.execute("DELETE FROM budget_calls WHERE key = ? AND at <= ?", (key, now - window))
        slot = _next_slot(db, key, now, limit, window)
        delay = slot - now
        if delay > max_wait:
            return Admission(admitted=False, delay=delay)
        db.execute("INSERT INTO budget_calls VALUES (?, ?, ?)", (key, slot, slot + window))
        return Admission(admitted=True, delay=delay)

    async def hold(self, key: str, seconds: float) -> None:
        def hold(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO budget_holds VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET until = max(until, excluded.until)",
                (key, self._clock() + seconds),
            )

        await self._inline(True, hold)

    async def usage(self, key: str, *, limit: int, window: float) -> Usage:
        def usage(db: sqlite3.Connection) -> Usage:
            now = self._clock()
            calls = db.execute(
                "SELECT count(*) FROM budget_calls WHERE key = ? AND at > ?", (key, now - window)
            ).fetchone()[0]
            held = db.execute("SELECT until FROM budget_holds WHERE key = ?", (key,)).fetchone()
            return Usage(
                calls=calls,
                wait=_next_slot(db, key, now, limit, window) - now,
                held_for=0.0 if held is None else max(0.0, held[0] - now),
            )

        return await self._inline(False, usage)

    # Change feeds

    async def upsert(self, stream: str, key: str, value: bytes | None) -> int:
        return await self._inline(True, _upsert, stream, [(key, value)])

    async def upsert_many(self, stream: str, changes: Iterable[Change]) -> int:
        rows = list(changes)
        if len(rows) <= _INLINE_ROWS:
            return await self._inline(True, _upsert, stream, rows)
        return await self._in_thread(True, _upsert, stream, rows)

    async def since(self, stream: str, seq: int) -> tuple[int, list[Change]]:
        last, changes = await self._inline(False, _since, stream, seq, _INLINE_ROWS + 1)
        if len(changes) <= _INLINE_ROWS:
            return last, changes
        return await self._in_thread(False, _since, stream, seq, -1)

    # Leases

    async def try_lease(self, name: str, owner: str, ttl: float) -> bool:
        def take(db: sqlite3.Connection) -> bool:
            now = self._clock()
            cursor = db.execute(
                "INSERT INTO leases VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE "
                "SET owner = excluded.owner, expires = excluded.expires "
                "WHERE leases.owner = excluded.owner OR leases.expires <= ?",
                (name, owner, now + ttl, now),
            )
            return cursor.rowcount == 1

        return await self._inline(True, take)

    async def release_lease(self, name: str, owner: str) -> None:
        def release(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

        await self._inline(True, release)

    # Small values

    async def get(self, key: str) -> bytes | None:
        def get(db: sqlite3.Connection) -> bytes | None:
            row = db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
            return None if row is None else bytes(row[0])

        return await self._inline(False, get)

    async def put(self, key: str, value: bytes | None, *, ttl: float | None = None) -> None:
        # A `ttl` bounds what a long-lived shared state keeps; this file lives as long
        # as the run of `gateway serve` that made it, so values stay for the run.
        def put(db: sqlite3.Connection) -> None:
            if value is None:
                db.execute("DELETE FROM kv WHERE key = ?", (key,))
            else:
                db.execute(
                    "INSERT INTO kv VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                    "SET value = excluded.value",
                    (key, value),
                )

        await self._inline(True, put)

    async def put_if_absent(self, key: str, value: bytes) -> bytes:
        def put_if_absent(db: sqlite3.Connection) -> bytes:
            db.execute("INSERT INTO kv VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, value))
            return bytes(db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()[0])

        return await self._inline(True, put_if_absent)

    async def aclose(self) -> None:
        if self._checkpoint is not None:
            await asyncio.wait([self._checkpoint])
        if self._thread is not None:
            thread_db = self._thread_db
            if thread_db is not None:
                await asyncio.get_running_loop().run_in_executor(self._thread, thread_db.close)
            self._thread.shutdown(wait=True)
        self._db.close()

    # Running transactions

    async def _inline(self, write: bool, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)` in one transaction on the event loop; while
        another process holds the write lock, it sleeps and tries again."""
        if write:
            self._until_checkpoint -= 1
            if self._until_checkpoint <= 0 and self._checkpoint is None:
                self._until_checkpoint = _CHECKPOINT_EVERY
                self._checkpoint = self._start_checkpoint()
        pause = _FIRST_RETRY
        give_up = time.monotonic() + _LOCK_WAIT
        while True:
            try:
                return _transaction(self._db, write, work, *args)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > give_up:
                    if _is_busy(exc):
                        raise StateBusy(str(exc)) from exc
                    raise
            await asyncio.sleep(random.uniform(pause / 2, pause))  # noqa: S311 - jitter
            pause = min(pause * 2, _LONGEST_RETRY)

    async def _in_thread(self, write: bool, work: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor(), self._thread_transaction, write, work, args
        )

    def _executor(self) -> ThreadPoolExecutor:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-state")
        return self._thread

    def _connection_of_thread(self) -> sqlite3.Connection:
        if self._thread_db is None:
            self._thread_db = _connect(self._path, busy_timeout=_LOCK_WAIT)
        return self._thread_db

    def _thread_transaction(self, write: bool, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            return _transaction(self._connection_of_thread(), write, work, *args)
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise StateBusy(str(exc)) from exc
            raise

    def _start_checkpoint(self) -> asyncio.Future[None]:
        def checkpoint() -> None:
            # PASSIVE copies what it can without waiting for readers or writers.
            self._connection_of_thread().execute("PRAGMA wal_checkpoint(PASSIVE)")

        future = asyncio.get_running_loop().run_in_executor(self._executor(), checkpoint)
        future.add_done_callback(self._checkpoint_done)
        return future

    def _checkpoint_done(self, future: asyncio.Future[None]) -> None:
        self._checkpoint = None
        if not future.cancelled() and future.exception() is not None:
            # A checkpoint that failed is retried after the next writes; the log
            # only grows meanwhile.
            logger.warning("state checkpoint failed: %s", future.exception())


def _connect(path: Path, *, busy_timeout: float) -> sqlite3.Connection:
    # isolation_level=None: transactions are begun and ended here, not by the module.
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    # Commits do not wait for the disk: the state coordinates running processes and
    # need not outlive the machine.
    db.execute("PRAGMA synchronous = NORMAL")
    # Checkpoints run on the state's thread (`_start_checkpoint`), not in a commit.
    db.execute("PRAGMA wal_autocheckpoint = 0")
    return db


def _transaction(db: sqlite3.Connection, write: bool, work: Callable[..., T], *args: Any) -> T:
    db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        result = work(db, *args)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return result


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(exc) or "busy" in str(exc)
    return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _next_slot(db: sqlite3.Connection, key: str, now: float, limit: int, window: float) -> float:
    """`next_slot` for `key`, from the times taken in the window that ends now."""
    since = now - window
    latest = db.execute(
        "SELECT max(at) FROM budget_calls WHERE key = ? AND at > ?", (key, since)
    ).fetchone()[0]
    nth = db.execute(
        "SELECT at FROM budget_calls WHERE key = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?",
        (key, since, limit - 1),
    ).fetchone()
    held = db.execute("SELECT until FROM budget_holds WHERE key = ?", (key,)).fetchone()
    return next_slot(
        now=now,
        held_until=0.0 if held is None else held[0],
        latest=latest,
        nth_latest=None if nth is None else nth[0],
        window=window,
    )


def _upsert(db: sqlite3.Connection, stream: str, changes: list[Change]) -> int:
    row = db.execute("SELECT seq FROM feed_seqs WHERE stream = ?", (stream,)).fetchone()
    seq: int = 0 if row is None else row[0]
    for key, value in changes:
        seq += 1
        db.execute(
            "INSERT INTO feed VALUES (?, ?, ?, ?) ON CONFLICT (stream, key) "
            "DO UPDATE SET seq = excluded.seq, value = excluded.value",
            (stream, key, seq, value),
        )
    db.execute(
        "INSERT INTO feed_seqs VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq",
        (stream, seq),
    )
    return seq


def _since(db: sqlite3.Connection, stream: str, seq: int, limit: int) -> tuple[int, list[Change]]:
    row = db.execute("SELECT seq FROM feed_seqs WHERE stream = ?", (stream,)).fetchone()
    rows = db.execute(
        "SELECT key, value FROM feed WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?",
        (stream, seq, limit),
    ).fetchall()
    changes: list[Change] = [(key, None if value is None else bytes(value)) for key, value in rows]
    return (0 if row is None else row[0]), changes

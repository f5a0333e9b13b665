"""Every backend behind one fixture, on a clock the test moves: in memory, in a
SQLite file, in a real redis-server started for the session, and that Redis
behind the fallback wrapper while it answers."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from gateway.state import FallbackState, MemoryState, RedisState, SqliteState, State
from tests.redis_server import RedisServer, redis_server

T = TypeVar("T")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Backend:
    """Opens states of one backend; SQLite ones share one file, as workers do, and
    Redis ones one prefix, as replicas do."""

    def __init__(self, kind: str, path: Path, redis_url: str = "") -> None:
        self.kind = kind
        self.path = path
        self.redis_url = redis_url
        self.prefix = f"test-{secrets.token_hex(4)}:"

    def open(self, clock: Callable[[], float]) -> State:
        if self.kind == "memory":
            return MemoryState(clock=clock)
        if self.kind in ("redis", "fallback"):
            redis = RedisState.from_url(self.redis_url, timeout=5, prefix=self.prefix, clock=clock)
            return redis if self.kind == "redis" else FallbackState(redis, clock=clock)
        return SqliteState(self.path, clock=clock)

    def run(self, scenario: Callable[[State, FakeClock], Awaitable[T]]) -> T:
        """Runs `scenario` with a fresh state on a fake clock, closing it after."""

        async def main() -> T:
            clock = FakeClock()
            state = self.open(clock)
            try:
                return await scenario(state, clock)
            finally:
                await state.aclose()

        return asyncio.run(main())


@pytest.fixture(scope="session")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(params=["memory", "sqlite", "redis", "fallback"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param in ("redis", "fallback"):
        server: RedisServer = request.getfixturevalue("redis")
        return Backend(request.param, tmp_path / "state.sqlite3", server.url)
    return Backend(request.param, tmp_path / "state.sqlite3")

"""Both backends behind one fixture, on a clock the test moves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from gateway.state import MemoryState, SqliteState, State

T = TypeVar("T")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Backend:
    """Opens states of one backend; SQLite ones share one file, as workers do."""

    def __init__(self, kind: str, path: Path) -> None:
        self.kind = kind
        self.path = path

    def open(self, clock: Callable[[], float]) -> State:
        if self.kind == "memory":
            return MemoryState(clock=clock)
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


@pytest.fixture(params=["memory", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return Backend(request.param, tmp_path / "state.sqlite3")

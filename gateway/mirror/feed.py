"""The changes to each administration's mirror, in the order they were made.

Every change to a mirror (a sync, a write's answer, a webhook) is published
here first and applied from here, so that the processes of one gateway apply
the same changes in the same order. Each contact keeps only its latest entry,
so a process that starts late reads one entry per contact, not the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from gateway.state import State

# The entry that says when the mirror last matched Moneybird as a whole; no
# contact's key (its digits) can be it.
SYNCED = "synced"


@dataclass(frozen=True, slots=True)
class Change:
    key: str
    # The contact as Moneybird sent it; None when it was deleted.
    contact: dict[str, Any] | None = None
    # For a deletion: the time it was seen, against changes that arrive late.
    deleted_at: int = 0

    def encode(self) -> bytes:
        if self.contact is not None:
            return orjson.dumps({"contact": self.contact})
        return orjson.dumps({"deleted_at": self.deleted_at})

    @classmethod
    def decode(cls, key: str, value: bytes) -> Change:
        body = orjson.loads(value)
        return cls(key, body.get("contact"), int(body.get("deleted_at") or 0))


class Feed:
    """Each administration's changes, kept in the gateway's coordination state
    (`gateway.state`): in memory for one process, shared by the workers of
    `gateway serve` otherwise."""

    def __init__(self, state: State) -> None:
        self._state = state

    async def publish(
        self, administration: str, changes: list[Change], *, synced_at: float | None = None
    ) -> None:
        """Publish changes, and the time the mirror matched Moneybird when given, in
        one transaction."""
        entries = [(change.key, change.encode()) for change in changes]
        if synced_at is not None:
            entries.append((SYNCED, repr(synced_at).encode()))
        if entries:
            await self._state.upsert_many(_stream(administration), entries)

    async def read(self, administration: str, after: int) -> tuple[int, list[Change], float | None]:
        """The changes after position `after`: (new position, changes, and the time
        of a sync published since then, or None)."""
        position, entries = await self._state.since(_stream(administration), after)
        changes = []
        synced_at = None
        for key, value in entries:
            if value is None:
                continue
            if key == SYNCED:
                synced_at = float(value)
            else:
                changes.append(Change.decode(key, value))
        return position, changes, synced_at


def _stream(administration: str) -> str:
    return f"mirror:{administration}"

"""The changes to each administration's mirror, in the order they were made.

Every change to a mirror (a sync, a write's answer, a webhook) is published
here first and applied from here, so that the processes of one gateway apply
the same changes in the same order. Each contact keeps only its latest entry,
so a process that starts late reads one entry per contact, not the history.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

# The entry that says when the mirror last matched Moneybird as a whole.
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


class Feed(Protocol):
    async def publish(
        self, administration: str, changes: list[Change], *, synced_at: float | None = None
    ) -> None:
        """Publish changes, and the time the mirror matched Moneybird when given."""
        ...

    async def read(self, administration: str, after: int) -> tuple[int, list[Change], float | None]:
        """The changes after position `after`: (new position, changes, synced_at)."""
        ...


class MemoryFeed:
    """The feed of a gateway that runs in one process."""

    def __init__(self) -> None:
        self._position = 0
        # Per administration, each key's latest change, oldest first.
        self._entries: dict[str, OrderedDict[str, tuple[int, Change]]] = {}
        self._synced: dict[str, float] = {}

    async def publish(
        self, administration: str, changes: list[Change], *, synced_at: float | None = None
    ) -> None:
        entries = self._entries.setdefault(administration, OrderedDict())
        for change in changes:
            self._position += 1
            entries[change.key] = (self._position, change)
            entries.move_to_end(change.key)
        if synced_at is not None:
            self._synced[administration] = max(synced_at, self._synced.get(administration, 0))

    async def read(self, administration: str, after: int) -> tuple[int, list[Change], float | None]:
        newer: list[Change] = []
        position = after
        for entry_position, change in reversed(self._entries.get(administration, {}).values()):
            if entry_position <= after:
                break
            position = max(position, entry_position)
            newer.append(change)
        newer.reverse()
        return position, newer, self._synced.get(administration)

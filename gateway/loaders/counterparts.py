"""Monite counterparts by id (batched `id__in` lists) and contacts by counterpart."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.ids import monite_key
from gateway.loaders.detached import DetachedLoader
from gateway.upstream.monite import ID_IN_BATCH_SIZE, MoniteClient

Record = dict[str, Any]


class CounterpartByIdLoader(DetachedLoader[str, Record | None]):
    """Keys are canonical UUIDs; up to 100 a call as `id__in=..&id__in=..`."""

    max_batch_size = ID_IN_BATCH_SIZE

    def __init__(self, client: MoniteClient) -> None:
        super().__init__()
        self._client = client

    async def batch_load_fn(self, keys: list[str]) -> list[Record | None]:
        counterparts = await self._client.counterparts_by_ids(keys)
        by_id = {monite_key(c.get("id")): c for c in counterparts}
        return [by_id.get(key) for key in keys]

    def prime_many(self, counterparts: list[Record]) -> None:
        for counterpart in counterparts:
            key = monite_key(counterpart.get("id"))
            if key is not None:
                self.clear(key).prime(key, counterpart)


class ContactsByCounterpartLoader(DetachedLoader[str, list[Record]]):
    """One `GET /counterparts/{id}/contacts` per distinct counterpart, all concurrently
    (bounded by the upstream's concurrency cap)."""

    def __init__(self, client: MoniteClient) -> None:
        super().__init__()
        self._client = client

    async def batch_load_fn(  # type: ignore[override]  # aiodataloader fails a key given an exception
        self, keys: list[str]
    ) -> list[list[Record] | BaseException]:
        results = await asyncio.gather(
            *(self._client.contacts_of(key) for key in keys), return_exceptions=True
        )
        # A failure fails only its own counterpart's fields.
        return [result if isinstance(result, (list, BaseException)) else [] for result in results]

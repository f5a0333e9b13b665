"""Moneybird contacts by id, batched into synchronization calls of up to 100 ids."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol, TypeVar

from aiodataloader import DataLoader

from gateway.ids import upstream_key
from gateway.loaders.detached import DetachedLoader, detached
from gateway.upstream.moneybird import SYNCHRONIZATION_BATCH_SIZE, ContactPage

Contact = dict[str, Any]
T = TypeVar("T")


def contact_key(contact: Contact) -> str | None:
    """The loader key of an upstream contact: its id as canonical digits."""
    return upstream_key(contact.get("id"))


class ContactSource(Protocol):
    """Where a request reads Moneybird contacts: Moneybird itself (`MoneybirdClient`)
    or the administration's mirror (`gateway.mirror.mirrors.MirrorSession`); both
    answer as Moneybird's endpoints do."""

    async def contacts_by_ids(self, ids: list[str]) -> list[Contact]: ...

    async def contact_by_customer_id(self, customer_id: str) -> Contact | None: ...

    async def contact_versions(self, *, include_archived: bool | None) -> list[Contact]: ...

    async def list_window(
        self,
        *,
        offset: int,
        size: int,
        query: str | None,
        filter_terms: Sequence[tuple[str, str]],
        include_archived: bool | None,
    ) -> ContactPage: ...


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


async def _in_turn(futures: list[asyncio.Future[Contact | None]]) -> list[Contact | None]:
    try:
        return [await future for future in futures]
    except BaseException:
        # A failed batch fails all its keys; the ones not awaited are retrieved
        # here, as gather would, rather than logged as never retrieved.
        for future in futures:
            future.add_done_callback(_retrieve)
        raise


class ContactByIdLoader(DetachedLoader[str, Contact | None]):
    """Keys are canonical Moneybird ids (see `gateway.ids.moneybird_id`).

    aiodataloader splits a tick's keys into batches of `max_batch_size` and
    dispatches them concurrently, so 250 ids cost 3 calls in flight together.

    Sibling fields of one query resolve concurrently, so a `contacts` page and a
    `contact(id:)` beside it start together. A batch therefore first waits for
    the listings in flight (`while_listing`) and asks the upstream only for the
    ids they did not bring: Moneybird allows 150 requests per 5 minutes.
    """

    max_batch_size = SYNCHRONIZATION_BATCH_SIZE

    def __init__(self, source: Callable[[], Awaitable[ContactSource]]) -> None:
        super().__init__()
        self._source = source
        self._listed: dict[str, Contact] = {}
        self._listings: set[asyncio.Future[Any]] = set()

    async def batch_load_fn(self, keys: list[str]) -> list[Contact | None]:
        if self._listings:
            await asyncio.wait(self._listings)
        missing = [key for key in keys if key not in self._listed]
        fetched: dict[str | None, Contact] = {}
        if missing:
            contacts = await (await self._source()).contacts_by_ids(missing)
            fetched = {contact_key(contact): contact for contact in contacts}
        return [self._listed.get(key) or fetched.get(key) for key in keys]

    async def load_all(self, keys: list[str]) -> list[Contact | None]:
        """`load_many` without `asyncio.gather`: a batch settles all its keys at once,
        so after the first wait the rest are ready, and gathering a hundred futures
        would cost about as much again as loading them."""
        futures = [DataLoader.load(self, key) for key in keys]
        if all(future.done() for future in futures):
            return await _in_turn(futures)
        # The keys' futures, which other fields may share, are awaited in a task of
        # their own, and the caller awaits a detached future of that task: its
        # cancellation reaches neither (gateway.loaders.detached). One detached
        # future for all the keys, not one each: they cost more than the loading.
        return await detached(asyncio.ensure_future(_in_turn(futures)))

    async def while_listing(
        self, listing: Awaitable[T], contacts_of: Callable[[T], list[Contact]]
    ) -> T:
        """Run a call that returns contacts and prime them; batches started meanwhile
        wait for it, and see its contacts, before they call the upstream."""

        async def list_and_prime() -> T:
            result = await listing
            self.prime_many(contacts_of(result))
            return result

        future = asyncio.ensure_future(list_and_prime())
        # A field cancelled before its listing started (a sibling failed first)
        # leaves the call unstarted: close it rather than leave it unawaited.
        if isinstance(listing, Coroutine):
            future.add_done_callback(lambda _: listing.close())
        self._listings.add(future)
        try:
            return await future
        finally:
            self._listings.discard(future)

    def forget(self, key: str) -> None:
        """Drop what this request knows of a contact, so the next read asks the upstream."""
        self._listed.pop(key, None)
        self.clear(key)

    def gone(self, key: str) -> None:
        """The contact was deleted: later reads in this request see null without a call."""
        self._listed.pop(key, None)
        self.clear(key).prime(key, None)

    def prime_many(self, contacts: list[Contact]) -> None:
        """Remember contacts another call already returned, so asking again is free."""
        for contact in contacts:
            key = contact_key(contact)
            if key is not None:
                self._listed[key] = contact
                self.clear(key).prime(key, contact)

"""The mirrors of the administrations this gateway serves, and how a request uses one.

A request reads an administration's mirror through a `MirrorSession`, which
answers the contact reads a `MoneybirdClient` answers, from memory. Opening
one is where the mirror's rules hold:

- Authorization: a token is trusted for an administration only while Moneybird
  accepted it there within the token TTL. A token not yet trusted pays one call,
  the versions list, which both proves it and refreshes the mirror. A 401
  forgets the token at once. Tokens are held only as salted hashes.
- Freshness: a mirror older than the staleness setting is brought up to date
  before it answers: one versions call, then the changed contacts, 100 a call.
  The first use of an administration builds its mirror the same way, from
  nothing. Syncs of one administration run one at a time.
- Budget: when the token's Moneybird budget has no call left for a sync, a
  mirror that has answered before still answers, with its age; one that never
  synced cannot, and the request gets RATE_LIMITED.

Every change (a sync, a write's answer, a webhook) goes through the feed
(`gateway.mirror.feed`) and is applied from there, so every process of the
gateway sees the same changes.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.errors import RateLimited, UpstreamUnauthorized
from gateway.ids import upstream_key as _key
from gateway.mirror.contacts import AdministrationContacts, Contact, version_in
from gateway.mirror.feed import Change, Feed
from gateway.observability.metrics import MIRROR_ADMINISTRATIONS, MIRROR_CONTACTS
from gateway.state import KeyHasher, State
from gateway.upstream.budget import CallBudget
from gateway.upstream.moneybird import SYNCHRONIZATION_BATCH_SIZE, ContactPage, MoneybirdClient

if TYPE_CHECKING:
    from gateway.mirror.webhooks import Webhooks

logger = logging.getLogger("gateway.mirror")

# How long one process may hold an administration's sync before another takes it
# over, and how often a waiting process looks for the sync's result.
_SYNC_LEASE = 10.0
_SYNC_POLL = 0.02


@dataclass
class _Administration:
    contacts: AdministrationContacts = field(default_factory=AdministrationContacts)
    # How far this process has applied the administration's feed.
    position: int = 0
    # Wall-clock time at which the mirror last matched Moneybird; None before the first sync.
    synced_at: float | None = None
    sync_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Mirrors:
    def __init__(
        self,
        state: State,
        hasher: KeyHasher,
        *,
        max_staleness: float,
        token_ttl: float,
        max_contacts: int,
        budget: CallBudget | None = None,
    ) -> None:
        self._state = state
        self._budget = budget
        self._feed = Feed(state)
        self._hasher = hasher
        self._max_staleness = max_staleness
        self._token_ttl = token_ttl
        self._max_contacts = max_contacts
        # Names this process among the gateway's processes, as the owner of leases.
        self._owner = secrets.token_hex(8)
        # Least recently used first: those leave first when the mirrors grow too big.
        self._administrations: OrderedDict[str, _Administration] = OrderedDict()
        # Set when Moneybird can reach this gateway to push changes.
        self.webhooks: Webhooks | None = None

    async def session(
        self, client: MoneybirdClient, *, token: str, administration: str
    ) -> MirrorSession:
        """The mirror of `administration`, for a request that holds `token`."""
        entry = self._entry(administration)
        await self._catch_up(administration, entry)
        acceptance = self._hasher.key("mirror-accepted", token, administration)
        if not await self._trusted(acceptance) or self._stale(entry):
            try:
                async with entry.sync_lock:
                    await self._sync_if_needed(client, token, administration, entry, acceptance)
            except BaseException:
                self._forget_if_empty(administration, entry)
                raise
        if self.webhooks is not None:
            self.webhooks.ensure_registered(client, administration)
        return MirrorSession(entry.contacts, entry.synced_at or 0.0)

    async def record(self, administration: str, contact: Contact) -> None:
        """A contact as Moneybird returned it after a write, or as a webhook brought it."""
        key = _key(contact.get("id"))
        if key is None:
            return
        await self._feed.publish(administration, [Change(key, contact)])
        entry = self._administrations.get(administration)
        if entry is not None:
            await self._catch_up(administration, entry)

    async def record_deleted(self, administration: str, key: str, *, at: int) -> None:
        await self._feed.publish(administration, [Change(key, deleted_at=at)])
        entry = self._administrations.get(administration)
        if entry is not None:
            await self._catch_up(administration, entry)

    def _entry(self, administration: str) -> _Administration:
        entry = self._administrations.get(administration)
        if entry is None:
            entry = self._administrations[administration] = _Administration()
            self._held_changed()
        self._administrations.move_to_end(administration)
        return entry

    def _forget_if_empty(self, administration: str, entry: _Administration) -> None:
        """An administration whose first sync failed leaves again, so that requests
        naming administrations (or holding tokens) Moneybird refuses add nothing."""
        if (
            entry.synced_at is None
            and not len(entry.contacts)
            and self._administrations.get(administration) is entry
        ):
            del self._administrations[administration]
            self._held_changed()

    def _stale(self, entry: _Administration) -> bool:
        return entry.synced_at is None or time.time() - entry.synced_at > self._max_staleness

    async def _trusted(self, acceptance: str) -> bool:
        """Whether Moneybird accepted the token for the administration within the TTL,
        as any process of the gateway saw it."""
        accepted = await self._state.get(acceptance)
        return accepted is not None and time.time() - float(accepted) < self._token_ttl

    async def _sync_if_needed(
        self,
        client: MoneybirdClient,
        token: str,
        administration: str,
        entry: _Administration,
        acceptance: str,
    ) -> None:
        """Sync when the token is not trusted yet (only a call with it proves it) or
        the mirror is stale. One process of the gateway syncs an administration at a
        time: the others wait for its changes to reach them through the feed, so
        that a build is made once and a token that still needs proving pays only
        the versions call. A stale mirror whose token has no call left in its
        budget answers as it is, with its age, rather than have the client wait."""
        if (
            self._budget is not None
            and entry.synced_at is not None
            and await self._trusted(acceptance)
            and await self._budget.remaining(token, from_reserve=True) == 0
        ):
            return
        lease = f"mirror:{administration}:sync"
        waited_from = time.monotonic()
        while not await self._state.try_lease(lease, self._owner, _SYNC_LEASE):
            if time.monotonic() - waited_from > _SYNC_LEASE:
                break  # the process that held it is gone: its lease runs out anyway
            await asyncio.sleep(_SYNC_POLL)
        try:
            await self._catch_up(administration, entry)
            trusted = await self._trusted(acceptance)
            if not trusted or self._stale(entry):
                await self._sync_with(client, administration, entry, acceptance, trusted)
        finally:
            await self._state.release_lease(lease, self._owner)

    async def _sync_with(
        self,
        client: MoneybirdClient,
        administration: str,
        entry: _Administration,
        acceptance: str,
        trusted: bool,
    ) -> None:
        try:
            await self._sync(administration, entry, client.for_sync())
        except UpstreamUnauthorized:
            await self._state.put(acceptance, None)
            raise
        except RateLimited:
            # No call left for this token: an answer with its age beats none, but
            # only for a token Moneybird accepted and a mirror that synced before.
            if not trusted or entry.synced_at is None:
                raise
            logger.info("serving the mirror of an administration unsynced for want of budget")
            return
        await self._state.put(acceptance, repr(time.time()).encode(), ttl=self._token_ttl)

    async def _sync(
        self, administration: str, entry: _Administration, client: MoneybirdClient
    ) -> None:
        """Bring the mirror up to date: the versions list, then what changed.

        The contacts that arrive are kept even when some batches fail (a budget
        spent halfway through the build of a large administration): the next
        sync asks only for the rest, so a build larger than one window's budget
        completes over several windows. The mirror counts as synced only when
        every batch arrived."""
        started = time.time()
        versions = await client.contact_versions(include_archived=True)
        listed: dict[str, int] = {}
        for row in versions:
            key = _key(row.get("id"))
            version = version_in(row)
            if key is not None and version is not None:
                listed[key] = version
        held = entry.contacts
        wanted = [key for key, version in listed.items() if held.version_of(key) != version]
        changes: list[Change] = []
        failure: BaseException | None = None
        for batch in await asyncio.gather(
            *(
                client.contacts_by_ids(wanted[start : start + SYNCHRONIZATION_BATCH_SIZE])
                for start in range(0, len(wanted), SYNCHRONIZATION_BATCH_SIZE)
            ),
            return_exceptions=True,
        ):
            if isinstance(batch, BaseException):
                failure = failure or batch
                continue
            changes += [
                Change(key, contact) for contact in batch if (key := _key(contact.get("id")))
            ]
        if failure is None:
            for key in held.ids() - listed.keys():
                version = held.version_of(key)
                # Created after the list was taken: not gone, just not listed yet.
                if version is not None and version < started:
                    changes.append(Change(key, deleted_at=int(started)))
        await self._feed.publish(
            administration, changes, synced_at=started if failure is None else None
        )
        await self._catch_up(administration, entry)
        if failure is not None:
            raise failure

    async def _catch_up(self, administration: str, entry: _Administration) -> None:
        position, changes, synced_at = await self._feed.read(administration, entry.position)
        for change in changes:
            if change.contact is not None:
                entry.contacts.apply(change.contact)
            else:
                entry.contacts.remove(change.key, at=change.deleted_at)
        entry.position = position
        if synced_at is not None and (entry.synced_at is None or synced_at > entry.synced_at):
            entry.synced_at = synced_at
        if changes:
            self._held_changed()

    def _held_changed(self) -> None:
        """Least recently used administrations leave until the contacts held fit (the
        one in use last stays, whatever its size); the gauges say what is held."""
        total = sum(len(entry.contacts) for entry in self._administrations.values())
        while total > self._max_contacts and len(self._administrations) > 1:
            _, entry = self._administrations.popitem(last=False)
            total -= len(entry.contacts)
        MIRROR_ADMINISTRATIONS.set(len(self._administrations))
        MIRROR_CONTACTS.set(total)


class MirrorSession:
    """An administration's contacts for one request, answered as Moneybird answers."""

    def __init__(self, contacts: AdministrationContacts, synced_at: float) -> None:
        self._contacts = contacts
        self.synced_at = synced_at

    async def contacts_by_ids(self, ids: list[str]) -> list[Contact]:
        found = (self._contacts.get(key) for key in ids)
        return [contact for contact in found if contact is not None]

    async def contact_by_customer_id(self, customer_id: str) -> Contact | None:
        return self._contacts.by_customer_id(customer_id)

    async def contact_versions(self, *, include_archived: bool | None) -> list[dict[str, Any]]:
        return self._contacts.versions(include_archived=bool(include_archived))

    async def list_window(
        self,
        *,
        offset: int,
        size: int,
        query: str | None,
        filter_terms: Sequence[tuple[str, str]],
        include_archived: bool | None,
    ) -> ContactPage:
        window = self._contacts.window(
            offset=offset,
            size=size,
            query=query,
            filter_terms=filter_terms,
            include_archived=include_archived,
        )
        return ContactPage(window.contacts, window.has_next_page)

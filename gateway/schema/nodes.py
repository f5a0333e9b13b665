"""`node(id:)` and `nodes(ids:)`: any object by its global id (Relay's Global
Object Identification), read the way every other field reads it.

A global id names the type and the keys that find the object (`gateway.ids`):
a contact comes through the contact loader (one synchronization call per 100
ids, or the mirror), a counterpart through the counterpart loader (`id__in`, 100
a call), a note or a contact person through its contact, a counterpart contact
through its counterpart's contact list. `nodes` asks for all of its ids before
it waits for any, so that they share those calls; each id fails on its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry

from gateway.context import RequestContext
from gateway.errors import BadUserInput, UpstreamNotFound
from gateway.ids import parse_global_id
from gateway.schema.arguments import check_id_count
from gateway.schema.contacts.types import Contact, ContactPerson, Note
from gateway.schema.counterparts.types import Counterpart, find_contact
from gateway.schema.relay import Node, with_parent
from gateway.schema.views import view

Info = strawberry.Info[RequestContext, None]
Raw = dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Lookup:
    """One id's load, started, and what makes its object of the loaded value."""

    loading: Awaitable[Any]
    finish: Callable[[Any], Node | None]

    async def result(self) -> Node | None:
        return self.finish(await self.loading)


def _embedded(cls: type, key: str, wanted: str, parent_key: str) -> Callable[[Any], Node | None]:
    """The object of `cls` with the Moneybird id `wanted` among those a contact embeds
    under `key`; None when the contact or the object is gone."""

    def find(contact: Raw | None) -> Node | None:
        items = None if contact is None else contact.get(key)
        if contact is None or not isinstance(items, list):
            return None
        for item in items:
            if isinstance(item, dict) and str(item.get("id")) == wanted:
                found: Node = view(cls, with_parent(item, parent_key, contact.get("id")))
                return found
        return None

    return find


def _start(info: Info, value: object, argument: str) -> _Lookup:
    """Start loading the object `value` names; BadUserInput for an id that is not
    a global id this gateway gives."""
    parsed = parse_global_id(value)
    if parsed is None:
        raise BadUserInput(
            f"`{argument}` must be an object's `id` (a global id); use the fields that "
            "take a Moneybird or Monite id for those.",
            argument=argument,
        )
    type_name, keys = parsed
    context = info.context
    if type_name == "Contact":
        return _Lookup(
            context.contact_by_id.load(keys[0]),
            lambda raw: None if raw is None else view(Contact, raw),
        )
    if type_name == "Note":
        return _Lookup(
            context.contact_by_id.load(keys[0]), _embedded(Note, "notes", keys[1], "entity_id")
        )
    if type_name == "ContactPerson":
        return _Lookup(
            context.contact_by_id.load(keys[0]),
            _embedded(ContactPerson, "contact_people", keys[1], "contact_id"),
        )
    if type_name == "Counterpart":
        return _Lookup(
            context.counterpart_by_id.load(keys[0]),
            lambda raw: None if raw is None else view(Counterpart, raw),
        )
    counterpart_key, contact_key = keys

    def find(raws: list[Raw] | None) -> Node | None:
        return None if raws is None else find_contact(raws, contact_key, counterpart_key)

    return _Lookup(_contacts_of(info, counterpart_key), find)


async def _contacts_of(info: Info, counterpart_key: str) -> list[Raw] | None:
    """A counterpart's contacts; None when Monite no longer has the counterpart."""
    try:
        return await info.context.contacts_by_counterpart.load(counterpart_key)
    except UpstreamNotFound:
        return None


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description=(
            "Any object by its global id (`id`), as Relay refetches it; null when it no "
            "longer exists."
        )
    )
    async def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The object's `id`, a global id.")
        ],
    ) -> Node | None:
        return await _start(info, id, "id").result()

    @strawberry.field(
        description=(
            "Objects by their global ids (`id`), of any types mixed, in the order asked; "
            "null where one no longer exists, or where reading it failed (with that "
            "error): one upstream failing leaves the others' objects. Batched as the "
            "other reads are. At most GATEWAY_MAX_IDS ids (1000 unless configured)."
        )
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="The objects' `id`s, global ids."),
        ],
    ) -> list[Node | None]:
        check_id_count(ids, info.context.services.settings.max_ids)
        # An id's failure is an item of the list, where graphql-core makes it the
        # error of that item alone.
        lookups: list[_Lookup | Exception] = []
        for value in ids:
            try:
                lookups.append(_start(info, value, "ids"))
            except Exception as error:
                lookups.append(error)
        # Every load is asked for before any is awaited: they share their calls.
        results: list[Node | Exception | None] = []
        for lookup in lookups:
            if isinstance(lookup, Exception):
                results.append(lookup)
                continue
            try:
                results.append(await lookup.result())
            except Exception as error:
                results.append(error)
        return results  # type: ignore[return-value]  # exceptions are items: see above

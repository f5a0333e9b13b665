"""Monite counterparts and their contacts as GraphQL types.

Related objects resolve through the request's loaders: `contacts` and
`defaultContact` share one call per counterpart, `CounterpartContact.counterpart`
is batched across all contacts of the response.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from gateway.context import RequestContext
from gateway.ids import monite_key
from gateway.schema import reader
from gateway.schema.relay import Node, PageInfo, node_id, with_parent
from gateway.schema.views import upstream_type, view

Info = strawberry.Info[RequestContext, None]


@strawberry.enum(description="Organization or individual; UNKNOWN for a type Monite adds later.")
class CounterpartType(Enum):
    ORGANIZATION = "organization"
    INDIVIDUAL = "individual"
    UNKNOWN = "__unknown__"


@upstream_type("Monite")
@strawberry.type(description="A postal address of a counterpart contact.")
class CounterpartAddress:
    line1: str | None
    line2: str | None
    city: str | None
    postal_code: str | None
    state: str | None
    country: str | None = strawberry.field(description="ISO 3166 two-letter code.")


@upstream_type("Monite")
@strawberry.type(description="Details of a counterpart that is an organization.")
class CounterpartOrganization:
    legal_name: str | None
    email: str | None
    phone: str | None
    is_customer: bool | None
    is_vendor: bool | None


@upstream_type("Monite")
@strawberry.type(description="Details of a counterpart that is a person.")
class CounterpartIndividual:
    first_name: str | None
    last_name: str | None
    title: str | None
    email: str | None
    phone: str | None
    is_customer: bool | None
    is_vendor: bool | None


_MONITE_ID = "The {} id in Monite (a UUID), as Monite shows it."


@upstream_type(
    "Monite",
    keys={"monite_id": "id"},
    readers={"id": node_id("CounterpartContact", "counterpart_id", "id", key_of=monite_key)},
)
@strawberry.type(description="A person to reach at a counterpart.")
class CounterpartContact(Node):
    monite_id: strawberry.ID = strawberry.field(
        description=_MONITE_ID.format("contact's")
        + " The counterpart contact mutations take it too."
    )
    counterpart_id: strawberry.ID = strawberry.field(
        description="The Monite id of the contact's counterpart."
    )
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    title: str | None = strawberry.field(description="e.g. Mr., Ms., Dr., Prof.")
    is_default: bool = strawberry.field(description="At most one contact per counterpart is.")
    address: CounterpartAddress | None

    @strawberry.field(
        description=(
            "The counterpart; batched across all contacts in a response. Null when "
            "Monite no longer has it."
        )
    )
    async def counterpart(self, info: Info) -> Counterpart | None:
        raw = await info.context.counterpart_by_id.load(str(self.counterpart_id).lower())
        return None if raw is None else view(Counterpart, raw)


def _organization_raw(raw: dict[str, Any]) -> dict[str, Any] | None:
    organization = raw.get("organization")
    return organization if isinstance(organization, dict) else None


def _individual_raw(raw: dict[str, Any]) -> dict[str, Any] | None:
    individual = raw.get("individual")
    return individual if isinstance(individual, dict) else None


def _details(raw: dict[str, Any]) -> dict[str, Any]:
    """The organization's or the individual's fields: Monite nests them by type."""
    return _organization_raw(raw) or _individual_raw(raw) or {}


def _name(raw: dict[str, Any]) -> str:
    organization = _organization_raw(raw)
    if organization is not None:
        return reader.text(organization, "legal_name") or ""
    details = _details(raw)
    return " ".join(
        part
        for part in (reader.text(details, "first_name"), reader.text(details, "last_name"))
        if part
    )


def _from_details(
    read: Callable[[dict[str, Any], str], Any], key: str
) -> Callable[[dict[str, Any]], Any]:
    return lambda raw: read(_details(raw), key)


@upstream_type(
    "Monite",
    keys={"monite_id": "id"},
    readers={
        "id": node_id("Counterpart", "id", key_of=monite_key),
        "name": _name,
        "is_customer": _from_details(reader.boolean, "is_customer"),
        "is_vendor": _from_details(reader.boolean, "is_vendor"),
        "email": _from_details(reader.text, "email"),
        "phone": _from_details(reader.text, "phone"),
    },
)
@strawberry.type(description="A Monite counterpart: a customer or vendor of the entity.")
class Counterpart(Node):
    monite_id: strawberry.ID = strawberry.field(
        description=_MONITE_ID.format("counterpart's")
        + " Every argument that takes a counterpart's `id` takes this too."
    )
    type: CounterpartType | None
    name: str = strawberry.field(description="Legal name, else first and last name.")
    is_customer: bool | None
    is_vendor: bool | None
    email: str | None
    phone: str | None
    tax_id: str | None
    created_at: datetime | None
    updated_at: datetime | None
    organization: CounterpartOrganization | None
    individual: CounterpartIndividual | None

    @strawberry.field(description="All contacts of the counterpart (one call, shared).")
    async def contacts(self, info: Info) -> list[CounterpartContact]:
        key = str(self.monite_id).lower()
        raws = await info.context.contacts_by_counterpart.load(key)
        return [contact_view(raw, key) for raw in raws]

    @strawberry.field(description="The default contact; shares the call with `contacts`.")
    async def default_contact(self, info: Info) -> CounterpartContact | None:
        key = str(self.monite_id).lower()
        raws = await info.context.contacts_by_counterpart.load(key)
        default = next((raw for raw in raws if raw.get("is_default") is True), None)
        return None if default is None else contact_view(default, key)


def contact_view(raw: dict[str, Any], counterpart_key: str) -> CounterpartContact:
    """A counterpart contact of the counterpart `counterpart_key` as its type; its
    global id carries the counterpart's, given from the list it came in when
    Monite left it out."""
    return view(CounterpartContact, with_parent(raw, "counterpart_id", counterpart_key))


def find_contact(
    raws: list[dict[str, Any]], contact_key: str, counterpart_key: str
) -> CounterpartContact | None:
    """The contact `contact_key` among the contacts of the counterpart `counterpart_key`."""
    for raw in raws:
        if monite_key(raw.get("id")) == contact_key:
            return contact_view(raw, counterpart_key)
    return None


@strawberry.type
class CounterpartEdge:
    cursor: str
    node: Counterpart


@strawberry.type(description="A page of counterparts (Relay connection over Monite's tokens).")
class CounterpartConnection:
    edges: list[CounterpartEdge]
    page_info: PageInfo

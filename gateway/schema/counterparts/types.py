"""Monite counterparts and their contacts as GraphQL types.

Related objects resolve through the request's loaders: `contacts` and
`defaultContact` share one call per counterpart, `CounterpartContact.counterpart`
is batched across all contacts of the response.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from gateway.context import RequestContext
from gateway.errors import UpstreamNotFound
from gateway.schema import reader
from gateway.schema.relay import PageInfo

Info = strawberry.Info[RequestContext, None]


@strawberry.enum(description="Organization or individual; UNKNOWN for a type Monite adds later.")
class CounterpartType(Enum):
    ORGANIZATION = "organization"
    INDIVIDUAL = "individual"
    UNKNOWN = "__unknown__"


@strawberry.type(description="A postal address of a counterpart contact.")
class CounterpartAddress:
    line1: str | None
    line2: str | None
    city: str | None
    postal_code: str | None
    state: str | None
    country: str | None = strawberry.field(description="ISO 3166 two-letter code.")

    @classmethod
    def from_upstream(cls, raw: dict[str, Any]) -> CounterpartAddress:
        return cls(
            line1=reader.text(raw, "line1"),
            line2=reader.text(raw, "line2"),
            city=reader.text(raw, "city"),
            postal_code=reader.text(raw, "postal_code"),
            state=reader.text(raw, "state"),
            country=reader.text(raw, "country"),
        )


@strawberry.type(description="Details of a counterpart that is an organization.")
class CounterpartOrganization:
    legal_name: str | None
    email: str | None
    phone: str | None
    is_customer: bool | None
    is_vendor: bool | None


@strawberry.type(description="Details of a counterpart that is a person.")
class CounterpartIndividual:
    first_name: str | None
    last_name: str | None
    title: str | None
    email: str | None
    phone: str | None
    is_customer: bool | None
    is_vendor: bool | None


@strawberry.type(description="A person to reach at a counterpart.")
class CounterpartContact:
    id: strawberry.ID
    counterpart_id: strawberry.ID
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    title: str | None = strawberry.field(description="e.g. Mr., Ms., Dr., Prof.")
    is_default: bool = strawberry.field(description="At most one contact per counterpart is.")
    address: CounterpartAddress | None

    @classmethod
    def from_upstream(cls, raw: dict[str, Any]) -> CounterpartContact:
        address = raw.get("address")
        return cls(
            id=strawberry.ID(reader.text(raw, "id") or ""),
            counterpart_id=strawberry.ID(reader.text(raw, "counterpart_id") or ""),
            first_name=reader.text(raw, "first_name"),
            last_name=reader.text(raw, "last_name"),
            email=reader.text(raw, "email"),
            phone=reader.text(raw, "phone"),
            title=reader.text(raw, "title"),
            is_default=bool(reader.boolean(raw, "is_default")),
            address=CounterpartAddress.from_upstream(address)
            if isinstance(address, dict)
            else None,
        )

    @strawberry.field(description="The counterpart; batched across all contacts in a response.")
    async def counterpart(self, info: Info) -> Counterpart:
        raw = await info.context.counterpart_by_id.load(str(self.counterpart_id).lower())
        if raw is None:
            raise UpstreamNotFound(
                "Monite no longer has this contact's counterpart.",
                upstream="Monite",
                status=404,
                body=None,
            )
        return Counterpart.from_upstream(raw)


@strawberry.type(description="A Monite counterpart: a customer or vendor of the entity.")
class Counterpart:
    id: strawberry.ID
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

    @classmethod
    def from_upstream(cls, raw: dict[str, Any]) -> Counterpart:
        organization = (
            raw.get("organization") if isinstance(raw.get("organization"), dict) else None
        )
        individual = raw.get("individual") if isinstance(raw.get("individual"), dict) else None
        details: dict[str, Any] = organization or individual or {}
        if organization is not None:
            name = reader.text(organization, "legal_name") or ""
        else:
            name = " ".join(
                part
                for part in (reader.text(details, "first_name"), reader.text(details, "last_name"))
                if part
            )
        return cls(
            id=strawberry.ID(reader.text(raw, "id") or ""),
            type=reader.enum_member(CounterpartType, raw, "type", CounterpartType.UNKNOWN),
            name=name,
            is_customer=reader.boolean(details, "is_customer"),
            is_vendor=reader.boolean(details, "is_vendor"),
            email=reader.text(details, "email"),
            phone=reader.text(details, "phone"),
            tax_id=reader.text(raw, "tax_id"),
            created_at=reader.timestamp(raw, "created_at"),
            updated_at=reader.timestamp(raw, "updated_at"),
            organization=None
            if organization is None
            else CounterpartOrganization(
                legal_name=reader.text(organization, "legal_name"),
                email=reader.text(organization, "email"),
                phone=reader.text(organization, "phone"),
                is_customer=reader.boolean(organization, "is_customer"),
                is_vendor=reader.boolean(organization, "is_vendor"),
            ),
            individual=None
            if individual is None
            else CounterpartIndividual(
                first_name=reader.text(individual, "first_name"),
                last_name=reader.text(individual, "last_name"),
                title=reader.text(individual, "title"),
                email=reader.text(individual, "email"),
                phone=reader.text(individual, "phone"),
                is_customer=reader.boolean(individual, "is_customer"),
                is_vendor=reader.boolean(individual, "is_vendor"),
            ),
        )

    @strawberry.field(description="All contacts of the counterpart (one call, shared).")
    async def contacts(self, info: Info) -> list[CounterpartContact]:
        raws = await info.context.contacts_by_counterpart.load(str(self.id).lower())
        return [CounterpartContact.from_upstream(raw) for raw in raws]

    @strawberry.field(description="The default contact; shares the call with `contacts`.")
    async def default_contact(self, info: Info) -> CounterpartContact | None:
        raws = await info.context.contacts_by_counterpart.load(str(self.id).lower())
        default = next((raw for raw in raws if raw.get("is_default") is True), None)
        return None if default is None else CounterpartContact.from_upstream(default)


@strawberry.type
class CounterpartEdge:
    cursor: str
    node: Counterpart


@strawberry.type(description="A page of counterparts (Relay connection over Monite's tokens).")
class CounterpartConnection:
    edges: list[CounterpartEdge]
    page_info: PageInfo

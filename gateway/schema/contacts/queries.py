"""Read fields for Moneybird contacts."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import strawberry

from gateway.context import RequestContext
from gateway.errors import BadUserInput
from gateway.ids import global_id, moneybird_id, read_contact_id
from gateway.loaders.contacts import contact_key
from gateway.schema.arguments import ContactId, ContactIds, check_id_count
from gateway.schema.contacts.types import Contact, ContactConnection, ContactEdge, ContactVersion
from gateway.schema.relay import (
    MAX_PAGE_SIZE,
    PageInfo,
    check_page_size,
    decode_cursor,
    encode_cursor,
    not_a_cursor,
)
from gateway.schema.scalars import BigInt
from gateway.schema.views import view

Info = strawberry.Info[RequestContext, None]

DEFAULT_PAGE_SIZE = 25
_CURSOR_KIND = "contact"


@strawberry.enum(description="Company or private person.")
class ContactType(Enum):
    ALL = "all"
    COMPANY = "company"
    PRIVATE_INDIVIDUAL = "private_individual"


@strawberry.enum(description="Delivery methods to filter on.")
class DeliveryMethodFilter(Enum):
    ALL = "all"
    EMAIL = "email"
    POST = "post"
    MANUAL = "manual"
    PEPPOL = "peppol"
    SIMPLERINVOICING = "simplerinvoicing"


@strawberry.enum(description="Whether the contact is trusted for payments.")
class TrustedType(Enum):
    ALL = "all"
    TRUSTED = "trusted"
    NOT_TRUSTED = "not_trusted"


@strawberry.input(
    description=(
        "Moneybird's contact filter (contacts/filter.json). Text values may not "
        "contain commas: Moneybird's filter syntax has no way to escape them."
    )
)
class ContactFilter:
    created_after: datetime | None = None
    updated_after: datetime | None = None
    first_name: str | None = strawberry.field(default=None, description="Case-insensitive.")
    last_name: str | None = strawberry.field(default=None, description="Case-insensitive.")
    contact_type: ContactType | None = None
    delivery_method: DeliveryMethodFilter | None = None
    trusted_type: TrustedType | None = None
    invoice_workflow_id: strawberry.ID | None = None
    estimate_workflow_id: strawberry.ID | None = None


def filter_terms(contact_filter: ContactFilter) -> list[tuple[str, str]]:
    """The terms of Moneybird's filter parameter."""
    terms: list[tuple[str, str]] = []

    def moment(value: datetime) -> str:
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")

    if contact_filter.created_after is not None:
        terms.append(("created_after", moment(contact_filter.created_after)))
    if contact_filter.updated_after is not None:
        terms.append(("updated_after", moment(contact_filter.updated_after)))
    for key, text, argument in (
        ("first_name", contact_filter.first_name, "filter.firstName"),
        ("last_name", contact_filter.last_name, "filter.lastName"),
    ):
        if text is not None:
            if "," in text:
                raise BadUserInput(f"`{argument}` may not contain a comma.", argument=argument)
            terms.append((key, text))
    for key, member in (
        ("contact_type", contact_filter.contact_type),
        ("delivery_method", contact_filter.delivery_method),
        ("trusted_type", contact_filter.trusted_type),
    ):
        if member is not None:
            terms.append((key, member.value))
    for key, workflow, argument in (
        ("invoice_workflow_id", contact_filter.invoice_workflow_id, "filter.invoiceWorkflowId"),
        ("estimate_workflow_id", contact_filter.estimate_workflow_id, "filter.estimateWorkflowId"),
    ):
        if workflow is not None:
            terms.append((key, moneybird_id(workflow, argument=argument)))
    return terms


@strawberry.type
class ContactQueries:
    @strawberry.field(
        description=(
            "A contact by its `id` or its Moneybird id (`moneybirdId`); null when it "
            "does not exist."
        )
    )
    async def contact(self, info: Info, id: ContactId) -> Contact | None:
        key = read_contact_id(id)
        raw = await info.context.contact_by_id.load(key)
        return None if raw is None else view(Contact, raw)

    @strawberry.field(
        description="A contact by its customer id (unique per administration); null when none."
    )
    async def contact_by_customer_id(self, info: Info, customer_id: str) -> Contact | None:
        if not customer_id.strip():
            raise BadUserInput("`customerId` may not be empty.", argument="customerId")
        source = await info.context.contact_source()
        raw = await info.context.contact_by_id.while_listing(
            source.contact_by_customer_id(customer_id),
            contacts_of=lambda contact: [] if contact is None else [contact],
        )
        return None if raw is None else view(Contact, raw)

    @strawberry.field(
        description=(
            "Contacts by `id` or Moneybird id (`moneybirdId`), the two mixed as you "
            "like, in the order asked, null where one does not exist. At most "
            "GATEWAY_MAX_IDS ids (1000 unless configured); fetched 100 a call, "
            "concurrently. Null, with the error, when Moneybird fails: the rest of "
            "the answer stands."
        )
    )
    async def contacts_by_ids(self, info: Info, ids: ContactIds) -> list[Contact | None] | None:
        check_id_count(ids, info.context.services.settings.max_ids)
        keys = [read_contact_id(value, argument="ids") for value in ids]
        raws = await info.context.contact_by_id.load_all(keys)
        return [None if raw is None else view(Contact, raw) for raw in raws]

    @strawberry.field(
        description=(
            "Every contact's id and version (Moneybird's synchronization list): fetch "
            "only what changed with `contactsByIds`. Null, with the error, when "
            "Moneybird fails."
        )
    )
    async def contact_versions(
        self, info: Info, include_archived: bool | None = None
    ) -> list[ContactVersion] | None:
        source = await info.context.contact_source()
        rows = await source.contact_versions(include_archived=include_archived)
        versions = []
        for row in rows:
            key = contact_key(row)
            version = row.get("version")
            if key is not None and isinstance(version, int) and not isinstance(version, bool):
                versions.append(
                    ContactVersion(
                        contact_id=strawberry.ID(global_id("Contact", key)),
                        moneybird_id=strawberry.ID(key),
                        version=BigInt(version),
                    )
                )
        return versions

    @strawberry.field(
        description=(
            f"Contacts, a page at a time. `first` is 1 to {MAX_PAGE_SIZE} (default "
            f"{DEFAULT_PAGE_SIZE}). `query` searches names, address, email, phone, "
            "customer id, tax and bank numbers. With `filter` the list comes from "
            "Moneybird's filter endpoint. The contacts of the page are remembered for "
            "the rest of the request: asking for them by id again costs nothing. Each "
            "edge's cursor continues the list right after it. Null, with the error, "
            "when Moneybird fails."
        )
    )
    async def contacts(
        self,
        info: Info,
        query: str | None = None,
        filter: ContactFilter | None = None,
        include_archived: bool | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ContactConnection | None:
        size = check_page_size(first, default=DEFAULT_PAGE_SIZE)
        offset = 0
        if after is not None:
            position = decode_cursor(_CURSOR_KIND, after)
            if not position.isdigit():
                raise not_a_cursor()
            offset = int(position) + 1
        terms = filter_terms(filter) if filter is not None else []
        source = await info.context.contact_source()
        window = await info.context.contact_by_id.while_listing(
            source.list_window(
                offset=offset,
                size=size,
                query=query,
                filter_terms=terms,
                include_archived=include_archived,
            ),
            contacts_of=lambda page: page.contacts,
        )
        edges = [
            ContactEdge(
                cursor=encode_cursor(_CURSOR_KIND, str(offset + index)),
                node=view(Contact, raw),
            )
            for index, raw in enumerate(window.contacts)
        ]
        return ContactConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=window.has_next_page,
                has_previous_page=offset > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

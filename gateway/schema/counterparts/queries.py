"""Read fields for Monite counterparts and their contacts."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.context import RequestContext
from gateway.errors import UpstreamNotFound
from gateway.ids import read_child_id, read_counterpart_id
from gateway.schema.arguments import CounterpartContactId, CounterpartId
from gateway.schema.counterparts.types import (
    Counterpart,
    CounterpartConnection,
    CounterpartContact,
    CounterpartEdge,
    contact_view,
)
from gateway.schema.relay import PageInfo, check_page_size, decode_cursor, encode_cursor
from gateway.schema.views import view

Info = strawberry.Info[RequestContext, None]

DEFAULT_PAGE_SIZE = 20
_CURSOR_KIND = "counterparts"


@strawberry.type
class CounterpartQueries:
    @strawberry.field(
        description=(
            "A counterpart by its `id` or its Monite id (`moniteId`); null when it does not exist."
        )
    )
    async def counterpart(self, info: Info, id: CounterpartId) -> Counterpart | None:
        raw = await info.context.counterpart_by_id.load(read_counterpart_id(id))
        return None if raw is None else view(Counterpart, raw)

    @strawberry.field(
        description=(
            f"Counterparts, a page at a time: `first` 1 to 100 (default {DEFAULT_PAGE_SIZE}). "
            "The cursor wraps Monite's pagination token, which carries the filters of the "
            "first page: `name`, `isCustomer`, `isVendor` apply to the first page only. "
            "Null, with the error, when Monite fails: the rest of the answer stands."
        )
    )
    async def counterparts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        name: Annotated[
            str | None, strawberry.argument(description="Part of the name, case-insensitive.")
        ] = None,
        is_customer: bool | None = None,
        is_vendor: bool | None = None,
    ) -> CounterpartConnection | None:
        size = check_page_size(first, default=DEFAULT_PAGE_SIZE)
        token = decode_cursor(_CURSOR_KIND, after) if after is not None else None
        page = await info.context.monite.list_counterparts(
            limit=size,
            pagination_token=token,
            name=name,
            is_customer=is_customer,
            is_vendor=is_vendor,
        )
        info.context.counterpart_by_id.prime_many(page.counterparts)
        end_cursor = encode_cursor(_CURSOR_KIND, page.next_token) if page.next_token else None
        # Monite's tokens point at pages, not items: every edge of a page carries the
        # cursor of the page after it, so `after: <any edge's cursor>` continues the list.
        edges = [
            CounterpartEdge(cursor=end_cursor or "", node=view(Counterpart, raw))
            for raw in page.counterparts
        ]
        return CounterpartConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.next_token is not None,
                has_previous_page=after is not None,
                start_cursor=None,
                end_cursor=end_cursor,
            ),
        )

    @strawberry.field(
        description=(
            "One contact of a counterpart; null when it does not exist. Free when the "
            "counterpart's contacts were already loaded in this request."
        )
    )
    async def counterpart_contact(
        self, info: Info, counterpart_id: CounterpartId, id: CounterpartContactId
    ) -> CounterpartContact | None:
        counterpart_key = read_counterpart_id(counterpart_id, argument="counterpartId")
        contact_key = read_child_id(id, "CounterpartContact", counterpart_key, argument="id")
        try:
            raws = await info.context.contacts_by_counterpart.load(counterpart_key)
        except UpstreamNotFound:
            return None
        raw = next((c for c in raws if str(c.get("id", "")).lower() == contact_key), None)
        return None if raw is None else contact_view(raw, counterpart_key)

"""Read fields for Monite counterparts and their contacts."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.context import RequestContext
from gateway.errors import UpstreamNotFound
from gateway.ids import read_child_id, read_counterpart_id
from gateway.schema.arguments import CounterpartContactId, CounterpartId
from gateway.schema.counterparts.cursors import Place
from gateway.schema.counterparts.types import (
    Counterpart,
    CounterpartConnection,
    CounterpartContact,
    CounterpartEdge,
    find_contact,
)
from gateway.schema.relay import PageInfo, check_page_size
from gateway.schema.views import view
from gateway.upstream.monite import WINDOW_MAX_CALLS, CounterpartFilters

Info = strawberry.Info[RequestContext, None]

DEFAULT_PAGE_SIZE = 20


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
            "Each edge's cursor continues the list right after it. Cursors wrap Monite's "
            "pagination tokens, which carry the filters of the first page: with `after`, "
            "`name`, `isCustomer` and `isVendor` are those of the first page. Monite may "
            "keep the first page's size in its tokens: a page then holds fewer than "
            f"`first` counterparts when they spread over more than {WINDOW_MAX_CALLS} of "
            "Monite's pages, with `hasNextPage` true. Null, with the error, when Monite "
            "fails: the rest of the answer stands."
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
        if after is None:
            start = Place(None, 0, CounterpartFilters(name, is_customer, is_vendor))
        else:
            start = Place.of_cursor(after)
        context = info.context
        window = await context.monite.list_window(
            token=start.token, skip=start.skip, size=size, filters=start.filters
        )
        context.counterpart_by_id.prime_many(window.listed)
        edges = [
            CounterpartEdge(
                cursor=Place(token, skip, start.filters).cursor(), node=view(Counterpart, raw)
            )
            for raw, token, skip in window.items
        ]
        return CounterpartConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=window.has_next_page,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
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
        return find_contact(raws, contact_key, counterpart_key)

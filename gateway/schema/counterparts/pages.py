"""Counterparts a window at a time over Monite's pagination tokens, with a cursor
for every item.

Monite's tokens point at pages: a token gives the page after the one it came
with, and the first page has none (its filters are the request's). A cursor
names a place in the list as (the token of a page, how many of its items come
before the place), with the filters instead of a token on the first page. So
every edge's cursor continues the list right after that edge, wherever it sat
in its page, as Relay's cursors do: the window after it is read from that page
again, its first items skipped, then from the pages after it as long as fewer
than `first` items were read. The last item of a page that has a next page
gets the next page's token and nothing to skip: going on from the end of a
page, the usual way through a list, costs one call, as it did with page tokens.

Monite may keep the page size the first page was asked with in its tokens,
whatever `limit` comes with them: a window reads at most MAX_CALLS pages and
may hold fewer than `first` items, with `hasNextPage` true.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gateway.loaders.counterparts import CounterpartByIdLoader
from gateway.schema.relay import decode_cursor, encode_cursor, not_a_cursor
from gateway.upstream.monite import ID_IN_BATCH_SIZE, MoniteClient

CURSOR_KIND = "counterparts"
MAX_CALLS = 5
# Monite's pages hold at most this many items: no cursor skips more.
_MAX_SKIP = ID_IN_BATCH_SIZE


@dataclass(frozen=True, slots=True)
class Filters:
    """The filters of the first page; pages after it carry them in their tokens."""

    name: str | None
    is_customer: bool | None
    is_vendor: bool | None


@dataclass(frozen=True, slots=True)
class Place:
    """Where a window starts: `skip` items into the page of `token`, or into the
    first page (`token` None) with `filters`."""

    token: str | None
    skip: int
    filters: Filters

    def cursor(self) -> str:
        if self.token is not None:
            return encode_cursor(
                CURSOR_KIND, json.dumps([self.token, self.skip], separators=(",", ":"))
            )
        filters = self.filters
        payload = [None, self.skip, filters.name, filters.is_customer, filters.is_vendor]
        return encode_cursor(CURSOR_KIND, json.dumps(payload, separators=(",", ":")))

    @staticmethod
    def of_cursor(cursor: str) -> Place:
        """The place a cursor of this connection names, or BadUserInput."""
        text = decode_cursor(CURSOR_KIND, cursor)
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], str):
            token, skip = payload
            filters = Filters(None, None, None)
        elif isinstance(payload, list) and len(payload) == 5 and payload[0] is None:
            token, skip, name, is_customer, is_vendor = payload
            filters = Filters(name, is_customer, is_vendor)
            if not (
                (name is None or isinstance(name, str))
                and all(flag is None or isinstance(flag, bool) for flag in (is_customer, is_vendor))
            ):
                skip = None
        else:
            skip = None
        if not isinstance(skip, int) or isinstance(skip, bool) or not 0 <= skip <= _MAX_SKIP:
            raise not_a_cursor()
        return Place(token, skip, filters)


@dataclass(frozen=True, slots=True)
class Window:
    # Each counterpart with the cursor of the place right after it.
    items: list[tuple[dict[str, Any], str]]
    has_next_page: bool


async def read_window(
    client: MoniteClient, loader: CounterpartByIdLoader, start: Place, size: int
) -> Window:
    """Up to `size` counterparts from `start`, reading as few pages as that takes;
    each page read primes `loader`."""
    items: list[tuple[dict[str, Any], str]] = []
    token, skip, filters = start.token, start.skip, start.filters
    for _ in range(MAX_CALLS):
        wanted = size - len(items)
        page = await client.list_counterparts(
            # Where Monite takes the limit, one call holds what is skipped and the window.
            limit=min(skip + wanted, ID_IN_BATCH_SIZE),
            pagination_token=token,
            name=filters.name,
            is_customer=filters.is_customer,
            is_vendor=filters.is_vendor,
        )
        rows = page.counterparts
        loader.prime_many(rows)
        taken = rows[skip : skip + wanted]
        for offset, row in enumerate(taken, start=skip + 1):
            if offset == len(rows) and page.next_token is not None:
                after = Place(page.next_token, 0, filters)
            else:
                after = Place(token, offset, filters)
            items.append((row, after.cursor()))
        if len(rows) > skip + wanted:
            return Window(items, has_next_page=True)
        if page.next_token is None:
            return Window(items, has_next_page=False)
        if len(items) == size:
            return Window(items, has_next_page=True)
        token, skip = page.next_token, max(skip - len(rows), 0)
    return Window(items, has_next_page=True)

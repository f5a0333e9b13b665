"""The cursors of the counterparts connection: each names the place right after
its edge in Monite's list (`gateway.upstream.monite`), so that the list goes on
from any edge, as Relay's cursors do.

A place is (the token of a page, how many of its items come before it); on the
first page, which has no token, the filters stand instead of one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from gateway.schema.relay import decode_cursor, encode_cursor, not_a_cursor
from gateway.upstream.monite import ID_IN_BATCH_SIZE, CounterpartFilters

CURSOR_KIND = "counterparts"
# Monite's pages hold at most this many items: no cursor skips more.
_MAX_SKIP = ID_IN_BATCH_SIZE


@dataclass(frozen=True, slots=True)
class Place:
    """Where a window starts: `skip` items into the page of `token`, or into the
    first page (`token` None) with `filters`."""

    token: str | None
    skip: int
    filters: CounterpartFilters

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
            filters = CounterpartFilters()
        elif isinstance(payload, list) and len(payload) == 5 and payload[0] is None:
            token, skip, name, is_customer, is_vendor = payload
            filters = CounterpartFilters(name, is_customer, is_vendor)
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

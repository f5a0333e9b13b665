"""Monite's counterparts API (version 2024-01-31), as the gateway uses it.

One `MoniteClient` per GraphQL request, bound to that request's token and entity;
every call carries `x-monite-version` and `x-monite-entity-id`.

Monite pages its lists by token: a token gives the page after the one it came
with, and the first page has none (its filters are the request's). A place in
the list is (the token of a page, how many of its items come before the place),
so that a list can go on right after any item, wherever it sat in its page:
`list_window` reads that page again, its first items skipped, then the pages
after it as long as fewer than `size` items were read. The place after the last
item of a page that has a next page is that page's token with nothing to skip:
going on from the end of a page, the usual way through a list, costs one call.
Monite may keep the page size the first page was asked with in its tokens,
whatever `limit` comes with them: a window reads at most WINDOW_MAX_CALLS pages
and may hold fewer than `size` items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.upstream.http import (
    UpstreamHTTP,
    UpstreamRequest,
    expect_object,
    expect_objects,
    path_segment,
)

UPSTREAM = "Monite"
ID_IN_BATCH_SIZE = 100
WINDOW_MAX_CALLS = 5


def read_error_message(body: Any) -> str | None:
    """`{"error": {"message": ...}}`, or the first `msg` of a 422 `{"detail": [...]}`."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    detail = body.get("detail")
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return str(detail[0].get("msg", "")) or None
    if isinstance(detail, str):
        return detail
    return None


@dataclass(frozen=True, slots=True)
class CounterpartFilters:
    """The filters of a list's first page; the pages after it carry them in their tokens."""

    name: str | None = None
    is_customer: bool | None = None
    is_vendor: bool | None = None


@dataclass(frozen=True)
class CounterpartPage:
    counterparts: list[dict[str, Any]]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class CounterpartWindow:
    # Each counterpart with the place right after it: the token of a page (None:
    # the first page) and how many of that page's items come before the place.
    items: list[tuple[dict[str, Any], str | None, int]]
    has_next_page: bool
    # Every counterpart the pages held, those skipped and those past the window too.
    listed: list[dict[str, Any]]


class MoniteClient:
    def __init__(self, http: UpstreamHTTP, *, token: str, entity_id: str, version: str) -> None:
        self._http = http
        self._headers = {
            "authorization": f"Bearer {token}",
            "x-monite-version": version,
            "x-monite-entity-id": entity_id,
        }

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: Any = None,
    ) -> Any:
        request = UpstreamRequest(
            method, path, self._headers, is_write=method != "GET", params=params or (), json=body
        )
        return (await self._http.send(request)).body

    async def counterparts_by_ids(self, ids: list[str]) -> list[dict[str, Any]]:
        if len(ids) > ID_IN_BATCH_SIZE:
            raise ValueError("Monite lists at most 100 counterparts a call")
        params = [("id__in", counterpart_id) for counterpart_id in ids]
        params.append(("limit", str(ID_IN_BATCH_SIZE)))
        return _data(await self._call("GET", "counterparts", params=params))

    async def list_window(
        self, *, token: str | None, skip: int, size: int, filters: CounterpartFilters
    ) -> CounterpartWindow:
        """Up to `size` counterparts from the place (`token`, `skip`), reading as few
        pages as that takes; `filters` apply when `token` is None (the first page)."""
        items: list[tuple[dict[str, Any], str | None, int]] = []
        listed: list[dict[str, Any]] = []
        for _ in range(WINDOW_MAX_CALLS):
            wanted = size - len(items)
            page = await self.list_counterparts(
                # Where Monite takes the limit, one call holds what is skipped and the window.
                limit=min(skip + wanted, ID_IN_BATCH_SIZE),
                pagination_token=token,
                filters=filters,
            )
            rows = page.counterparts
            listed += rows
            for offset, row in enumerate(rows[skip : skip + wanted], start=skip + 1):
                if offset == len(rows) and page.next_token is not None:
                    items.append((row, page.next_token, 0))
                else:
                    items.append((row, token, offset))
            if len(rows) > skip + wanted:
                return CounterpartWindow(items, True, listed)
            if page.next_token is None:
                return CounterpartWindow(items, False, listed)
            if len(items) == size:
                return CounterpartWindow(items, True, listed)
            token, skip = page.next_token, max(skip - len(rows), 0)
        return CounterpartWindow(items, True, listed)

    async def list_counterparts(
        self, *, limit: int, pagination_token: str | None, filters: CounterpartFilters
    ) -> CounterpartPage:
        params: list[tuple[str, str]] = [("limit", str(limit))]
        if pagination_token:
            # Monite: the token takes priority over every other filter.
            params.append(("pagination_token", pagination_token))
        else:
            if filters.name:
                params.append(("counterpart_name__icontains", filters.name))
            if filters.is_customer is not None:
                params.append(("is_customer", "true" if filters.is_customer else "false"))
            if filters.is_vendor is not None:
                params.append(("is_vendor", "true" if filters.is_vendor else "false"))
        body = await self._call("GET", "counterparts", params=params)
        token = body.get("next_pagination_token") if isinstance(body, dict) else None
        return CounterpartPage(_data(body), token if isinstance(token, str) and token else None)

    async def contacts_of(self, counterpart_id: str) -> list[dict[str, Any]]:
        return _data(await self._call("GET", self._contact_path(counterpart_id)))

    def _contact_path(self, counterpart_id: str, contact_id: str | None = None) -> str:
        path = f"counterparts/{path_segment(counterpart_id)}/contacts"
        return path if contact_id is None else f"{path}/{path_segment(contact_id)}"

    async def create_contact(self, counterpart_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return expect_object(
            await self._call("POST", self._contact_path(counterpart_id), body=body), UPSTREAM
        )

    async def update_contact(
        self, counterpart_id: str, contact_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        path = self._contact_path(counterpart_id, contact_id)
        return expect_object(await self._call("PATCH", path, body=body), UPSTREAM)

    async def delete_contact(self, counterpart_id: str, contact_id: str) -> None:
        await self._call("DELETE", self._contact_path(counterpart_id, contact_id))

    async def make_default(self, counterpart_id: str, contact_id: str) -> dict[str, Any]:
        path = f"{self._contact_path(counterpart_id, contact_id)}/make_default"
        return expect_object(await self._call("POST", path), UPSTREAM)


def _data(body: Any) -> list[dict[str, Any]]:
    """The `data` list of Monite's list answers."""
    return expect_objects(expect_object(body, UPSTREAM).get("data"), UPSTREAM)

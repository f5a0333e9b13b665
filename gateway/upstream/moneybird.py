"""Moneybird's contacts API, as the gateway uses it.

One `MoneybirdClient` per GraphQL request, bound to that request's token and
administration; the pooled `UpstreamHTTP` underneath is shared. Every method
returns upstream dicts as they came (the schema reads them tolerantly).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.errors import UpstreamNotFound
from gateway.upstream.http import (
    UpstreamHTTP,
    UpstreamRequest,
    expect_object,
    expect_objects,
    path_segment,
)

UPSTREAM = "Moneybird"
SYNCHRONIZATION_BATCH_SIZE = 100
MAX_PER_PAGE = 100

_LINK_NEXT = re.compile(r'<[^>]*>\s*;\s*rel="?next"?')


def read_error_message(body: Any) -> str | None:
    """Moneybird's `{"error": "..."}`, or the first message of `{"error": {field: [...]}}`."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        for messages in error.values():
            if isinstance(messages, list) and messages:
                return str(messages[0])
    return None


@dataclass(frozen=True)
class ContactPage:
    contacts: list[dict[str, Any]]
    has_next_page: bool


class MoneybirdClient:
    def __init__(
        self,
        http: UpstreamHTTP,
        *,
        token: str,
        administration_id: str,
        from_reserve: bool = False,
    ) -> None:
        self._http = http
        self._token = token
        self._administration_id = administration_id
        self._from_reserve = from_reserve
        self._headers = {"authorization": f"Bearer {token}"}
        self._administration = path_segment(administration_id)
        self._prefix = f"{self._administration}/contacts"

    def for_sync(self) -> MoneybirdClient:
        """This client for a mirror's sync: its reads may take the slots of the call
        budget kept for syncs (`gateway.upstream.budget`)."""
        return MoneybirdClient(
            self._http,
            token=self._token,
            administration_id=self._administration_id,
            from_reserve=True,
        )

    async def _get(self, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        request = UpstreamRequest(
            "GET",
            path,
            self._headers,
            is_write=False,
            params=params or (),
            from_reserve=self._from_reserve,
        )
        return (await self._http.send(request)).body

    async def contacts_by_ids(self, ids: list[str]) -> list[dict[str, Any]]:
        """Full contacts for at most 100 ids; ids that do not exist are simply absent."""
        if len(ids) > SYNCHRONIZATION_BATCH_SIZE:
            raise ValueError("the synchronization endpoint answers at most 100 ids a call")
        request = UpstreamRequest(
            "POST",
            f"{self._prefix}/synchronization.json",
            self._headers,
            # A read: asking twice is harmless.
            is_write=False,
            # Exact JSON integers, as the upstream documents; ints never pass a float.
            json={"ids": [int(contact_id) for contact_id in ids]},
            from_reserve=self._from_reserve,
        )
        return expect_objects((await self._http.send(request)).body, UPSTREAM)

    async def contact_by_customer_id(self, customer_id: str) -> dict[str, Any] | None:
        """The contact with that customer id that is not archived; None when none is."""
        try:
            body = await self._get(f"{self._prefix}/customer_id/{path_segment(customer_id)}.json")
        except UpstreamNotFound:
            return None
        return expect_object(body, UPSTREAM)

    async def contact_versions(self, *, include_archived: bool | None) -> list[dict[str, Any]]:
        params = []
        if include_archived is not None:
            params.append(("include_archived", _bool(include_archived)))
        body = await self._get(f"{self._prefix}/synchronization.json", params)
        return expect_objects(body, UPSTREAM)

    async def list_window(
        self,
        *,
        offset: int,
        size: int,
        query: str | None,
        filter_terms: Sequence[tuple[str, str]],
        include_archived: bool | None,
    ) -> ContactPage:
        """`size` contacts from position `offset` of the list, in Moneybird's order.

        Moneybird pages by `page` and `per_page` (at most 100): the window is one
        page when some per_page holds it whole, two pages fetched together when a
        client changed `first` between pages.
        """
        per_page, pages = page_window(offset, size)
        results = await asyncio.gather(
            *(
                self.list_contacts(
                    page=page,
                    per_page=per_page,
                    query=query,
                    filter_terms=filter_terms,
                    include_archived=include_archived,
                )
                for page in pages
            )
        )
        contacts = [contact for result in results for contact in result.contacts]
        start = offset - (pages[0] - 1) * per_page
        window = contacts[start : start + size]
        has_more_in_pages = len(contacts) > start + size
        return ContactPage(window, has_more_in_pages or results[-1].has_next_page)

    async def list_contacts(
        self,
        *,
        page: int,
        per_page: int,
        query: str | None,
        filter_terms: Sequence[tuple[str, str]],
        include_archived: bool | None,
    ) -> ContactPage:
        """One page of `contacts.json`, or of `contacts/filter.json` when filtering.
        Filter values cannot hold a comma: Moneybird's syntax has no escape for it."""
        params = [("page", str(page)), ("per_page", str(per_page))]
        if query:
            params.append(("query", query))
        if include_archived is not None:
            params.append(("include_archived", _bool(include_archived)))
        path = f"{self._prefix}.json"
        if filter_terms:
            path = f"{self._prefix}/filter.json"
            params.append(("filter", ",".join(f"{key}:{value}" for key, value in filter_terms)))
        request = UpstreamRequest("GET", path, self._headers, is_write=False, params=params)
        response = await self._http.send(request)
        contacts = expect_objects(response.body, UPSTREAM)
        return ContactPage(
            contacts=contacts,
            has_next_page=_has_next_page(response.headers, len(contacts), per_page),
        )

    async def _write(self, method: str, path: str, body: Any = None) -> Any:
        request = UpstreamRequest(method, path, self._headers, is_write=True, json=body)
        return (await self._http.send(request)).body

    # Writes. None is retried: a write whose answer is lost raises OutcomeUnknown.

    async def create_contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        return expect_object(
            await self._write("POST", f"{self._prefix}.json", {"contact": contact}), UPSTREAM
        )

    async def update_contact(self, contact_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        body = await self._write(
            "PATCH", f"{self._prefix}/{path_segment(contact_id)}.json", {"contact": changes}
        )
        return expect_object(body, UPSTREAM)

    async def delete_contact(self, contact_id: str) -> None:
        await self._write("DELETE", f"{self._prefix}/{path_segment(contact_id)}.json")

    async def archive_contact(self, contact_id: str) -> None:
        await self._write("PATCH", f"{self._prefix}/{path_segment(contact_id)}/archive.json")

    async def add_note(self, contact_id: str, note: dict[str, Any]) -> dict[str, Any]:
        body = await self._write(
            "POST", f"{self._prefix}/{path_segment(contact_id)}/notes.json", {"note": note}
        )
        return expect_object(body, UPSTREAM)

    async def delete_note(self, contact_id: str, note_id: str) -> None:
        await self._write(
            "DELETE",
            f"{self._prefix}/{path_segment(contact_id)}/notes/{path_segment(note_id)}.json",
        )

    async def create_contact_person(
        self, contact_id: str, person: dict[str, Any]
    ) -> dict[str, Any]:
        body = await self._write(
            "POST",
            f"{self._prefix}/{path_segment(contact_id)}/contact_people.json",
            {"contact_person": person},
        )
        return expect_object(body, UPSTREAM)

    async def update_contact_person(
        self, contact_id: str, person_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        body = await self._write(
            "PATCH",
            f"{self._prefix}/{path_segment(contact_id)}/contact_people/{path_segment(person_id)}.json",
            {"contact_person": changes},
        )
        return expect_object(body, UPSTREAM)

    async def delete_contact_person(self, contact_id: str, person_id: str) -> None:
        await self._write(
            "DELETE",
            f"{self._prefix}/{path_segment(contact_id)}/contact_people/{path_segment(person_id)}.json",
        )

    # Webhooks, which the mirror registers to hear of changes.

    async def list_webhooks(self) -> list[dict[str, Any]]:
        return expect_objects(await self._get(f"{self._administration}/webhooks.json"), UPSTREAM)

    async def create_webhook(self, url: str, events: list[str]) -> dict[str, Any]:
        body = await self._write(
            "POST",
            f"{self._administration}/webhooks.json",
            {"url": url, "enabled_events": events},
        )
        return expect_object(body, UPSTREAM)

    async def delete_webhook(self, webhook_id: str) -> None:
        await self._write(
            "DELETE", f"{self._administration}/webhooks/{path_segment(webhook_id)}.json"
        )


def page_window(offset: int, size: int) -> tuple[int, list[int]]:
    """The per_page and 1-based pages that cover `size` items from `offset`: one page
    when some per_page <= 100 holds the whole window, two otherwise."""
    for per_page in range(size, MAX_PER_PAGE + 1):
        if offset // per_page == (offset + size - 1) // per_page:
            return per_page, [offset // per_page + 1]
    first_page = offset // size + 1
    return size, [first_page, first_page + 1]


def _has_next_page(headers: Mapping[str, str], count: int, per_page: int) -> bool:
    """Moneybird's `Link` header says whether a next page exists; without one, a full
    page is taken to mean there may be more."""
    link = headers.get("link")
    if link is None:
        return count >= per_page
    return _LINK_NEXT.search(link) is not None


def _bool(value: bool) -> str:
    return "true" if value else "false"

"""Moneybird's contacts API, as the gateway uses it.

One `MoneybirdClient` per GraphQL request, bound to that request's token and
administration; the pooled `UpstreamHTTP` underneath is shared. Every method
returns upstream dicts as they came (the schema reads them tolerantly).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from gateway.errors import UpstreamUnavailable
from gateway.upstream.http import UpstreamHTTP

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


def moneybird_http(client: httpx.AsyncClient, *, concurrency: int = 20) -> UpstreamHTTP:
    return UpstreamHTTP(
        client, name=UPSTREAM, read_error_message=read_error_message, concurrency=concurrency
    )


def _segment(value: str) -> str:
    """One URL path segment: nothing a client sends can add a `/`, `?` or `..`."""
    return quote(value, safe="")


@dataclass(frozen=True)
class ContactPage:
    contacts: list[dict[str, Any]]
    has_next_page: bool


class MoneybirdClient:
    def __init__(self, http: UpstreamHTTP, *, token: str, administration_id: str) -> None:
        self._http = http
        self._headers = {"authorization": f"Bearer {token}"}
        self._prefix = f"{_segment(administration_id)}/contacts"

    async def _get(self, path: str, params: Any = None) -> Any:
        return await self._http.request("GET", path, headers=self._headers, params=params)

    async def contacts_by_ids(self, ids: list[str]) -> list[dict[str, Any]]:
        """Full contacts for at most 100 ids; ids that do not exist are simply absent."""
        if len(ids) > SYNCHRONIZATION_BATCH_SIZE:
            raise ValueError("the synchronization endpoint answers at most 100 ids a call")
        body = await self._http.request(
            "POST",
            f"{self._prefix}/synchronization.json",
            headers=self._headers,
            # Exact JSON integers, as the upstream documents; ints never pass a float.
            json={"ids": [int(contact_id) for contact_id in ids]},
        )
        return _list_of_objects(body)

    async def contact_by_customer_id(self, customer_id: str) -> dict[str, Any]:
        body = await self._get(f"{self._prefix}/customer_id/{_segment(customer_id)}.json")
        return _object(body)

    async def contact_versions(self, *, include_archived: bool | None) -> list[dict[str, Any]]:
        params = {}
        if include_archived is not None:
            params["include_archived"] = _bool(include_archived)
        body = await self._get(f"{self._prefix}/synchronization.json", params or None)
        return _list_of_objects(body)

    async def list_contacts(
        self,
        *,
        page: int,
        per_page: int,
        query: str | None,
        filter_terms: str | None,
        include_archived: bool | None,
    ) -> ContactPage:
        """One page of `contacts.json`, or of `contacts/filter.json` when filtering."""
        params: dict[str, str] = {"page": str(page), "per_page": str(per_page)}
        if query:
            params["query"] = query
        if include_archived is not None:
            params["include_archived"] = _bool(include_archived)
        path = f"{self._prefix}.json"
        if filter_terms:
            path = f"{self._prefix}/filter.json"
            params["filter"] = filter_terms
        response = await self._http.fetch("GET", path, headers=self._headers, params=params)
        contacts = _list_of_objects(response.body)
        return ContactPage(
            contacts=contacts,
            has_next_page=_has_next_page(response.headers, len(contacts), per_page),
        )

    async def _write(self, method: str, path: str, body: Any = None) -> Any:
        return await self._http.request(
            method, f"{self._prefix}{path}", headers=self._headers, json=body, is_write=True
        )

    # Writes. None is retried: a write whose answer is lost raises OutcomeUnknown.

    async def create_contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        return _object(await self._write("POST", ".json", {"contact": contact}))

    async def update_contact(self, contact_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        body = await self._write("PATCH", f"/{_segment(contact_id)}.json", {"contact": changes})
        return _object(body)

    async def delete_contact(self, contact_id: str) -> None:
        await self._write("DELETE", f"/{_segment(contact_id)}.json")

    async def archive_contact(self, contact_id: str) -> None:
        await self._write("PATCH", f"/{_segment(contact_id)}/archive.json")

    async def add_note(self, contact_id: str, note: dict[str, Any]) -> dict[str, Any]:
        body = await self._write("POST", f"/{_segment(contact_id)}/notes.json", {"note": note})
        return _object(body)

    async def delete_note(self, contact_id: str, note_id: str) -> None:
        await self._write("DELETE", f"/{_segment(contact_id)}/notes/{_segment(note_id)}.json")

    async def create_contact_person(
        self, contact_id: str, person: dict[str, Any]
    ) -> dict[str, Any]:
        body = await self._write(
            "POST", f"/{_segment(contact_id)}/contact_people.json", {"contact_person": person}
        )
        return _object(body)

    async def update_contact_person(
        self, contact_id: str, person_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        body = await self._write(
            "PATCH",
            f"/{_segment(contact_id)}/contact_people/{_segment(person_id)}.json",
            {"contact_person": changes},
        )
        return _object(body)

    async def delete_contact_person(self, contact_id: str, person_id: str) -> None:
        await self._write(
            "DELETE", f"/{_segment(contact_id)}/contact_people/{_segment(person_id)}.json"
        )


def _has_next_page(headers: Mapping[str, str], count: int, per_page: int) -> bool:
    """Moneybird's `Link` header says whether a next page exists; without one, a full
    page is taken to mean there may be more."""
    link = headers.get("link")
    if link is None:
        return count >= per_page
    return _LINK_NEXT.search(link) is not None


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _list_of_objects(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, list):
        raise UpstreamUnavailable(f"{UPSTREAM} sent a body of the wrong shape.", upstream=UPSTREAM)
    return [item for item in body if isinstance(item, dict)]


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise UpstreamUnavailable(f"{UPSTREAM} sent a body of the wrong shape.", upstream=UPSTREAM)
    return body

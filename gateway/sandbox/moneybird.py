"""Moneybird's contacts API (v2), in memory.

Status codes and error bodies follow the official OpenAPI document; where the
documentation pages and the spec differ, the spec wins.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.sandbox.state import MoneybirdData, SandboxState

Handler = Callable[[Request], Awaitable[Response]]

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
SYNCHRONIZATION_LIMIT = 100
SEARCHED_FIELDS = (
    "company_name",
    "attention",
    "firstname",
    "lastname",
    "address1",
    "address2",
    "zipcode",
    "city",
    "country",
    "email",
    "phone",
    "customer_id",
    "tax_number",
    "chamber_of_commerce",
    "bank_account",
)
FILTER_KEYS = frozenset(
    {
        "created_after",
        "updated_after",
        "first_name",
        "last_name",
        "estimate_workflow_id",
        "invoice_workflow_id",
        "contact_type",
        "delivery_method",
        "trusted_type",
    }
)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def symbolic_error(status: int, message: str, symbolic: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"error": message}
    if symbolic is not None:
        body["symbolic"] = symbolic
    return json_response(body, status)


def not_found(symbolic: dict[str, Any] | None = None) -> Response:
    return symbolic_error(
        404, "record not found", {"id": "not_found"} if symbolic is None else symbolic
    )


def authenticated(handler: Handler, state: SandboxState) -> Handler:
    """Any non-empty bearer token is accepted (demo mode); the administration must exist."""

    async def guarded(request: Request) -> Response:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return symbolic_error(401, "No or invalid authorization token provided")
        if request.path_params.get("administration_id") != state.moneybird.administration_id:
            return symbolic_error(404, "record not found", {"administration_id": "not_found"})
        return await handler(request)

    return guarded


def visible(contact: dict[str, Any], include_archived: bool) -> bool:
    return include_archived or not contact["archived"]


def flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("true", "1")


def matches_query(contact: dict[str, Any], query: str) -> bool:
    terms = query.lower().split()
    haystack = " ".join(str(contact.get(name) or "") for name in SEARCHED_FIELDS).lower()
    haystack += (
        " "
        + " ".join(
            f"{person.get('firstname') or ''} {person.get('lastname') or ''}"
            for person in contact["contact_people"]
        ).lower()
    )
    return all(term in haystack for term in terms)


def paginate(request: Request, rows: list[dict[str, Any]]) -> Response:
    try:
        page = int(request.query_params.get("page", "1"))
        per_page = int(request.query_params.get("per_page", str(DEFAULT_PER_PAGE)))
    except ValueError:
        return symbolic_error(400, "per_page does not have a valid value")
    if not 1 <= per_page <= MAX_PER_PAGE:
        return symbolic_error(400, "per_page does not have a valid value")
    page = max(page, 1)
    start = (page - 1) * per_page
    body = rows[start : start + per_page]
    links = []
    params = dict(request.query_params)
    base = str(request.url.replace(query=""))
    if start + per_page < len(rows):
        links.append(f'<{base}?{urlencode({**params, "page": page + 1})}>; rel="next"')
    if page > 1:
        links.append(f'<{base}?{urlencode({**params, "page": page - 1})}>; rel="prev"')
    headers = {"Link": ", ".join(links)} if links else {}
    return json_response(body, headers=headers)


def contacts_in_order(data: MoneybirdData, include_archived: bool) -> list[dict[str, Any]]:
    return [c for c in data.contacts.values() if visible(c, include_archived)]


def parse_filter(text: str) -> dict[str, str] | None:
    terms: dict[str, str] = {}
    for term in text.split(","):
        key, separator, value = term.partition(":")
        key = key.strip()
        if not separator or key not in FILTER_KEYS:
            return None
        terms[key] = value.strip()
    return terms


def passes_filter(contact: dict[str, Any], terms: dict[str, str]) -> bool:
    return all(_term_matches(contact, key, value) for key, value in terms.items())


def _term_matches(contact: dict[str, Any], key: str, value: str) -> bool:
    if key in ("created_after", "updated_after"):
        field = "created_at" if key == "created_after" else "updated_at"
        return _utc_moment(contact[field]) > _utc_moment(value)
    if key in ("first_name", "last_name"):
        field = "firstname" if key == "first_name" else "lastname"
        return bool((contact[field] or "").lower() == value.lower())
    if value == "all":
        return True
    if key == "contact_type":
        return (value == "company") == bool(contact["company_name"])
    if key == "delivery_method":
        return bool((contact["delivery_method"] or "").lower() == value.lower())
    if key == "trusted_type":
        return (value == "trusted") == bool(contact["is_trusted"])
    return str(contact[key]) == value  # the workflow ids


def _utc_moment(moment: str) -> datetime:
    """`2026-08-21T13:48:39.199Z` or `2026-08-21 13:48:40 UTC` as a time, to the
    millisecond: Moneybird compares times, not their text."""
    parsed = datetime.fromisoformat(moment.replace(" UTC", "").replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def read_routes(state: SandboxState) -> list[Route]:
    def data() -> MoneybirdData:
        return state.moneybird

    async def list_contacts(request: Request) -> Response:
        rows = contacts_in_order(data(), flag(request, "include_archived"))
        query = request.query_params.get("query")
        if query:
            rows = [c for c in rows if matches_query(c, query)]
        return paginate(request, rows)

    async def filter_contacts(request: Request) -> Response:
        rows = contacts_in_order(data(), flag(request, "include_archived"))
        text = request.query_params.get("filter")
        if text:
            terms = parse_filter(text)
            if terms is None:
                return symbolic_error(400, "Filter is invalid", {"filter": "invalid"})
            rows = [c for c in rows if passes_filter(c, terms)]
        query = request.query_params.get("query")
        if query:
            rows = [c for c in rows if matches_query(c, query)]
        return paginate(request, rows)

    async def list_versions(request: Request) -> Response:
        rows = contacts_in_order(data(), flag(request, "include_archived"))
        return json_response([{"id": c["id"], "version": c["version"]} for c in rows])

    async def fetch_by_ids(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            body = None
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids:
            return symbolic_error(400, "Ids is required", {"ids": "required"})
        contacts = data().contacts
        found = []
        for raw in ids[:SYNCHRONIZATION_LIMIT]:
            contact = contacts.get(str(raw))
            if contact is not None:
                found.append(contact)
        return json_response(found)

    async def get_contact(request: Request) -> Response:
        contact = data().contacts.get(request.path_params["id"])
        if contact is None or not visible(contact, flag(request, "include_archived")):
            return not_found()
        return json_response(contact)

    async def get_by_customer_id(request: Request) -> Response:
        customer_id = request.path_params["customer_id"]
        for contact in data().contacts.values():
            if contact["customer_id"] == customer_id and not contact["archived"]:
                return json_response(contact)
        return not_found({})

    prefix = "/{administration_id}/contacts"
    routes = [
        (f"{prefix}/synchronization.json", list_versions, ["GET"]),
        (f"{prefix}/synchronization.json", fetch_by_ids, ["POST"]),
        (f"{prefix}/filter.json", filter_contacts, ["GET"]),
        (f"{prefix}/customer_id/{{customer_id}}.json", get_by_customer_id, ["GET"]),
        (f"{prefix}/{{id}}.json", get_contact, ["GET"]),
        (f"{prefix}.json", list_contacts, ["GET"]),
    ]
    return [
        Route(path, authenticated(handler, state), methods=methods)
        for path, handler, methods in routes
    ]

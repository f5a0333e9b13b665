"""Monite's counterparts API (version 2024-01-31), in memory.

Every call needs `Authorization: Bearer`, `x-monite-version` and
`x-monite-entity-id`, as Monite requires. Creating a contact answers 200,
deleting one 204; each counterpart has at most one default contact. The
default contact cannot be deleted while others exist (409): make another the
default first.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.sandbox.moneybird import json_response
from gateway.sandbox.state import MoniteData, SandboxState

Handler = Callable[[Request], Awaitable[Response]]
MAX_LIMIT = 100
_COUNTRY = re.compile(r"[A-Z]{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "title", "address")
_ADDRESS_FIELDS = ("line1", "line2", "city", "postal_code", "state", "country")


def error(status: int, message: str) -> Response:
    return json_response({"error": {"message": message}}, status)


def invalid(*problems: tuple[list[str | int], str, str]) -> Response:
    detail = [{"loc": loc, "msg": msg, "type": kind} for loc, msg, kind in problems]
    return json_response({"detail": detail}, 422)


def guarded(handler: Handler, state: SandboxState) -> Handler:
    async def check(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error(401, "Invalid or missing access token")
        for header in ("x-monite-version", "x-monite-entity-id"):
            if not request.headers.get(header):
                return invalid((["header", header], "field required", "value_error.missing"))
        if request.headers["x-monite-entity-id"] != state.monite.entity_id:
            return error(404, "Entity not found")
        for name in ("counterpart_id", "contact_id"):
            value = request.path_params.get(name)
            if value is not None and not _is_uuid(value):
                return invalid((["path", name], "value is not a valid uuid", "type_error.uuid"))
        return await handler(request)

    return check


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def public_counterpart(counterpart: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in counterpart.items() if key != "contacts"}


def _encode_token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode()


def _decode_token(token: str) -> dict[str, Any] | None:
    try:
        state = orjson.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return None
    return state if isinstance(state, dict) else None


def _flag(value: str | None) -> bool | None:
    return None if value is None else value.lower() == "true"


def _details(counterpart: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = counterpart.get("organization") or counterpart.get("individual") or {}
    return details


def _name(counterpart: dict[str, Any]) -> str:
    details = _details(counterpart)
    return str(
        details.get("legal_name")
        or f"{details.get('first_name', '')} {details.get('last_name', '')}"
    )


def check_contact(body: Any, *, partial: bool) -> Response | dict[str, Any]:
    if not isinstance(body, dict):
        return invalid((["body"], "value is not a valid dict", "type_error.dict"))
    problems: list[tuple[list[str | int], str, str]] = []
    required = () if partial else ("first_name", "last_name", "address")
    for name in required:
        if name not in body:
            problems.append((["body", name], "field required", "value_error.missing"))
    for name in ("first_name", "last_name", "phone", "title"):
        value = body.get(name)
        if name in body and (not isinstance(value, str) or len(value) > 100):
            problems.append(
                (["body", name], "ensure this value has at most 100 characters", "value_error")
            )
    if "email" in body and not (isinstance(body["email"], str) and _EMAIL.fullmatch(body["email"])):
        problems.append(
            (["body", "email"], "value is not a valid email address", "value_error.email")
        )
    address = body.get("address")
    if "address" in body:
        if not isinstance(address, dict):
            problems.append((["body", "address"], "value is not a valid dict", "type_error.dict"))
        else:
            for name in ("line1", "city", "postal_code", "country"):
                if not address.get(name):
                    problems.append(
                        (["body", "address", name], "field required", "value_error.missing")
                    )
            country = address.get("country")
            if country and not _COUNTRY.fullmatch(str(country)):
                problems.append(
                    (
                        ["body", "address", "country"],
                        "value is not a valid enumeration member",
                        "type_error.enum",
                    )
                )
    if problems:
        return invalid(*problems)
    contact = {name: body[name] for name in _CONTACT_FIELDS if name in body}
    if isinstance(address, dict):
        contact["address"] = {k: address[k] for k in _ADDRESS_FIELDS if address.get(k) is not None}
    return contact


def monite_routes(state: SandboxState) -> list[Route]:
    def data() -> MoniteData:
        return state.monite

    def counterpart_of(request: Request) -> dict[str, Any] | None:
        return data().counterparts.get(request.path_params["counterpart_id"])

    async def list_counterparts(request: Request) -> Response:
        params = request.query_params
        token = params.get("pagination_token")
        if token:
            decoded = _decode_token(token)
            if decoded is None:
                return invalid(
                    (["query", "pagination_token"], "invalid pagination token", "value_error")
                )
            filters = decoded
        else:
            try:
                limit = int(params.get("limit", str(MAX_LIMIT)))
            except ValueError:
                limit = 0
            if not 1 <= limit <= MAX_LIMIT:
                return invalid(
                    (
                        ["query", "limit"],
                        "ensure this value is less than or equal to 100",
                        "value_error",
                    )
                )
            filters = {
                "offset": 0,
                "limit": limit,
                "id__in": params.getlist("id__in"),
                "name": params.get("counterpart_name__icontains"),
                "is_customer": _flag(params.get("is_customer")),
                "is_vendor": _flag(params.get("is_vendor")),
                "type": params.get("type"),
            }
        rows = list(data().counterparts.values())
        if filters["id__in"]:
            wanted = set(filters["id__in"])
            rows = [c for c in rows if c["id"] in wanted]
        if filters["name"]:
            rows = [c for c in rows if str(filters["name"]).lower() in _name(c).lower()]
        for flag in ("is_customer", "is_vendor"):
            if filters[flag] is not None:
                rows = [c for c in rows if _details(c).get(flag) is filters[flag]]
        if filters["type"]:
            rows = [c for c in rows if c["type"] == filters["type"]]
        offset, limit = int(filters["offset"]), int(filters["limit"])
        page = rows[offset : offset + limit]
        body: dict[str, Any] = {"data": [public_counterpart(c) for c in page]}
        if offset + limit < len(rows):
            body["next_pagination_token"] = _encode_token({**filters, "offset": offset + limit})
        if offset > 0:
            body["prev_pagination_token"] = _encode_token(
                {**filters, "offset": max(0, offset - limit)}
            )
        return json_response(body)

    async def get_counterpart(request: Request) -> Response:
        counterpart = counterpart_of(request)
        if counterpart is None:
            return error(404, "Counterpart not found")
        return json_response(public_counterpart(counterpart))

    async def list_contacts(request: Request) -> Response:
        counterpart = counterpart_of(request)
        return json_response({"data": [] if counterpart is None else counterpart["contacts"]})

    def find_contact(request: Request) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        counterpart = counterpart_of(request)
        contacts = counterpart["contacts"] if counterpart else []
        wanted = request.path_params["contact_id"]
        return counterpart, next((c for c in contacts if c["id"] == wanted), None)

    async def create_contact(request: Request) -> Response:
        counterpart = counterpart_of(request)
        if counterpart is None:
            return error(404, "Counterpart not found")
        checked = check_contact(_json(await request.body()), partial=False)
        if isinstance(checked, Response):
            return checked
        if counterpart["type"] != "organization":
            return error(409, "Contacts can only be added to organization counterparts")
        contact = {
            "id": str(uuid.uuid4()),
            "counterpart_id": counterpart["id"],
            "is_default": not counterpart["contacts"],
            **checked,
        }
        counterpart["contacts"].append(contact)
        return json_response(contact)

    async def get_contact(request: Request) -> Response:
        _, contact = find_contact(request)
        return error(404, "Contact not found") if contact is None else json_response(contact)

    async def update_contact(request: Request) -> Response:
        _, contact = find_contact(request)
        if contact is None:
            return error(404, "Contact not found")
        checked = check_contact(_json(await request.body()), partial=True)
        if isinstance(checked, Response):
            return checked
        contact.update(checked)
        return json_response(contact)

    async def delete_contact(request: Request) -> Response:
        counterpart, contact = find_contact(request)
        if counterpart is None or contact is None:
            return error(404, "Contact not found")
        if contact["is_default"] and len(counterpart["contacts"]) > 1:
            return error(
                409, "The default contact cannot be deleted; make another contact the default first"
            )
        counterpart["contacts"].remove(contact)
        return Response(status_code=204)

    async def make_default(request: Request) -> Response:
        counterpart, contact = find_contact(request)
        if counterpart is None or contact is None:
            return error(404, "Contact not found")
        for other in counterpart["contacts"]:
            other["is_default"] = other is contact
        return json_response(contact)

    contacts = "/counterparts/{counterpart_id}/contacts"
    routes = [
        ("/counterparts", list_counterparts, ["GET"]),
        ("/counterparts/{counterpart_id}", get_counterpart, ["GET"]),
        (contacts, list_contacts, ["GET"]),
        (contacts, create_contact, ["POST"]),
        (f"{contacts}/{{contact_id}}/make_default", make_default, ["POST"]),
        (f"{contacts}/{{contact_id}}", get_contact, ["GET"]),
        (f"{contacts}/{{contact_id}}", update_contact, ["PATCH"]),
        (f"{contacts}/{{contact_id}}", delete_contact, ["DELETE"]),
    ]
    return [
        Route(path, guarded(handler, state), methods=methods) for path, handler, methods in routes
    ]


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body or b"null")
    except orjson.JSONDecodeError:
        return None

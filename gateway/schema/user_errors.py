"""Typed business errors for mutation payloads: `{field, message, code}`.

An upstream that refuses a change (400/404/409/422) is answered with user
errors pointing at the input the client sent, never with top-level errors.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

import strawberry

from gateway.errors import UpstreamRejected


@strawberry.enum(description="Why a mutation did not happen.")
class UserErrorCode(Enum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    CANNOT_BE_DELETED = "CANNOT_BE_DELETED"
    CONFLICT = "CONFLICT"


@strawberry.type(description="A reason a mutation was refused, for a form to show by its field.")
class UserError:
    field: list[str] | None = strawberry.field(
        description=(
            'Path to the argument or input field at fault, e.g. ["input", "companyName"]; '
            "null when it concerns the whole request."
        )
    )
    message: str
    code: UserErrorCode


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# Upstream fields whose input is named differently in the schema.
_RENAMED_FIELDS = {"custom_fields_attributes": "customFields"}


def input_path(upstream_field: str, *, input_name: str = "input") -> list[str]:
    return [input_name, _RENAMED_FIELDS.get(upstream_field, camel(upstream_field))]


_EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")


def check_emails(value: Any, path: list[str], *, several: bool) -> list[UserError]:
    """Refuse what cannot be an address before it reaches the upstream."""
    if not isinstance(value, str) or value == "":
        return []
    addresses = [part.strip() for part in value.split(",")] if several else [value.strip()]
    if all(_EMAIL.fullmatch(address) for address in addresses):
        return []
    what = "one or more email addresses separated by commas" if several else "an email address"
    return [UserError(field=path, message=f"Must be {what}.", code=UserErrorCode.INVALID)]


def moneybird_user_errors(
    error: UpstreamRejected,
    *,
    id_field: list[str],
    field_paths: dict[str, list[str]] | None = None,
) -> list[UserError]:
    """User errors for a Moneybird refusal.

    `{"error": {field: [messages]}}` gives one error per message; `{"error": "...",
    "symbolic": {field: reason}}` gives one error for the request. `id_field` is the
    argument naming the target object, used when the upstream blames the record.
    """
    body = error.body if isinstance(error.body, dict) else {}
    paths = field_paths or {}

    def path_of(upstream_field: str) -> list[str]:
        if upstream_field in paths:
            return paths[upstream_field]
        if upstream_field in ("id", "contact", "entity", "contact_person_id"):
            return id_field
        return input_path(upstream_field)

    detail = body.get("error")
    if isinstance(detail, dict):
        return [
            UserError(field=path_of(name), message=_worded(str(message)), code=_code(error.status))
            for name, messages in detail.items()
            for message in (messages if isinstance(messages, list) else [messages])
        ]
    message = detail if isinstance(detail, str) else error.message
    if "cannot be deleted" in message.lower():
        return [UserError(field=id_field, message=message, code=UserErrorCode.CANNOT_BE_DELETED)]
    symbolic = body.get("symbolic")
    blamed = next(iter(symbolic), None) if isinstance(symbolic, dict) and symbolic else None
    field = path_of(blamed) if blamed is not None else (id_field if error.status == 404 else None)
    return [UserError(field=field, message=message, code=_code(error.status))]


# The upstreams word one mistake several ways; a client sees one wording for it.
_WORDING = {
    "can't be blank": "is required",
    "field required": "is required",
}


def _worded(message: str) -> str:
    # Rails writes the apostrophe either way.
    return _WORDING.get(message.strip().lower().replace("\u2019", "'"), message)


def _code(status: int | None) -> UserErrorCode:
    if status == 404:
        return UserErrorCode.NOT_FOUND
    if status == 409:
        return UserErrorCode.CONFLICT
    return UserErrorCode.INVALID


def monite_user_errors(error: UpstreamRejected, *, id_field: list[str]) -> list[UserError]:
    """User errors for a Monite refusal: 422 `{"detail": [{"loc", "msg"}]}` gives one error
    per entry, with `loc` (after "body") as the camelCase input path."""
    body = error.body if isinstance(error.body, dict) else {}
    detail = body.get("detail")
    if error.status == 422 and isinstance(detail, list) and detail:
        errors = []
        for entry in detail:
            if not isinstance(entry, dict):
                continue
            location = [str(part) for part in entry.get("loc", [])]
            if location[:1] == ["body"]:
                field: list[str] | None = ["input", *(camel(part) for part in location[1:])]
            elif location[:1] == ["path"]:
                field = id_field
            else:
                field = None
            errors.append(
                UserError(
                    field=field,
                    message=_worded(str(entry.get("msg", error.message))),
                    code=UserErrorCode.INVALID,
                )
            )
        if errors:
            return errors
    return [
        UserError(
            field=id_field if error.status == 404 else None,
            message=error.message,
            code=_code(error.status),
        )
    ]

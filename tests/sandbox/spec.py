"""Validate sandbox answers against the official OpenAPI documents in specs/upstream."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_DIR = Path(__file__).resolve().parents[2] / "specs" / "upstream"
SPECS = {
    "moneybird": "moneybird-contacts.openapi.json",
    "moneybird-webhooks": "moneybird-webhooks.openapi.json",
    "monite": "monite-counterparts.openapi.json",
}


@cache
def document(upstream: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SPEC_DIR / SPECS[upstream]).read_text())
    return loaded


def response_schema(upstream: str, path: str, method: str, status: int) -> dict[str, Any]:
    operation = document(upstream)["paths"][path][method.lower()]
    response = operation["responses"][str(status)]
    if "$ref" in response:  # a shared answer, e.g. #/components/responses/404_not_found
        *_, name = response["$ref"].split("/")
        response = document(upstream)["components"]["responses"][name]
    content = response["content"]
    media = content.get("application/json") or next(iter(content.values()))
    schema: dict[str, Any] = media["schema"]
    return schema


def validate(upstream: str, path: str, method: str, status: int, body: Any) -> None:
    """Raise jsonschema.ValidationError when `body` is not what the spec says."""
    validate_schema(upstream, response_schema(upstream, path, method, status), body)


def validate_headers(
    upstream: str, path: str, method: str, status: int, headers: Mapping[str, str]
) -> None:
    """Every header the spec documents for this answer is there, and its value (parsed
    as JSON, so `150` is a number) is what the spec says."""
    operation = document(upstream)["paths"][path][method.lower()]
    documented: dict[str, Any] = operation["responses"][str(status)].get("headers", {})
    for name, header in documented.items():
        assert name in headers, f"{name} missing from a {status} answer"
        try:
            value = json.loads(headers[name])
        except json.JSONDecodeError:
            value = headers[name]
        validate_schema(upstream, header["schema"], value)


def validate_schema(upstream: str, schema: dict[str, Any], instance: Any) -> None:
    uri = f"urn:{upstream}"
    resource = Resource(contents=document(upstream), specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(uri, resource)
    validator = Draft202012Validator(
        _rebase(schema, uri), registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(instance)


def _rebase(node: Any, uri: str) -> Any:
    """Point local `#/components/...` references at the registered document."""
    if isinstance(node, dict):
        return {
            key: (
                f"{uri}{value}" if key == "$ref" and value.startswith("#") else _rebase(value, uri)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebase(item, uri) for item in node]
    return node

"""Validate sandbox answers against the official OpenAPI documents in specs/upstream."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_DIR = Path(__file__).resolve().parents[2] / "specs" / "upstream"
SPECS = {
    "moneybird": "moneybird-contacts.openapi.json",
    "monite": "monite-counterparts.openapi.json",
}


@cache
def document(upstream: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SPEC_DIR / SPECS[upstream]).read_text())
    return loaded


def response_schema(upstream: str, path: str, method: str, status: int) -> dict[str, Any]:
    operation = document(upstream)["paths"][path][method.lower()]
    content = operation["responses"][str(status)]["content"]
    media = content.get("application/json") or next(iter(content.values()))
    schema: dict[str, Any] = media["schema"]
    return schema


def validate(upstream: str, path: str, method: str, status: int, body: Any) -> None:
    """Raise jsonschema.ValidationError when `body` is not what the spec says."""
    uri = f"urn:{upstream}"
    resource = Resource(contents=document(upstream), specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(uri, resource)
    schema = _rebase(response_schema(upstream, path, method, status), uri)
    validator = Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(body)


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

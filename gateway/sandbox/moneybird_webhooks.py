"""Moneybird's webhooks API: list, create, delete, activate, deactivate.

Bodies and status codes follow specs/upstream/moneybird-webhooks.openapi.json. As
the documentation says, a new webhook's URL must answer 200 when it is registered;
the documents give no body for a URL that does not, so the sandbox refuses it with
the spec's 400 in Moneybird's symbolic form, `{"error": "Url is invalid", "symbolic":
{"url": "invalid"}}`.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.sandbox.moneybird import authenticated, json_response, symbolic_error
from gateway.sandbox.state import SandboxState
from gateway.sandbox.webhooks import Webhook, answers_200

NOT_FOUND = {"error": "Record not found for model name: Webhook"}


def webhook_routes(state: SandboxState) -> list[Route]:
    def find(request: Request) -> Webhook | None:
        return state.webhooks.get(
            request.path_params["administration_id"], request.path_params["id"]
        )

    async def list_webhooks(request: Request) -> Response:
        hooks = state.webhooks.of(request.path_params["administration_id"])
        return json_response([hook.json() for hook in hooks])

    async def create_webhook(request: Request) -> Response:
        try:
            body: Any = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            body = None
        fields = body if isinstance(body, dict) else {}
        if "events" in fields:
            return symbolic_error(
                400,
                "'events' has been removed from webhooks, use 'enabled_events'",
                {"events": "removed"},
            )
        url = fields.get("url")
        if not isinstance(url, str) or not url.strip():
            return symbolic_error(400, "Url is required", {"url": "required"})
        events = fields.get("enabled_events") or []
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            return symbolic_error(400, "Enabled events is invalid", {"enabled_events": "invalid"})
        if not await answers_200(url):
            return symbolic_error(400, "Url is invalid", {"url": "invalid"})
        hook = state.webhooks.create(
            state.moneybird.next_id(), request.path_params["administration_id"], url, events
        )
        return json_response(hook.json(with_secret=True), 201)

    async def delete_webhook(request: Request) -> Response:
        hook = find(request)
        if hook is None:
            return json_response(NOT_FOUND, 404)
        state.webhooks.delete(hook.id)
        return Response(status_code=204)

    async def activate(request: Request) -> Response:
        hook = find(request)
        if hook is None:
            return json_response(NOT_FOUND, 404)
        state.webhooks.activate(hook)
        return json_response(hook.json())

    async def deactivate(request: Request) -> Response:
        hook = find(request)
        if hook is None:
            return json_response(NOT_FOUND, 404)
        state.webhooks.deactivate(hook)
        return json_response(hook.json())

    prefix = "/{administration_id}/webhooks"
    routes = [
        (f"{prefix}.json", list_webhooks, ["GET"]),
        (f"{prefix}.json", create_webhook, ["POST"]),
        (f"{prefix}/{{id}}/activate.json", activate, ["PATCH"]),
        (f"{prefix}/{{id}}/deactivate.json", deactivate, ["PATCH"]),
        (f"{prefix}/{{id}}.json", delete_webhook, ["DELETE"]),
    ]
    return [
        Route(path, authenticated(handler, state), methods=methods)
        for path, handler, methods in routes
    ]

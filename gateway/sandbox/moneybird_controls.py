"""Controls for the sandbox's Moneybird behaviour, under /_sandbox/moneybird/.

/_sandbox/moneybird/settings   the rate limit (GET; POST to change it at run time)
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.sandbox.moneybird import json_response
from gateway.sandbox.state import SandboxState
from gateway.sandbox.throttle import RateLimit


async def json_object(request: Request) -> dict[str, Any] | Response:
    try:
        body: Any = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        return json_response({"error": "body must be JSON"}, 400)
    if not isinstance(body, dict):
        return json_response({"error": "body must be a JSON object"}, 400)
    return body


def settings_json(state: SandboxState) -> dict[str, Any]:
    limit = state.moneybird_rate_limit
    return {"rate_limit": None if limit is None else f"{limit[0]}/{limit[1]:g}"}


def moneybird_control_routes(state: SandboxState) -> list[Route]:
    async def settings(request: Request) -> Response:
        if request.method == "POST":
            body = await json_object(request)
            if isinstance(body, Response):
                return body
            if "rate_limit" in body:
                text = body["rate_limit"]
                if text is None:
                    state.moneybird_rate_limit = None
                else:
                    try:
                        limit = RateLimit.parse(str(text))
                    except ValueError as exc:
                        return json_response({"error": f"rate_limit: {exc}"}, 400)
                    state.moneybird_rate_limit = (limit.requests, limit.seconds)
                state.moneybird_throttle.clear()
        return json_response(settings_json(state))

    return [Route("/_sandbox/moneybird/settings", settings, methods=["GET", "POST"])]

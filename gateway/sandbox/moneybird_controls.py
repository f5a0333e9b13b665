"""Controls for the sandbox's Moneybird behaviour, under /_sandbox/moneybird/.

settings                        the rate limit ("150/300" or null) and the first retry
                                interval of webhook pushes, in seconds (GET; POST what
                                changes)
deliveries                      webhook pushes, oldest first (GET, ?webhook_id=); DELETE
                                forgets those no longer pending
deliveries/pause, /resume       hold every push (late webhooks), and let them go (POST)
deliveries/drop                 give up every push not delivered yet: lost webhooks (POST)
webhooks                        the webhooks with their signing secrets (GET)
webhooks/{id}/rotate_secret     a new signing secret beside the old: pushes carry a v1
                                per secret (POST; answers the new secret)
webhooks/{id}/end_rotation      only the newest secret signs from now on (POST)
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
from gateway.sandbox.webhooks import Webhook


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
    return {
        "rate_limit": None if limit is None else f"{limit[0]}/{limit[1]:g}",
        "rate_limit_per": state.moneybird_rate_limit_per,
        "webhook_retry_interval": state.moneybird_webhook_retry_interval,
    }


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
            if "rate_limit_per" in body:
                per = body["rate_limit_per"]
                if per not in ("token", "address"):
                    return json_response({"error": "rate_limit_per: token or address"}, 400)
                state.moneybird_rate_limit_per = per
                state.moneybird_throttle.clear()
            if "webhook_retry_interval" in body:
                interval = body["webhook_retry_interval"]
                if (
                    isinstance(interval, bool)
                    or not isinstance(interval, int | float)
                    or interval < 0
                ):
                    return json_response(
                        {"error": "webhook_retry_interval: seconds, 0 or more"}, 400
                    )
                state.moneybird_webhook_retry_interval = float(interval)
        return json_response(settings_json(state))

    async def deliveries(request: Request) -> Response:
        if request.method == "DELETE":
            state.webhooks.forget_finished()
            return Response(status_code=204)
        return json_response(state.webhooks.deliveries(request.query_params.get("webhook_id")))

    async def pause(request: Request) -> Response:
        state.webhooks.pause()
        return json_response({"paused": True})

    async def resume(request: Request) -> Response:
        state.webhooks.resume()
        return json_response({"paused": False})

    async def drop(request: Request) -> Response:
        return json_response({"dropped": state.webhooks.drop_pending()})

    async def webhooks(request: Request) -> Response:
        administration_id = state.moneybird.administration_id
        return json_response(
            [
                {**hook.json(), "secrets": list(hook.secrets)}
                for hook in state.webhooks.of(administration_id)
            ]
        )

    def hook_or_404(request: Request) -> Webhook | Response:
        hook = state.webhooks.get(state.moneybird.administration_id, request.path_params["id"])
        return hook if hook is not None else json_response({"error": "no such webhook"}, 404)

    async def rotate_secret(request: Request) -> Response:
        hook = hook_or_404(request)
        if isinstance(hook, Response):
            return hook
        secret = state.webhooks.rotate_secret(hook)
        return json_response({"secret": secret, "secrets": len(hook.secrets)})

    async def end_rotation(request: Request) -> Response:
        hook = hook_or_404(request)
        if isinstance(hook, Response):
            return hook
        state.webhooks.end_rotation(hook)
        return json_response({"secret": hook.secrets[-1], "secrets": len(hook.secrets)})

    prefix = "/_sandbox/moneybird"
    return [
        Route(f"{prefix}/settings", settings, methods=["GET", "POST"]),
        Route(f"{prefix}/deliveries", deliveries, methods=["GET", "DELETE"]),
        Route(f"{prefix}/deliveries/pause", pause, methods=["POST"]),
        Route(f"{prefix}/deliveries/resume", resume, methods=["POST"]),
        Route(f"{prefix}/deliveries/drop", drop, methods=["POST"]),
        Route(f"{prefix}/webhooks", webhooks, methods=["GET"]),
        Route(f"{prefix}/webhooks/{{id}}/rotate_secret", rotate_secret, methods=["POST"]),
        Route(f"{prefix}/webhooks/{{id}}/end_rotation", end_rotation, methods=["POST"]),
    ]

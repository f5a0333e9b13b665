"""The sandbox as one ASGI app: each upstream under its own prefix, plus controls.

/moneybird/...          Moneybird's API; base URL `<sandbox>/moneybird`
/_sandbox/requests      the request log (GET), cleared by DELETE
/_sandbox/faults/{upstream}   set latency, planned failures or fault rules (POST), clear (DELETE)
/_sandbox/reset         back to the seeded data (POST)
/_sandbox/moneybird/... Moneybird's rate limit and webhook pushes (see
                        gateway.sandbox.moneybird_controls)
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from gateway.sandbox.moneybird import json_response, read_routes
from gateway.sandbox.moneybird_controls import moneybird_control_routes
from gateway.sandbox.moneybird_webhooks import webhook_routes
from gateway.sandbox.moneybird_writes import write_routes
from gateway.sandbox.monite import monite_routes
from gateway.sandbox.recorder import Recorder
from gateway.sandbox.state import SandboxState
from gateway.sandbox.webhooks import Outbox
from gateway.settings import Settings


def control_routes(state: SandboxState) -> list[Route]:
    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            state.log.clear()
            return Response(status_code=204)
        upstream = request.query_params.get("upstream")
        return json_response([entry.json() for entry in state.requests(upstream)])

    async def faults(request: Request) -> Response:
        upstream = request.path_params["upstream"]
        if upstream not in state.faults:
            return json_response({"error": f"unknown upstream {upstream}"}, 404)
        target = state.faults[upstream]
        if request.method == "DELETE":
            target.clear()
            return Response(status_code=204)
        try:
            body: Any = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            return json_response({"error": "body must be JSON"}, 400)
        if not isinstance(body, dict):
            return json_response({"error": "body must be a JSON object"}, 400)
        if "latency" in body:
            target.latency = float(body["latency"])
        failure = body.get("failNext")
        if isinstance(failure, dict):
            target.fail_next(
                int(failure.get("count", 1)),
                status=int(failure.get("status", 503)),
                body=failure.get("body"),
                headers=failure.get("headers"),
            )
        rules = body.get("rules")
        for rule in rules if isinstance(rules, list) else ():
            if not isinstance(rule, dict) or not isinstance(rule.get("match"), str):
                return json_response({"error": "each rule needs a `match` pattern"}, 400)
            status = rule.get("status")
            try:
                target.add_rule(
                    rule["match"],
                    status=None if status is None else int(status),
                    delay=float(rule.get("delay", 0.0)),
                    body=rule.get("body"),
                    headers=rule.get("headers"),
                )
            except re.error as exc:
                return json_response({"error": f"`match` is not a regular expression: {exc}"}, 400)
        return json_response(
            {"latency": target.latency, "planned": len(target.planned), "rules": len(target.rules)}
        )

    async def reset(request: Request) -> Response:
        state.reset()
        return Response(status_code=204)

    return [
        Route("/_sandbox/requests", requests, methods=["GET", "DELETE"]),
        Route("/_sandbox/faults/{upstream}", faults, methods=["POST", "DELETE"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
    ]


def with_sandbox_defaults(settings: Settings, state: SandboxState) -> Settings:
    """`settings` with the sandbox's administration and entity as the defaults of
    the upstreams it stands in for, where none is configured."""
    defaults: dict[str, str] = {}
    if settings.moneybird_is_sandbox and settings.moneybird_administration_id is None:
        defaults["moneybird_administration_id"] = state.moneybird.administration_id
    if settings.monite_is_sandbox and settings.monite_entity_id is None:
        defaults["monite_entity_id"] = state.entity_id
    return settings.model_copy(update=defaults)


def create_sandbox_app(state: SandboxState | None = None) -> Starlette:
    state = state if state is not None else SandboxState()
    moneybird = Recorder(
        Outbox(
            Starlette(routes=[*read_routes(state), *write_routes(state), *webhook_routes(state)]),
            state.webhooks,
        ),
        upstream="moneybird",
        log=state.log,
        faults=state.faults["moneybird"],
        gate=state.moneybird_throttle.check,
    )
    monite = Recorder(
        Starlette(routes=monite_routes(state)),
        upstream="monite",
        log=state.log,
        faults=state.faults["monite"],
    )

    webhooks = state.webhooks

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await webhooks.aclose()

    app = Starlette(
        lifespan=lifespan,
        routes=[
            *control_routes(state),
            *moneybird_control_routes(state),
            Mount("/moneybird", app=moneybird),
            Mount("/monite", app=monite),
        ],
    )
    app.state.sandbox = state
    return app

"""Without an entity id (no header, no setting), Monite fields fail clearly, with no call."""

from __future__ import annotations

import httpx

from gateway.app import create_app
from gateway.sandbox.state import SandboxState
from tests.conftest import gateway_settings
from tests.servers import serve


def test_a_missing_entity_id_is_a_clear_error_with_no_call(
    sandbox: SandboxState, sandbox_url: str
) -> None:
    settings = gateway_settings(sandbox_url, monite_entity_id=None)
    with serve(create_app(settings)) as url:
        body = httpx.post(
            f"{url}/graphql",
            json={"query": "{ counterparts { edges { cursor } } }"},
            headers={"X-Monite-Token": "t"},
        ).json()
        with_header = httpx.post(
            f"{url}/graphql",
            json={"query": "{ counterparts(first: 1) { edges { node { id } } } }"},
            headers={"X-Monite-Token": "t", "X-Monite-Entity-Id": sandbox.monite.entity_id},
        ).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "X-Monite-Entity-Id" in error["message"]
    assert len(with_header["data"]["counterparts"]["edges"]) == 1
    assert len(sandbox.requests("monite")) == 1

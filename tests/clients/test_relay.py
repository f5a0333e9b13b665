"""Relay against the gateway: relay-compiler compiles clients/src/relay (a
@refetchable fragment on Contact, a fragment on Node, a @connection) against
schema.graphql, and relay-runtime refetches the contact through `node(id:)` and
pages counterparts through the connection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.ids import global_id
from gateway.sandbox.state import SandboxState
from tests.clients.node import CLIENTS, run_script, run_tool

REPOSITORY = CLIENTS.parent


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """relay-compiler's artifacts for clients/src/relay, as CommonJS modules: a
    refetchable fragment's artifact requires its query's by a path without an
    extension, which Node resolves for CommonJS only."""
    directory = tmp_path_factory.mktemp("relay")
    artifacts = directory / "__generated__"
    artifacts.mkdir()
    (artifacts / "package.json").write_text(json.dumps({"type": "commonjs"}))
    config = directory / "relay.config.json"
    config.write_text(
        json.dumps(
            {
                "src": str(CLIENTS / "src" / "relay"),
                "schema": str(REPOSITORY / "schema.graphql"),
                "language": "javascript",
                "artifactDirectory": str(artifacts),
                "eagerEsModules": False,
            }
        )
    )
    run_tool("relay-compiler", str(config))
    return artifacts


def test_relay_compiler_makes_the_refetch_query_of_node(artifacts: Path) -> None:
    generated = {path.name for path in artifacts.glob("*.graphql.js")}
    assert {
        "RelayContactRefetchQuery.graphql.js",
        "RelayCounterpartsPaginationQuery.graphql.js",
    } <= (generated)
    assert "node(id: $id)" in (artifacts / "RelayContactRefetchQuery.graphql.js").read_text()


def test_relay_refetches_a_contact_through_node_and_pages_counterparts(
    gateway_url: str, sandbox_url: str, sandbox: SandboxState, artifacts: Path
) -> None:
    # given a contact with a note, which someone changes in Moneybird after Relay read it
    contact = next(c for c in sandbox.moneybird.contacts.values() if c["notes"])
    city = contact["city"]
    in_moneybird = f"{sandbox_url}/moneybird/123456789/contacts/{contact['id']}.json"
    # when Relay refetches its fragment
    report = run_script(
        "src/relay-refetch.mjs",
        f"{gateway_url}/graphql",
        str(artifacts),
        contact["id"],
        in_moneybird,
    )
    # then through node(id:), by the global id, and the same record shows the change
    contact_id = global_id("Contact", contact["id"])
    assert "node(id: $id)" in report["refetchText"]
    assert report["before"]["id"] == report["after"]["id"] == contact_id
    assert report["before"]["city"] == city
    assert report["after"]["city"] == "Refetched"
    assert report["after"]["notes"] == [
        global_id("Note", contact["id"], note["id"]) for note in contact["notes"]
    ]
    # Relay keys its records by id alone: the contact and its note are two records,
    # and the versions list (values, without ids) took no contact's place
    assert report["records"] == {
        contact_id: "Contact",
        **{global_id("Note", contact["id"], n["id"]): "Note" for n in contact["notes"]},
    }
    # and three pages of counterparts through @connection, each after the last
    assert report["counterparts"] == list(sandbox.monite.counterparts)[:12]
    assert report["hasNextPage"] is True
    assert report["requests"] == 2 + 3

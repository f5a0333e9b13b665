"""Persisted documents with the clients that send them: Apollo Client's and
urql's automatic persisted queries, and trusted documents from the manifests
Apollo's generate-persisted-query-manifest and relay-compiler write, sent by
Apollo Client's persisted query lists and Relay's `doc_id`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from gateway.ids import global_id
from gateway.sandbox.state import SandboxState
from tests.clients.node import CLIENTS, run_script, run_tool
from tests.conftest import gateway_settings
from tests.servers import serve

REPOSITORY = CLIENTS.parent


@pytest.fixture
def fresh_url(sandbox_url: str) -> Iterator[str]:
    """A gateway of its own: its APQ store starts empty."""
    with serve(create_app(gateway_settings(sandbox_url))) as url:
        yield f"{url}/graphql"


@pytest.fixture
def contact_id(sandbox: SandboxState) -> str:
    return next(iter(sandbox.moneybird.contacts))


def sent(exchange: dict[str, Any]) -> set[str]:
    """Which request parameters an exchange carried."""
    return {name for name in ("query", "extensions") if name in exchange["sent"]} | (
        {"hash"} if "persistedQuery" in exchange["sent"].get("extensions", {}) else set()
    )


@pytest.mark.parametrize(
    ("method", "accept", "not_found_status"),
    [
        # Apollo Client 4's own Accept prefers graphql-response+json: there the
        # unknown hash is a 404, which its link reads as a result all the same
        ("post", None, 404),
        ("get", None, 404),
        # as older clients ask: a 200, as Apollo Server answers it
        ("post", "application/json", 200),
    ],
)
def test_apollo_client_registers_a_query_then_sends_its_hash_alone(
    fresh_url: str, contact_id: str, method: str, accept: str | None, not_found_status: int
) -> None:
    args = [fresh_url, contact_id, method, *([accept] if accept else [])]
    report = run_script("src/apollo-apq.mjs", *args)
    first_start, second_start = report["results"]
    for start in (first_start, second_start):
        assert start["error"] is None
        assert start["data"]["contact"]["id"] == global_id("Contact", contact_id)
    unknown, registration, known = report["exchanges"]
    # the hash alone, answered PersistedQueryNotFound
    assert unknown["method"] == method.upper()
    assert sent(unknown) == {"extensions", "hash"}
    assert unknown["status"] == not_found_status
    assert unknown["body"]["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    # then the text with its hash, which the link always POSTs
    assert registration["method"] == "POST"
    assert sent(registration) == {"query", "extensions", "hash"}
    assert registration["status"] == 200
    # and the next app start sends the hash alone, which now runs
    assert known["method"] == method.upper()
    assert sent(known) == {"extensions", "hash"}
    assert known["status"] == 200
    assert known["body"] == registration["body"]


def test_urql_registers_a_query_then_sends_its_hash_alone(fresh_url: str, contact_id: str) -> None:
    report = run_script("src/urql-apq.mjs", fresh_url, contact_id)
    for start in report["results"]:
        assert start["error"] is None
        assert start["data"]["contact"]["id"] == global_id("Contact", contact_id)
    unknown, registration, known = report["exchanges"]
    # urql sends persisted queries with GET, the text too when it fits the URL
    assert [exchange["method"] for exchange in report["exchanges"]] == ["GET"] * 3
    assert sent(unknown) == {"extensions", "hash"}
    assert unknown["body"]["errors"][0]["message"] == "PersistedQueryNotFound"
    assert sent(registration) == {"query", "extensions", "hash"}
    assert sent(known) == {"extensions", "hash"}
    assert known["status"] == 200
    assert known["cacheControl"] == "private, no-cache"


@pytest.fixture(scope="module")
def apollo_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The manifest Apollo's tool writes for the operations in clients/src/trusted."""
    directory = tmp_path_factory.mktemp("apollo")
    manifest = directory / "persisted-query-manifest.json"
    config = directory / "persisted-query-manifest.config.json"
    config.write_text(
        json.dumps({"documents": ["src/trusted/apollo-operations.mjs"], "output": str(manifest)})
    )
    run_tool("generate-persisted-query-manifest", "--config", str(config))
    return manifest


def test_apollo_client_runs_only_the_operations_of_its_manifest(
    sandbox_url: str, sandbox: SandboxState, contact_id: str, apollo_manifest: Path
) -> None:
    # given a gateway that runs only the documents of the manifest
    operations = json.loads(apollo_manifest.read_text())["operations"]
    assert {operation["name"] for operation in operations} == {"TrustedContact", "TrustedRename"}
    settings = gateway_settings(
        sandbox_url, persisted_documents=apollo_manifest, trusted_documents_only=True
    )
    with serve(create_app(settings)) as url:
        report = run_script(
            "src/apollo-trusted.mjs", f"{url}/graphql", str(apollo_manifest), contact_id
        )
    # then the app built with it runs its query and its mutation by id alone
    assert report["query"]["data"]["contact"]["id"] == global_id("Contact", contact_id)
    assert report["mutation"]["data"]["updateContact"]["contact"]["firstname"] == "Ada"
    assert sandbox.moneybird.contacts[contact_id]["firstname"] == "Ada"
    listed = report["exchanges"][:2]
    assert all(sent(exchange) == {"extensions", "hash"} for exchange in listed)
    # and an operation it was not built with is refused, by hash or as text
    assert report["byHash"] == {"data": None, "codes": ["PERSISTED_QUERY_NOT_IN_LIST"]}
    assert report["asText"] == {"data": None, "codes": ["QUERY_NOT_IN_SAFELIST"]}
    assert [exchange["status"] for exchange in report["exchanges"][2:]] == [404, 403]


@pytest.fixture(scope="module")
def relay_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """relay-compiler's output for clients/src/trusted/relay: the artifacts and
    persisted_queries.json."""
    directory = tmp_path_factory.mktemp("relay")
    artifacts = directory / "__generated__"
    artifacts.mkdir()
    # relay-compiler adds to the file it persists into: it starts empty.
    (directory / "persisted_queries.json").write_text("{}")
    config = directory / "relay.config.json"
    config.write_text(
        json.dumps(
            {
                "src": str(CLIENTS / "src" / "trusted" / "relay"),
                "schema": str(REPOSITORY / "schema.graphql"),
                "language": "javascript",
                "artifactDirectory": str(artifacts),
                "eagerEsModules": True,
                "persistConfig": {"file": str(directory / "persisted_queries.json")},
            }
        )
    )
    run_tool("relay-compiler", str(config))
    return directory


def test_relay_runs_its_persisted_queries_by_doc_id(
    sandbox_url: str, sandbox: SandboxState, contact_id: str, relay_build: Path
) -> None:
    manifest = relay_build / "persisted_queries.json"
    [(relay_id, text)] = json.loads(manifest.read_text()).items()
    assert "RelayTrustedContactQuery" in text
    settings = gateway_settings(
        sandbox_url, persisted_documents=manifest, trusted_documents_only=True
    )
    with serve(create_app(settings)) as url:
        report = run_script(
            "src/relay-trusted.mjs",
            f"{url}/graphql",
            str(relay_build / "__generated__"),
            contact_id,
        )
    assert (report["id"], report["text"]) == (relay_id, None)
    assert report["data"]["contact"]["id"] == global_id("Contact", contact_id)
    [exchange] = report["exchanges"]
    assert exchange["sent"] == {"doc_id": relay_id, "variables": {"id": contact_id}}
    assert exchange["status"] == 200


def test_relay_is_refused_a_document_the_gateway_does_not_trust(
    sandbox_url: str,
    sandbox: SandboxState,
    contact_id: str,
    relay_build: Path,
    apollo_manifest: Path,
) -> None:
    settings = gateway_settings(
        sandbox_url, persisted_documents=apollo_manifest, trusted_documents_only=True
    )
    with serve(create_app(settings)) as url:
        report = run_script(
            "src/relay-trusted.mjs",
            f"{url}/graphql",
            str(relay_build / "__generated__"),
            contact_id,
        )
    assert report["data"] is None
    assert report["codes"] == ["PERSISTED_QUERY_NOT_IN_LIST"]
    assert sandbox.requests() == []

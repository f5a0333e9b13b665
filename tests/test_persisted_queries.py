"""Persisted documents over real HTTP: Apollo's automatic persisted queries (APQ),
the GraphQL-over-HTTP `documentId`, Relay's `doc_id`, and trusted documents from
a manifest. The client libraries themselves run in tests/clients."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gateway.app import create_app
from gateway.persisted_queries import APQStore, ManifestError, load_manifest
from gateway.sandbox.state import SandboxState
from gateway.settings import Settings
from tests.conftest import MONEYBIRD_HEADERS, MONITE_HEADERS, gateway_settings
from tests.servers import serve

CREDENTIALS = {**MONEYBIRD_HEADERS, **MONITE_HEADERS}
GRAPHQL_RESPONSE = "application/graphql-response+json"
CONTACT = "query Contact($id: ID!) { contact(id: $id) { moneybirdId displayName } }"
DELETE = "mutation Delete($id: ID!) { deleteContact(id: $id) { deletedId } }"
TYPENAME = "query Typename { __typename }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}


def post(url: str, payload: Any, accept: str | None = None) -> httpx.Response:
    headers = {**CREDENTIALS, "content-type": "application/json"}
    if accept is not None:
        headers["accept"] = accept
    return httpx.post(f"{url}/graphql", content=orjson.dumps(payload), headers=headers)


def get(url: str, params: dict[str, Any], accept: str = "application/json") -> httpx.Response:
    encoded = {
        name: value if isinstance(value, str) else orjson.dumps(value).decode()
        for name, value in params.items()
    }
    return httpx.get(f"{url}/graphql", params=encoded, headers={**CREDENTIALS, "accept": accept})


def code(response: httpx.Response) -> str:
    [error] = response.json()["errors"]
    assert "data" not in response.json()
    return str(error["extensions"]["code"])


@pytest.fixture
def contact_id(sandbox: SandboxState) -> str:
    return next(iter(sandbox.moneybird.contacts))


@pytest.fixture
def fresh_url(sandbox_url: str) -> Iterator[str]:
    """A gateway of its own, so that no other test registered a text before."""
    with serve(create_app(gateway_settings(sandbox_url))) as url:
        yield url


# Automatic persisted queries


def test_an_unknown_hash_asks_for_the_text_then_the_hash_alone_runs(
    fresh_url: str, sandbox: SandboxState, contact_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    variables = {"id": contact_id}
    # given a client that sends the hash alone first
    first = post(fresh_url, {"variables": variables, "extensions": apq(CONTACT)})
    # then the gateway asks for the text, as Apollo Server does: 200 under application/json
    assert first.status_code == 200
    assert first.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    assert first.headers["cache-control"] == "no-store"
    assert sandbox.requests() == []
    # when the client sends hash and text, the query runs and the text is kept
    both = post(fresh_url, {"query": CONTACT, "variables": variables, "extensions": apq(CONTACT)})
    assert both.json()["data"]["contact"]["moneybirdId"] == contact_id
    # then the hash alone runs it from now on, and the log line names it
    with caplog.at_level(logging.INFO, logger="gateway.requests"):
        alone = post(fresh_url, {"variables": variables, "extensions": apq(CONTACT)})
    assert alone.json() == both.json()
    [record] = [r for r in caplog.records if r.name == "gateway.requests"]
    assert record.persisted == "apq"
    assert record.document_id == sha256(CONTACT)
    assert record.operation == "Contact"


def test_not_found_is_a_404_under_graphql_response_json(fresh_url: str) -> None:
    response = post(fresh_url, {"extensions": apq(TYPENAME)}, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert code(response) == "PERSISTED_QUERY_NOT_FOUND"


def test_apq_over_get(fresh_url: str, sandbox: SandboxState, contact_id: str) -> None:
    params = {
        "operationName": "Contact",
        "variables": {"id": contact_id},
        "extensions": apq(CONTACT),
    }
    assert code(get(fresh_url, params)) == "PERSISTED_QUERY_NOT_FOUND"
    registered = get(fresh_url, {**params, "query": CONTACT})
    assert registered.json()["data"]["contact"]["moneybirdId"] == contact_id
    alone = get(fresh_url, params)
    assert alone.status_code == 200
    assert alone.json() == registered.json()
    assert "etag" in alone.headers


def test_a_mutation_named_by_hash_over_get_is_405(
    fresh_url: str, sandbox: SandboxState, contact_id: str
) -> None:
    # given a mutation registered over POST (where it ran: the contact is gone)
    post(fresh_url, {"query": DELETE, "variables": {"id": contact_id}, "extensions": apq(DELETE)})
    sandbox.reset()
    # when a GET names it by hash alone, it is refused before it runs
    response = get(fresh_url, {"variables": {"id": contact_id}, "extensions": apq(DELETE)})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert sandbox.requests() == []


@pytest.mark.parametrize("accept", ["application/json", GRAPHQL_RESPONSE])
def test_a_hash_that_is_not_the_texts_is_a_400(
    gateway_url: str, sandbox: SandboxState, accept: str
) -> None:
    response = post(
        gateway_url, {"query": TYPENAME, "extensions": apq("{ __typename }")}, accept=accept
    )
    assert response.status_code == 400
    assert code(response) == "PERSISTED_QUERY_HASH_MISMATCH"


def test_a_text_is_not_kept_under_a_hash_that_is_not_its_own(fresh_url: str) -> None:
    post(fresh_url, {"query": TYPENAME, "extensions": apq("{ __typename }")})
    assert code(post(fresh_url, {"extensions": apq("{ __typename }")})) == (
        "PERSISTED_QUERY_NOT_FOUND"
    )


def test_an_invalid_text_is_not_kept(fresh_url: str) -> None:
    invalid = "query { nope }"
    assert code(post(fresh_url, {"query": invalid, "extensions": apq(invalid)})) == (
        "GRAPHQL_VALIDATION_FAILED"
    )
    assert code(post(fresh_url, {"extensions": apq(invalid)})) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    ("persisted", "message"),
    [
        ({"version": 2, "sha256Hash": "abc"}, "version"),
        ({"sha256Hash": "abc"}, "version"),
        ({"version": 1}, "sha256Hash"),
        ({"version": 1, "sha256Hash": 5}, "sha256Hash"),
        ("abc", "version"),
    ],
)
def test_a_malformed_persisted_query_is_a_400(
    gateway_url: str, persisted: Any, message: str
) -> None:
    response = post(gateway_url, {"extensions": {"persistedQuery": persisted}})
    assert response.status_code == 400
    assert code(response) == "BAD_REQUEST"
    assert message in response.json()["errors"][0]["message"]


def test_with_apq_off_clients_are_told_it_is_not_supported(sandbox_url: str) -> None:
    with serve(create_app(gateway_settings(sandbox_url, apq=False))) as url:
        response = post(url, {"extensions": apq(TYPENAME)})
        assert response.json()["errors"][0]["message"] == "PersistedQueryNotSupported"
        assert code(response) == "PERSISTED_QUERY_NOT_SUPPORTED"
        # and a text sent with its hash runs without being kept
        both = post(url, {"query": TYPENAME, "extensions": apq(TYPENAME)})
        assert both.json() == {"data": {"__typename": "Query"}}
        assert code(post(url, {"extensions": apq(TYPENAME)})) == "PERSISTED_QUERY_NOT_SUPPORTED"


def test_the_store_keeps_the_most_recently_used_texts_within_its_size() -> None:
    store = APQStore(max_bytes=100)
    store.put("a", "a" * 40)
    store.put("b", "b" * 40)
    assert store.get("a") == "a" * 40  # a is now the most recently used
    store.put("c", "c" * 40)
    assert store.get("b") is None
    assert store.get("a") == "a" * 40
    assert store.get("c") == "c" * 40
    store.put("huge", "h" * 101)
    assert store.get("huge") is None
    assert len(store) == 2


def test_the_store_is_bounded_end_to_end(sandbox_url: str) -> None:
    # given a store that holds about two small texts
    texts = [f"query Q{i} {{ __typename }}" + " " * 400 for i in range(3)]
    with serve(create_app(gateway_settings(sandbox_url, apq_cache_bytes=1_000))) as url:
        for text in texts:
            assert "data" in post(url, {"query": text, "extensions": apq(text)}).json()
        # then the oldest one left to make room
        assert code(post(url, {"extensions": apq(texts[0])})) == "PERSISTED_QUERY_NOT_FOUND"
        assert post(url, {"extensions": apq(texts[2])}).json() == {"data": {"__typename": "Query"}}


def test_document_id_names_a_registered_text(fresh_url: str) -> None:
    post(fresh_url, {"query": TYPENAME, "extensions": apq(TYPENAME)})
    response = post(fresh_url, {"documentId": f"sha256:{sha256(TYPENAME)}"})
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"documentId": "sha256:abc", "query": TYPENAME}, "not both"),
        ({"documentId": 5}, "documentId"),
        ({"doc_id": ""}, "doc_id"),
    ],
)
def test_malformed_document_ids_are_a_400(
    gateway_url: str, payload: dict[str, Any], message: str
) -> None:
    response = post(gateway_url, payload)
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]


def test_a_browser_get_naming_a_hash_is_not_sent_graphiql(fresh_url: str) -> None:
    response = httpx.get(
        f"{fresh_url}/graphql",
        params={"extensions": orjson.dumps(apq(TYPENAME)).decode()},
        headers={"accept": "*/*"},
    )
    assert response.headers["content-type"].startswith("application/json")
    assert code(response) == "PERSISTED_QUERY_NOT_FOUND"


# Trusted documents


def apollo_manifest(*texts: str) -> dict[str, Any]:
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": sha256(text), "body": text, "name": "Op", "type": "query"} for text in texts
        ],
    }


@pytest.fixture(scope="module")
def trusted_url(sandbox_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    manifest = tmp_path_factory.mktemp("manifest") / "persisted-query-manifest.json"
    manifest.write_text(json.dumps(apollo_manifest(CONTACT, TYPENAME)))
    settings = gateway_settings(
        sandbox_url, persisted_documents=manifest, trusted_documents_only=True
    )
    with serve(create_app(settings)) as url:
        yield url


@pytest.mark.parametrize(
    "payload",
    [
        {"extensions": apq(CONTACT)},
        {"documentId": f"sha256:{sha256(CONTACT)}"},
        {"documentId": sha256(CONTACT)},
        {"query": CONTACT},
        {"query": CONTACT, "extensions": apq(CONTACT)},
    ],
    ids=["apollo id", "documentId sha256", "documentId as listed", "text", "text and hash"],
)
def test_a_trusted_document_runs(
    trusted_url: str,
    sandbox: SandboxState,
    contact_id: str,
    payload: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="gateway.requests"):
        response = post(trusted_url, {**payload, "variables": {"id": contact_id}})
    assert response.json()["data"]["contact"]["moneybirdId"] == contact_id
    [record] = [r for r in caplog.records if r.name == "gateway.requests"]
    assert record.persisted == "trusted"


@pytest.mark.parametrize(
    ("payload", "expected", "status"),
    [
        ({"extensions": apq(DELETE)}, "PERSISTED_QUERY_NOT_IN_LIST", 404),
        ({"documentId": "sha256:" + sha256(DELETE)}, "PERSISTED_QUERY_NOT_IN_LIST", 404),
        ({"doc_id": "5f1d2c"}, "PERSISTED_QUERY_NOT_IN_LIST", 404),
        ({"query": DELETE}, "QUERY_NOT_IN_SAFELIST", 403),
        ({"query": DELETE, "extensions": apq(DELETE)}, "QUERY_NOT_IN_SAFELIST", 403),
        ({"query": CONTACT + " "}, "QUERY_NOT_IN_SAFELIST", 403),
    ],
    ids=["apollo id", "documentId", "doc_id", "text", "registration", "a text almost listed"],
)
def test_anything_else_is_refused_before_it_runs(
    trusted_url: str,
    sandbox: SandboxState,
    contact_id: str,
    payload: dict[str, Any],
    expected: str,
    status: int,
) -> None:
    payload = {**payload, "variables": {"id": contact_id}}
    legacy = post(trusted_url, payload)
    current = post(trusted_url, payload, accept=GRAPHQL_RESPONSE)
    assert (legacy.status_code, code(legacy)) == (200, expected)
    assert (current.status_code, code(current)) == (status, expected)
    # nothing was registered either
    assert code(post(trusted_url, {"extensions": apq(DELETE)})) == "PERSISTED_QUERY_NOT_IN_LIST"
    assert sandbox.requests() == []


def test_relay_doc_id_from_a_relay_map(
    sandbox_url: str, sandbox: SandboxState, contact_id: str, tmp_path: Path
) -> None:
    manifest = tmp_path / "persisted_queries.json"
    manifest.write_text(json.dumps({"3be4abb81fa595e25eb725b2c6a87508": CONTACT}))
    settings = gateway_settings(sandbox_url, persisted_documents=manifest)
    with serve(create_app(settings)) as url:
        response = post(
            url, {"doc_id": "3be4abb81fa595e25eb725b2c6a87508", "variables": {"id": contact_id}}
        )
        assert response.json()["data"]["contact"]["moneybirdId"] == contact_id
        # without GATEWAY_TRUSTED_DOCUMENTS_ONLY other texts run too
        assert post(url, {"query": TYPENAME}).json() == {"data": {"__typename": "Query"}}


def test_trusted_documents_only_needs_a_manifest() -> None:
    with pytest.raises(ValueError, match="GATEWAY_PERSISTED_DOCUMENTS"):
        Settings.model_validate({"trusted_documents_only": True})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "JSON object"),
        (b'{"format": "apollo-persisted-query-manifest", "version": 2}', "version 2"),
        (
            b'{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{}]}',
            "operation 0",
        ),
        (b'{"abc": 5}', "map of ids"),
    ],
)
def test_a_manifest_that_cannot_be_read_stops_the_start(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_bytes(content)
    with pytest.raises(ManifestError, match=message):
        load_manifest(path)
    with pytest.raises(ManifestError, match="No such file"):
        load_manifest(tmp_path / "missing.json")


def test_both_manifest_formats_give_text_by_id(tmp_path: Path) -> None:
    apollo = tmp_path / "apollo.json"
    apollo.write_text(json.dumps(apollo_manifest(TYPENAME)))
    relay = tmp_path / "relay.json"
    relay.write_text(json.dumps({"abc": TYPENAME}))
    assert load_manifest(apollo) == {sha256(TYPENAME): TYPENAME}
    assert load_manifest(relay) == {"abc": TYPENAME}


def test_the_settings_read_their_documented_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GATEWAY_PERSISTED_DOCUMENTS", str(tmp_path / "manifest.json"))
    monkeypatch.setenv("GATEWAY_TRUSTED_DOCUMENTS_ONLY", "true")
    monkeypatch.setenv("GATEWAY_APQ", "false")
    monkeypatch.setenv("GATEWAY_APQ_CACHE_BYTES", "2000")
    settings = Settings()
    assert settings.persisted_documents == tmp_path / "manifest.json"
    assert settings.trusted_documents_only
    assert not settings.apq
    assert settings.apq_cache_bytes == 2000

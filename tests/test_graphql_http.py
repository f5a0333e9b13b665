"""GraphQL over HTTP at /graphql: request errors, media types and methods, as the
GraphQL-over-HTTP spec says; what caches may keep; CORS. Over real HTTP against
the sandbox."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from gateway.app import create_app
from gateway.sandbox.state import SandboxState
from gateway.settings import Settings
from tests.conftest import MONEYBIRD_HEADERS, MONITE_HEADERS, gateway_settings
from tests.servers import serve

CREDENTIALS = {**MONEYBIRD_HEADERS, **MONITE_HEADERS}
GRAPHQL_RESPONSE = "application/graphql-response+json"
TWO_OPERATIONS = 'query A { contact(id: "1") { id } } query B { contact(id: "2") { id } }'


def post(url: str, payload: Any, accept: str | None = None, **headers: str) -> httpx.Response:
    extra = {"accept": accept} if accept is not None else {}
    return httpx.post(
        f"{url}/graphql",
        content=orjson.dumps(payload),
        headers={**CREDENTIALS, "content-type": "application/json", **extra, **headers},
    )


@pytest.mark.parametrize(
    ("payload", "code", "message"),
    [
        ({"query": TWO_OPERATIONS}, "OPERATION_RESOLUTION_FAILURE", "Must provide operation name"),
        (
            {"query": TWO_OPERATIONS, "operationName": "C"},
            "OPERATION_RESOLUTION_FAILURE",
            "Unknown operation named 'C'.",
        ),
        ({"query": "{ contact(id: "}, "GRAPHQL_PARSE_FAILED", "Syntax Error"),
        ({"query": '{ contact(id: "1") { nope } }'}, "GRAPHQL_VALIDATION_FAILED", "nope"),
        (
            {"query": "query($id: ID!) { contact(id: $id) { id } }", "variables": {"id": [1]}},
            "BAD_USER_INPUT",
            "$id",
        ),
        (
            {"query": "query($id: ID!) { contact(id: $id) { id } }"},
            "BAD_USER_INPUT",
            "to be provided",
        ),
    ],
    ids=["no operation name", "unknown operation", "syntax", "validation", "variable", "missing"],
)
def test_request_errors_have_a_code_and_no_data(
    gateway_url: str, sandbox: SandboxState, payload: dict[str, Any], code: str, message: str
) -> None:
    legacy = post(gateway_url, payload)
    current = post(gateway_url, payload, accept=GRAPHQL_RESPONSE)
    # application/json answers every well-formed request with 200; the newer media
    # type answers a request error with 400
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json; charset=utf-8"
    assert current.status_code == 400
    assert current.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    for response in (legacy, current):
        body = response.json()
        assert "data" not in body
        [error] = body["errors"]
        assert error["extensions"]["code"] == code
        assert message in error["message"]
    assert sandbox.requests() == []


@pytest.mark.parametrize("name", ["variables", "extensions", "operationName"])
@pytest.mark.parametrize("value", ["a string", 5, True, ["a", "list"]])
def test_parameters_of_the_wrong_type_are_a_400(
    gateway_url: str, sandbox: SandboxState, name: str, value: Any
) -> None:
    if name == "operationName" and isinstance(value, str):
        return  # a string is what operationName should be
    response = post(gateway_url, {"query": '{ contact(id: "1") { id } }', name: value})
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert name in body["errors"][0]["message"]
    assert sandbox.requests() == []


def test_a_named_operation_among_several_runs(gateway_url: str, sandbox: SandboxState) -> None:
    contact_id = next(iter(sandbox.moneybird.contacts))
    query = (
        "query A { counterparts(first: 1) { edges { node { id } } } }"
        f' query B {{ contact(id: "{contact_id}") {{ moneybirdId }} }}'
    )
    body = post(gateway_url, {"query": query, "operationName": "B"}).json()
    assert body == {"data": {"contact": {"moneybirdId": contact_id}}}
    assert sandbox.requests("monite") == []


def test_a_mutation_over_get_is_405(gateway_url: str, sandbox: SandboxState) -> None:
    response = httpx.get(
        f"{gateway_url}/graphql",
        params={"query": 'mutation { deleteContact(id: "1") { deletedId } }'},
        headers={**CREDENTIALS, "accept": "application/json"},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert sandbox.requests() == []


def test_a_query_over_get(gateway_url: str, sandbox: SandboxState) -> None:
    contact_id = next(iter(sandbox.moneybird.contacts))
    response = httpx.get(
        f"{gateway_url}/graphql",
        params={
            "query": "query($id: ID!) { contact(id: $id) { moneybirdId } }",
            "variables": orjson.dumps({"id": contact_id}).decode(),
        },
        headers={**CREDENTIALS, "accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"contact": {"moneybirdId": contact_id}}}


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.9", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0, application/json", "application/json"),
    ],
)
def test_the_answer_follows_the_accept_header(
    gateway_url: str, sandbox: SandboxState, accept: str | None, media_type: str
) -> None:
    response = post(gateway_url, {"query": "{ __typename }"}, accept=accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert response.json() == {"data": {"__typename": "Query"}}


def test_an_unacceptable_media_type_is_406(gateway_url: str, sandbox: SandboxState) -> None:
    response = post(gateway_url, {"query": "{ __typename }"}, accept="text/csv")
    assert response.status_code == 406
    assert sandbox.requests() == []


def test_a_body_that_is_not_json_is_a_400(gateway_url: str, sandbox: SandboxState) -> None:
    response = httpx.post(
        f"{gateway_url}/graphql",
        content=b"{not json",
        headers={**CREDENTIALS, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert sandbox.requests() == []


def test_a_body_that_is_not_json_media_type_is_415(gateway_url: str, sandbox: SandboxState) -> None:
    response = httpx.post(
        f"{gateway_url}/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={**CREDENTIALS, "content-type": "text/plain"},
    )
    assert response.status_code == 415
    assert sandbox.requests() == []


def test_a_body_without_query_is_a_400(gateway_url: str, sandbox: SandboxState) -> None:
    response = post(gateway_url, {"variables": {}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "No GraphQL query found in the request."


# What HTTP caches may do with an answer

VARY = {
    "accept",
    "x-moneybird-token",
    "x-moneybird-administration-id",
    "x-monite-token",
    "x-monite-entity-id",
}


def vary(response: httpx.Response) -> set[str]:
    return {name.strip().lower() for name in response.headers["vary"].split(",")}


def get(url: str, query: str, **headers: str) -> httpx.Response:
    return httpx.get(
        f"{url}/graphql",
        params={"query": query},
        headers={**CREDENTIALS, "accept": "application/json", **headers},
    )


def test_a_get_query_may_be_kept_privately_and_revalidated(
    gateway_url: str, sandbox: SandboxState
) -> None:
    contact_id = next(iter(sandbox.moneybird.contacts))
    query = f'{{ contact(id: "{contact_id}") {{ id }} }}'
    # given a first answer with its ETag
    first = get(gateway_url, query)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, no-cache"
    assert vary(first) == VARY
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    # when the client asks again with it, the answer is the same: 304 without a body
    again = get(gateway_url, query, **{"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "private, no-cache"
    assert vary(again) == VARY
    # a weak comparison, as If-None-Match asks for, and a list of tags match too
    weak = get(gateway_url, query, **{"if-none-match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    # then once the answer changes, the client gets it whole
    sandbox.moneybird.contacts.pop(contact_id)
    changed = get(gateway_url, query, **{"if-none-match": etag})
    assert changed.status_code == 200
    assert changed.json() == {"data": {"contact": None}}
    assert changed.headers["etag"] != etag


def test_the_etag_is_the_bodys_sha256(gateway_url: str, sandbox: SandboxState) -> None:
    response = get(gateway_url, "{ __typename }")
    digest = hashlib.sha256(response.content).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert response.headers["etag"] == f'"{expected}"'


def test_a_get_answer_with_errors_is_not_kept(gateway_url: str, sandbox: SandboxState) -> None:
    response = httpx.get(
        f"{gateway_url}/graphql",
        params={"query": '{ contact(id: "1") { id } }'},
        headers={"accept": "application/json"},  # no credentials: UNAUTHENTICATED
    )
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "send",
    [
        lambda url: post(url, {"query": "{ __typename }"}),
        lambda url: post(url, [{"query": "{ __typename }"}]),
        lambda url: post(url, {"query": "{"}, accept=GRAPHQL_RESPONSE),
        lambda url: post(url, {"variables": {}}),
        lambda url: post(url, {"query": "{ __typename }"}, accept="text/csv"),
        lambda url: get(url, 'mutation { deleteContact(id: "1") { deletedId } }'),
        lambda url: get(url, "{"),
    ],
    ids=["post", "batch", "request error", "not well-formed", "406", "405", "get request error"],
)
def test_every_other_answer_is_not_kept(gateway_url: str, sandbox: SandboxState, send: Any) -> None:
    response = send(gateway_url)
    assert response.headers["cache-control"] == "no-store"
    assert vary(response) == VARY
    assert "etag" not in response.headers


def test_graphiql_varies_on_accept(gateway_url: str) -> None:
    response = httpx.get(f"{gateway_url}/graphql", headers={"accept": "text/html"})
    assert response.headers["content-type"].startswith("text/html")
    assert "accept" in vary(response)


# CORS

DEFAULT_ALLOWED_HEADERS = (
    "content-type",
    "x-moneybird-token",
    "x-moneybird-administration-id",
    "x-monite-token",
    "x-monite-entity-id",
    "x-request-id",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "traceparent",
    "tracestate",
    "baggage",
    "sentry-trace",
)


@pytest.fixture(scope="module")
def cors_url(sandbox_url: str) -> Iterator[str]:
    settings = gateway_settings(sandbox_url, cors_origins="https://app.example.com")
    with serve(create_app(settings)) as url:
        yield url


def preflight(url: str, origin: str, headers: str) -> httpx.Response:
    return httpx.options(
        f"{url}/graphql",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": headers,
        },
    )


def test_a_preflight_may_ask_for_the_client_tracing_and_credential_headers(
    cors_url: str,
) -> None:
    response = preflight(cors_url, "https://app.example.com", ",".join(DEFAULT_ALLOWED_HEADERS))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
    assert allowed >= set(DEFAULT_ALLOWED_HEADERS)
    assert preflight(cors_url, "https://evil.example", "content-type").status_code == 400


def test_a_header_off_the_list_is_refused(cors_url: str) -> None:
    response = preflight(cors_url, "https://app.example.com", "content-type,x-something-else")
    assert response.status_code == 400


def test_the_allowed_headers_are_a_setting(sandbox_url: str) -> None:
    settings = gateway_settings(
        sandbox_url,
        cors_origins="https://app.example.com",
        cors_allow_headers="Content-Type, X-Moneybird-Token, X-Custom",
    )
    with serve(create_app(settings)) as url:
        assert preflight(url, "https://app.example.com", "x-custom").status_code == 200
        assert preflight(url, "https://app.example.com", "traceparent").status_code == 400


def test_a_cross_origin_answer_exposes_request_id_and_etag(cors_url: str) -> None:
    response = httpx.get(
        f"{cors_url}/graphql",
        params={"query": "{ __typename }"},
        headers={"origin": "https://app.example.com", "accept": "application/json"},
    )
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "etag"} <= exposed
    assert "origin" in vary(response)


def test_the_allowed_headers_are_read_from_their_documented_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_CORS_ALLOW_HEADERS", "Content-Type, X-Custom")
    assert Settings().cors_allow_header_list == ["content-type", "x-custom"]

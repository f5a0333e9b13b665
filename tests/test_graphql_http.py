"""GraphQL over HTTP at /graphql: request errors, media types and methods, as the
GraphQL-over-HTTP spec says, over real HTTP against the sandbox."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from gateway.sandbox.state import SandboxState
from tests.conftest import MONEYBIRD_HEADERS, MONITE_HEADERS

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
        f' query B {{ contact(id: "{contact_id}") {{ id }} }}'
    )
    body = post(gateway_url, {"query": query, "operationName": "B"}).json()
    assert body == {"data": {"contact": {"id": contact_id}}}
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
            "query": "query($id: ID!) { contact(id: $id) { id } }",
            "variables": orjson.dumps({"id": contact_id}).decode(),
        },
        headers={**CREDENTIALS, "accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"contact": {"id": contact_id}}}


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

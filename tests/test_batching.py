"""Batched requests over real HTTP: a JSON array of operations, answered by an array
of results in the same order, sharing the request's loaders. Apollo's
BatchHttpLink itself runs in tests/clients."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from gateway.sandbox.state import SandboxState
from gateway.settings import Settings
from tests.conftest import MONEYBIRD_HEADERS, MONITE_HEADERS

CREDENTIALS = {**MONEYBIRD_HEADERS, **MONITE_HEADERS}
GRAPHQL_RESPONSE = "application/graphql-response+json"
CONTACT = "query Contact($id: ID!) { contact(id: $id) { moneybirdId firstname } }"
RENAME = (
    "mutation Rename($id: ID!, $name: String!) {"
    " updateContact(id: $id, input: { firstname: $name }) { contact { firstname } } }"
)


def post(url: str, payload: Any, accept: str | None = None) -> httpx.Response:
    headers = {**CREDENTIALS, "content-type": "application/json"}
    if accept is not None:
        headers["accept"] = accept
    return httpx.post(f"{url}/graphql", content=orjson.dumps(payload), headers=headers)


def contact_ids(sandbox: SandboxState, count: int) -> list[str]:
    return list(sandbox.moneybird.contacts)[:count]


def test_a_batch_is_answered_in_order_with_one_upstream_call(
    gateway_url: str, sandbox: SandboxState
) -> None:
    # given five contact lookups in one batch
    ids = contact_ids(sandbox, 5)
    batch = [{"query": CONTACT, "variables": {"id": contact_id}} for contact_id in ids]
    # when they are sent together
    response = post(gateway_url, batch)
    # then each result answers its own operation, in order
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    results = response.json()
    assert [result["data"]["contact"]["moneybirdId"] for result in results] == ids
    # and the operations shared the request's loaders: one upstream call for all five
    assert len(sandbox.requests("moneybird")) == 1


def test_mutations_run_in_the_order_of_the_batch(gateway_url: str, sandbox: SandboxState) -> None:
    [contact_id] = contact_ids(sandbox, 1)
    read = {"query": CONTACT, "variables": {"id": contact_id}}

    def rename(name: str) -> dict[str, Any]:
        return {"query": RENAME, "variables": {"id": contact_id, "name": name}}

    response = post(gateway_url, [read, rename("Ada"), read, rename("Grace"), read])
    names = [
        result["data"].get("contact", result["data"].get("updateContact", {}).get("contact"))
        for result in response.json()
    ]
    before = names[0]["firstname"]
    assert [name["firstname"] for name in names] == [before, "Ada", "Ada", "Grace", "Grace"]
    assert sandbox.moneybird.contacts[contact_id]["firstname"] == "Grace"


def test_one_failing_operation_leaves_the_others_their_answers(
    gateway_url: str, sandbox: SandboxState
) -> None:
    [contact_id] = contact_ids(sandbox, 1)
    batch = [
        {"query": CONTACT, "variables": {"id": contact_id}},
        {"query": "{ contact(id: "},
        {"query": "{ __typename }"},
    ]
    legacy = post(gateway_url, batch)
    current = post(gateway_url, batch, accept=GRAPHQL_RESPONSE)
    # as Apollo Server: 200 under application/json; under the newer media type the
    # batch takes the status of its request error
    assert legacy.status_code == 200
    assert current.status_code == 400
    assert current.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    for response in (legacy, current):
        first, broken, last = response.json()
        assert first["data"]["contact"]["moneybirdId"] == contact_id
        assert "data" not in broken
        assert broken["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
        assert last == {"data": {"__typename": "Query"}}


def test_a_batch_of_queries_is_a_200_under_graphql_response_json(gateway_url: str) -> None:
    response = post(gateway_url, [{"query": "{ __typename }"}] * 2, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert response.json() == [{"data": {"__typename": "Query"}}] * 2


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([], "at least one operation"),
        ([{"query": "{ __typename }"}, "a string"], "Operation 1 of the batch: must be a JSON"),
        ([{"query": "{ __typename }"}, {"query": 5}], "Operation 1 of the batch: `query`"),
        ([{"query": "{ __typename }"}, {}], "Operation 1 of the batch: No GraphQL query"),
    ],
)
def test_a_batch_with_an_unreadable_operation_is_refused_whole(
    gateway_url: str, sandbox: SandboxState, batch: list[Any], message: str
) -> None:
    response = post(gateway_url, batch)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert message in error["message"]
    assert sandbox.requests() == []


def test_a_batch_over_the_cap_is_refused_before_anything_runs(
    gateway_url: str, sandbox: SandboxState
) -> None:
    ids = contact_ids(sandbox, 11)
    batch = [{"query": CONTACT, "variables": {"id": contact_id}} for contact_id in ids]
    response = post(gateway_url, batch, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BATCH_LIMIT_EXCEEDED"
    assert "at most 10 operations" in error["message"]
    assert sandbox.requests() == []
    # ten are fine
    assert len(post(gateway_url, batch[:10]).json()) == 10


def test_the_cap_is_read_from_its_documented_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_MAX_BATCH_SIZE", "25")
    assert Settings().max_batch_size == 25

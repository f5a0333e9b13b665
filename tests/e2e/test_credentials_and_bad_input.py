"""Credentials and bad input: clear errors and no upstream call."""

from __future__ import annotations

import pytest

from gateway.sandbox.state import SandboxState
from tests.conftest import GraphQLClient, calls


def test_no_token_is_unauthenticated_without_a_call(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post('{ contact(id: "1") { id } }', headers={})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "X-Moneybird-Token" in error["message"]
    assert calls(sandbox) == []


def test_the_monite_token_is_not_a_moneybird_token(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post('{ contact(id: "1") { id } }', headers={"X-Monite-Token": "m"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert calls(sandbox) == []


def test_a_query_needing_no_upstream_needs_no_token(gateway: GraphQLClient) -> None:
    assert gateway.post("{ __typename }", headers={}) == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "bad_id", ["abc", "12a", "-1", "1.5", "1e10", "../1", "1/2", " 1", "", "9" * 20]
)
def test_an_id_that_is_not_a_moneybird_id_is_bad_input(
    gateway: GraphQLClient, sandbox: SandboxState, bad_id: str
) -> None:
    body = gateway.post("query($id: ID!) { contact(id: $id) { id } }", {"id": bad_id})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "id"}
    assert calls(sandbox) == []


def test_one_bad_id_in_a_list_fails_the_list_before_any_call(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post(
        "query($ids: [ID!]!) { contactsByIds(ids: $ids) { id } }", {"ids": ["1", "2", "x"]}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert calls(sandbox) == []


@pytest.mark.parametrize("first", [0, -1, 101, 1000])
def test_first_out_of_range_is_bad_input(
    gateway: GraphQLClient, sandbox: SandboxState, first: int
) -> None:
    body = gateway.post(
        "query($first: Int) { contacts(first: $first) { edges { cursor } } }", {"first": first}
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}
    assert calls(sandbox) == []


@pytest.mark.parametrize("cursor", ["garbage", "Y291bnRlcnBhcnQ6MQ==", "Y29udGFjdDp4"])
def test_a_foreign_cursor_is_bad_input(
    gateway: GraphQLClient, sandbox: SandboxState, cursor: str
) -> None:
    body = gateway.post(
        "query($after: String) { contacts(after: $after) { edges { cursor } } }",
        {"after": cursor},
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}
    assert calls(sandbox) == []


def test_too_many_ids_is_bad_input(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    body = gateway.post(
        "query($ids: [ID!]!) { contactsByIds(ids: $ids) { id } }",
        {"ids": [str(n) for n in range(1, 1002)]},
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "ids"}
    assert calls(sandbox) == []


def test_a_malformed_administration_header_is_bad_input(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    body = gateway.post(
        '{ contact(id: "1") { id } }',
        headers={"X-Moneybird-Token": "t", "X-Moneybird-Administration-Id": "1/../2"},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert calls(sandbox) == []


def test_a_rejected_token_is_unauthenticated_and_never_echoed(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    # given the upstream refuses the token
    sandbox.faults["moneybird"].fail_next(
        status=401, body={"error": "No or invalid authorization token provided"}
    )
    # when
    body = gateway.post('{ contact(id: "1") { id } }', headers={"X-Moneybird-Token": "s3cr3t"})
    # then
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "s3cr3t" not in str(body)


def test_an_invalid_query_is_a_validation_error(gateway: GraphQLClient) -> None:
    body = gateway.post("{ contact(id: 1) { nope } }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

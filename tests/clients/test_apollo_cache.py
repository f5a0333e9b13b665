"""Apollo Client's InMemoryCache against the gateway, set up as the README says:
every object normalized under its own id, pages merged by relayStylePagination
over both connections, and one upstream failing under errorPolicy "all"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.ids import global_id
from gateway.sandbox.state import SandboxState
from tests.clients.node import run_script


def custom_fields(contact: dict[str, Any]) -> list[dict[str, Any]]:
    """As the gateway serves them: Moneybird's empty strings are null."""
    return [
        {
            "__typename": "CustomField",
            "moneybirdId": f["id"],
            "name": f["name"] or None,
            "value": f["value"] or None,
        }
        for f in contact["custom_fields"]
    ]


def test_each_contact_keeps_its_own_values_in_the_cache(
    gateway_url: str, sandbox: SandboxState
) -> None:
    # given 20 contacts whose custom fields are the same fields with other values
    contacts = list(sandbox.moneybird.contacts.values())[:20]
    assert len({json.dumps(custom_fields(c)) for c in contacts}) > 1
    # when they are read into one cache, and the list of versions after them
    report = run_script(
        "src/apollo-cache.mjs",
        f"{gateway_url}/graphql",
        "normalization",
        json.dumps([c["id"] for c in contacts]),
    )
    # then readFragment finds each contact with its own values and its own version
    assert [cached["id"] for cached in report["contacts"]] == [
        global_id("Contact", c["id"]) for c in contacts
    ]
    for cached, contact in zip(report["contacts"], contacts, strict=True):
        assert cached["customFields"] == custom_fields(contact), contact["id"]
        assert cached["version"] == contact["version"]
    # custom fields and versions are values kept inside what holds them
    assert report["typesKept"] == ["Contact", "ROOT_QUERY"]


def test_three_pages_of_both_connections_hold_every_item_once(
    gateway_url: str, sandbox: SandboxState
) -> None:
    report = run_script("src/apollo-cache.mjs", f"{gateway_url}/graphql", "pagination", "5")
    visible = [c["id"] for c in sandbox.moneybird.contacts.values() if not c["archived"]]
    counterparts = list(sandbox.monite.counterparts)
    assert [node["moneybirdId"] for node in report["contacts"]["pages"]] == visible[:15]
    assert [node["moniteId"] for node in report["counterparts"]["pages"]] == counterparts[:15]
    assert report["contacts"]["hasNextPage"]
    assert report["counterparts"]["hasNextPage"]
    # fetchMore after the seventh counterpart: relayStylePagination keeps the edges
    # up to it and puts the page after it behind them
    after_middle = [node["moniteId"] for node in report["counterparts"]["afterMiddle"]]
    assert after_middle == counterparts[:12]
    assert report["requests"] == 3 + 3 + 1


@pytest.mark.parametrize("failure", ["no Monite token", "Monite answers 503"])
def test_with_error_policy_all_one_upstream_failing_leaves_the_others_data(
    gateway_url: str, sandbox: SandboxState, failure: str
) -> None:
    if failure == "Monite answers 503":
        sandbox.faults["monite"].add_rule("counterparts", status=503)
        how = "with-tokens"
    else:
        how = "no-monite-token"
    report = run_script("src/apollo-cache.mjs", f"{gateway_url}/graphql", "errors", how)
    contacts = report["data"]["contacts"]["edges"]
    assert [edge["node"]["displayName"] for edge in contacts] == [
        c["company_name"] or f"{c['firstname']} {c['lastname']}"
        for c in list(sandbox.moneybird.contacts.values())[:3]
    ]
    # relayStylePagination reads a connection that came back null as an empty one;
    # the error says why
    assert report["data"]["counterparts"]["edges"] == []
    [error] = report["errors"]
    assert error["path"] == ["counterparts"]
    assert error["upstream"] == "Monite"
    assert error["code"] == (
        "UNAUTHENTICATED" if failure == "no Monite token" else "UPSTREAM_UNAVAILABLE"
    )

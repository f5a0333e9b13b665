"""urql with graphcache, its normalized cache, against the gateway, set up as the
README says: every object under its own id with no warning from graphcache,
relayPagination over both connections, one upstream failing beside the other."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.sandbox.state import SandboxState
from tests.clients.node import run_script


def test_each_contact_keeps_its_own_values_in_the_cache(
    gateway_url: str, sandbox: SandboxState
) -> None:
    contacts = list(sandbox.moneybird.contacts.values())[:20]
    report = run_script(
        "src/urql-graphcache.mjs",
        f"{gateway_url}/graphql",
        "normalization",
        json.dumps([c["id"] for c in contacts]),
    )
    cached: list[dict[str, Any]] = report["contacts"]
    assert [c["moneybirdId"] for c in cached] == [c["id"] for c in contacts]
    for read, contact in zip(cached, contacts, strict=True):
        assert read["version"] == contact["version"]
        assert read["customFields"] == [
            {"moneybirdId": f["id"], "name": f["name"] or None, "value": f["value"] or None}
            for f in contact["custom_fields"]
        ]
    # the contacts and the versions list, then the read from the cache alone
    assert report["requests"] == 2
    assert report["warnings"] == []


def test_three_pages_of_both_connections_hold_every_item_once(
    gateway_url: str, sandbox: SandboxState
) -> None:
    report = run_script("src/urql-graphcache.mjs", f"{gateway_url}/graphql", "pagination", "5")
    visible = [c["id"] for c in sandbox.moneybird.contacts.values() if not c["archived"]]
    assert [node["moneybirdId"] for node in report["contacts"]["pages"]] == visible[:15]
    assert [node["moniteId"] for node in report["counterparts"]["pages"]] == list(
        sandbox.monite.counterparts
    )[:15]
    assert report["warnings"] == []


@pytest.mark.parametrize("failure", ["no Monite token", "Monite answers 503"])
def test_one_upstream_failing_leaves_the_others_data(
    gateway_url: str, sandbox: SandboxState, failure: str
) -> None:
    if failure == "Monite answers 503":
        sandbox.faults["monite"].add_rule("counterparts", status=503)
        how = "with-tokens"
    else:
        how = "no-monite-token"
    report = run_script("src/urql-graphcache.mjs", f"{gateway_url}/graphql", "errors", how)
    assert len(report["data"]["contacts"]["edges"]) == 3
    assert report["data"]["counterparts"] is None
    [error] = report["errors"]
    assert (error["path"], error["upstream"]) == (["counterparts"], "Monite")

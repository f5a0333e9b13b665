"""Apollo Client's BatchHttpLink against the gateway: operations started together
travel as one JSON array and share the request's loaders."""

from __future__ import annotations

import json

from gateway.ids import global_id
from gateway.sandbox.state import SandboxState
from tests.clients.node import run_script


def test_batch_http_link(gateway_url: str, sandbox: SandboxState) -> None:
    ids = list(sandbox.moneybird.contacts)[:5]
    report = run_script("src/apollo-batch.mjs", f"{gateway_url}/graphql", json.dumps(ids))
    # five reads started together: one HTTP request, each read its own contact
    assert [contact["id"] for contact in report["contacts"]] == [
        global_id("Contact", contact_id) for contact_id in ids
    ]
    reads, sequence = report["requests"]
    assert reads["operations"] == ["BatchContact"] * 5
    assert reads["status"] == 200
    assert reads["contentType"] == "application/graphql-response+json; charset=utf-8"
    # and one upstream call for the five, as the operations shared the request's
    # loaders; the renames cost one call each, the reads after them none
    calls = [(call.method, call.path.rsplit("/", 1)[-1], call.body) for call in sandbox.requests()]
    assert calls == [
        ("POST", "synchronization.json", {"ids": [int(contact_id) for contact_id in ids]}),
        ("PATCH", f"{ids[0]}.json", {"contact": {"firstname": "Ada"}}),
        ("PATCH", f"{ids[0]}.json", {"contact": {"firstname": "Grace"}}),
    ]
    # mutations ran in the batch's order, and each read saw the renames before it
    assert sequence["operations"] == ["BatchRename", "BatchContact"] * 2
    assert report["sequence"] == ["Ada", "Ada", "Grace", "Grace"]

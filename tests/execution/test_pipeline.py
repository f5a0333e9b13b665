"""Every request goes through one pipeline; the executor it ran on is in its log line.

Two gateways over one sandbox: one as configured by default (the planned
executor, which falls back to graphql-core's for what its planner does not
cover), one with GATEWAY_EXECUTOR=graphql-core. Each case is sent to both from
the same sandbox state: status, body and upstream calls must be the same.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.sandbox.state import SandboxState
from tests.conftest import MONEYBIRD_HEADERS, MONITE_HEADERS, gateway_settings
from tests.servers import serve

CREDENTIALS = {**MONEYBIRD_HEADERS, **MONITE_HEADERS}
FIRST_CONTACT = "query($id: ID!) { contact(id: $id) { id displayName email notes { note } } }"

# (case, payload, headers, upstream fault, executor named in the log line)
CASES: list[tuple[str, dict[str, Any], dict[str, str], tuple[str, int] | None, str | None]] = [
    ("a contact", {"query": FIRST_CONTACT}, CREDENTIALS, None, "planned"),
    (
        "two operations, one chosen",
        {
            "query": "query A { counterparts(first: 2) { edges { node { name } } } }"
            " query B { contacts(first: 2) { edges { node { id email } } } }",
            "operationName": "B",
        },
        CREDENTIALS,
        None,
        "planned",
    ),
    (
        "an upstream refusing the token",
        {"query": FIRST_CONTACT},
        CREDENTIALS,
        ("moneybird", 401),
        "planned",
    ),
    ("no token", {"query": FIRST_CONTACT}, {}, None, "planned"),
    ("introspection", {"query": "{ __schema { queryType { name } } }"}, {}, None, "graphql-core"),
    ("a syntax error", {"query": "query { contact(id: "}, CREDENTIALS, None, None),
    ("a validation error", {"query": "{ contact(id: 1) { nope } }"}, CREDENTIALS, None, None),
    (
        "variables of the wrong type",
        {"query": FIRST_CONTACT, "variables": {"id": ["1"]}},
        CREDENTIALS,
        None,
        None,
    ),
    (
        "an unknown operation",
        {"query": FIRST_CONTACT, "operationName": "Nope"},
        CREDENTIALS,
        None,
        None,
    ),
    (
        "a mutation",
        {
            "query": 'mutation { addContactNote(contactId: "1", input: {note: "x"}) { userErrors { code } } }'
        },
        CREDENTIALS,
        None,
        "graphql-core",
    ),
    ("not an object", {"query": 5}, CREDENTIALS, None, None),
]


@pytest.fixture(scope="module")
def reference_url(sandbox_url: str) -> Iterator[str]:
    with serve(create_app(gateway_settings(sandbox_url, executor="graphql-core"))) as url:
        yield url


def _send(
    url: str,
    sandbox: SandboxState,
    payload: dict[str, Any],
    headers: dict[str, str],
    fault: tuple[str, int] | None,
) -> tuple[int, str, list[tuple[str, str]]]:
    sandbox.log.wait_idle(10)
    sandbox.reset()
    if fault is not None:
        sandbox.faults[fault[0]].fail_next(1, status=fault[1])
    response = httpx.post(f"{url}/graphql", json=payload, headers=headers, timeout=30)
    upstream = [
        (r.method, r.path) for r in sandbox.requests("moneybird") + sandbox.requests("monite")
    ]
    return response.status_code, response.text, upstream


@pytest.mark.parametrize(
    ("case", "payload", "headers", "fault", "executor"), CASES, ids=[c[0] for c in CASES]
)
def test_both_executors_answer_alike(
    case: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    fault: tuple[str, int] | None,
    executor: str | None,
    gateway_url: str,
    reference_url: str,
    sandbox: SandboxState,
    caplog: pytest.LogCaptureFixture,
) -> None:
    payload = {
        **payload,
        "variables": payload.get("variables", {"id": next(iter(sandbox.moneybird.contacts))}),
    }
    with caplog.at_level(logging.INFO, logger="gateway.requests"):
        ours = _send(gateway_url, sandbox, payload, headers, fault)
        reference = _send(reference_url, sandbox, payload, headers, fault)
    assert ours == reference
    logged = [getattr(r, "executor", "-") for r in caplog.records if r.name == "gateway.requests"]
    if payload["query"] == 5:
        assert logged == []  # not a GraphQL request: nothing ran
    else:
        reference_executor = None if executor is None else "graphql-core"
        assert logged == [executor, reference_executor]

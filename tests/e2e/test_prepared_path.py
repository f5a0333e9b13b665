"""Queries seen before take the prepared path and answer exactly as Strawberry's view.

Two gateways over one sandbox: one as configured by default, one with
GATEWAY_EXECUTOR=graphql-core (no prepared path, graphql-core's executor). Each
case is sent to both, from the same sandbox state, and the status, the body
and the upstream calls must be the same. The cases cover both paths: answers
and field errors on the prepared one; syntax errors, bad variables, unknown
operations and mutations on Strawberry's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway import http_view
from gateway.app import create_app
from gateway.sandbox.state import SandboxState
from tests.conftest import MONEYBIRD_HEADERS, MONITE_HEADERS, gateway_settings
from tests.servers import serve

CREDENTIALS = {**MONEYBIRD_HEADERS, **MONITE_HEADERS}
FIRST_CONTACT = "query($id: ID!) { contact(id: $id) { id displayName email notes { note } } }"

# (case, payload, headers, upstream fault, answered by the prepared path)
CASES: list[tuple[str, dict[str, Any], dict[str, str], tuple[str, int] | None, bool]] = [
    ("a contact", {"query": FIRST_CONTACT}, CREDENTIALS, None, True),
    (
        "two operations, one chosen",
        {
            "query": "query A { counterparts(first: 2) { edges { node { name } } } }"
            " query B { contacts(first: 2) { edges { node { id email } } } }",
            "operationName": "B",
        },
        CREDENTIALS,
        None,
        True,
    ),
    (
        "an upstream refusing the token",
        {"query": FIRST_CONTACT},
        CREDENTIALS,
        ("moneybird", 401),
        True,
    ),
    ("no token", {"query": FIRST_CONTACT}, {}, None, True),
    ("a syntax error", {"query": "query { contact(id: "}, CREDENTIALS, None, False),
    ("a validation error", {"query": "{ contact(id: 1) { nope } }"}, CREDENTIALS, None, False),
    (
        "variables of the wrong type",
        {"query": FIRST_CONTACT, "variables": {"id": ["1"]}},
        CREDENTIALS,
        None,
        False,
    ),
    (
        "an unknown operation",
        {"query": FIRST_CONTACT, "operationName": "Nope"},
        CREDENTIALS,
        None,
        False,
    ),
    (
        "a mutation",
        {
            "query": 'mutation { addContactNote(input: {contactId: "1", note: "x"}) { userErrors { code } } }'
        },
        CREDENTIALS,
        None,
        False,
    ),
    ("not an object", {"query": 5}, CREDENTIALS, None, False),
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
    sandbox.reset()
    if fault is not None:
        sandbox.faults[fault[0]].fail_next(1, status=fault[1])
    response = httpx.post(f"{url}/graphql", json=payload, headers=headers, timeout=30)
    upstream = [
        (r.method, r.path) for r in sandbox.requests("moneybird") + sandbox.requests("monite")
    ]
    return response.status_code, response.text, upstream


@pytest.mark.parametrize(
    ("case", "payload", "headers", "fault", "prepared"), CASES, ids=[c[0] for c in CASES]
)
def test_both_paths_answer_alike(
    case: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    fault: tuple[str, int] | None,
    prepared: bool,
    gateway_url: str,
    reference_url: str,
    sandbox: SandboxState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payload = {
        **payload,
        "variables": payload.get("variables", {"id": next(iter(sandbox.moneybird.contacts))}),
    }
    answered: list[bool] = []
    original = http_view.execute_prepared

    async def recording(*args: Any) -> Any:
        answer = await original(*args)
        answered.append(answer is not None)
        return answer

    monkeypatch.setattr(http_view, "execute_prepared", recording)
    ours = _send(gateway_url, sandbox, payload, headers, fault)
    reference = _send(reference_url, sandbox, payload, headers, fault)
    assert ours == reference
    assert answered == [prepared]

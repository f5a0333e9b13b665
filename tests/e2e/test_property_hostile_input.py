"""Arbitrary values at every argument and input: GraphQL errors or user errors,
never a 500 or an INTERNAL error, and rejected input changes nothing upstream."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.sandbox.state import SandboxState
from tests.conftest import MONEYBIRD_HEADERS, MONITE_HEADERS, GraphQLClient

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["1", "../1", "1/2", "%2F", "?x=1", "00000000-0000-4000-8000-000000000000"]),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=10,
)
contact_input = st.dictionaries(
    st.sampled_from(
        [
            "companyName",
            "firstname",
            "email",
            "deliveryMethod",
            "sepaMandateDate",
            "customFields",
            "invoiceWorkflowId",
            "sendInvoicesToEmail",
            "nope",
        ]
    ),
    values,
    max_size=4,
)

OPERATIONS = [
    ("query($id: ID!) { contact(id: $id) { id } }", {"id": values}),
    ("query($ids: [ID!]!) { contactsByIds(ids: $ids) { id } }", {"ids": values}),
    (
        "query($q: String, $first: Int, $after: String, $f: ContactFilter) {"
        " contacts(query: $q, first: $first, after: $after, filter: $f) { edges { cursor } } }",
        {"q": values, "first": values, "after": values, "f": values},
    ),
    ("query($c: String!) { contactByCustomerId(customerId: $c) { id } }", {"c": values}),
    ("query($id: ID!) { counterpart(id: $id) { id } }", {"id": values}),
    (
        "query($first: Int, $after: String, $name: String) {"
        " counterparts(first: $first, after: $after, name: $name) { edges { cursor } } }",
        {"first": values, "after": values, "name": values},
    ),
    (
        "mutation($id: ID!, $input: ContactInput!) { updateContact(id: $id, input: $input)"
        " { contact { id } userErrors { code } } }",
        {"id": values, "input": contact_input},
    ),
    (
        "mutation($input: ContactInput!) { createContact(input: $input)"
        " { contact { id } userErrors { code } } }",
        {"input": contact_input},
    ),
    (
        "mutation($c: ID!, $input: NoteInput!) { addContactNote(contactId: $c, input: $input)"
        " { note { id } userErrors { code } } }",
        {"c": values, "input": values},
    ),
    (
        "mutation($c: ID!, $id: ID!) { makeCounterpartContactDefault(counterpartId: $c, id: $id)"
        " { contact { id } userErrors { code } } }",
        {"c": values, "id": values},
    ),
]


def rejected(body: dict[str, Any]) -> bool:
    if body.get("errors"):
        return True
    payloads = (body.get("data") or {}).values()
    return any(isinstance(p, dict) and p.get("userErrors") for p in payloads)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_values_never_break_the_gateway(
    gateway: GraphQLClient, sandbox: SandboxState, data: st.DataObject
) -> None:
    query, strategies = data.draw(st.sampled_from(OPERATIONS))
    variables = {name: data.draw(strategy) for name, strategy in strategies.items()}
    before = sandbox.snapshot()
    response = gateway.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={**MONEYBIRD_HEADERS, **MONITE_HEADERS},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
    assert "INTERNAL" not in codes, body
    if rejected(body):
        assert sandbox.snapshot() == before

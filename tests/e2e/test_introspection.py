"""Introspection as real clients send it, and introspection that is not.

The documents in tests/fixtures/introspection are what graphql-js, GraphiQL,
Apollo iOS and Apollo Kotlin send (its README says where each comes from). Each
is answered without credentials and without an upstream call, and the schema a
client rebuilds from the answer is schema.graphql, less only what the document
did not ask for. Documents built to make introspection expensive are refused
or answered at the cost of an ordinary one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_client_schema,
    build_schema,
    is_introspection_type,
    is_specified_scalar_type,
    print_schema,
    print_type,
)

from gateway.app import create_app
from gateway.sandbox.state import SandboxState
from tests.conftest import MONEYBIRD_HEADERS, MONITE_HEADERS, calls, gateway_settings
from tests.servers import serve

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests/fixtures/introspection"
SCHEMA_SDL = (ROOT / "schema.graphql").read_text()
CREDENTIALS = {**MONEYBIRD_HEADERS, **MONITE_HEADERS}
DISABLED = "GraphQL introspection has been disabled, but the requested query contained the field '__schema'."

GRAPHIQL_HEADERS = {
    "Accept": "application/graphql-response+json, application/json;q=0.9",
    "Content-Type": "application/json",
}
APOLLO_IOS_HEADERS = {"Accept": "*/*", "Content-Type": "application/json"}
APOLLO_KOTLIN_HEADERS = {
    "Accept": "application/graphql-response+json, application/json",
    "Content-Type": "application/json",
}

# What Apollo Kotlin's pre-introspection query must find for
# apollo-kotlin-introspection.graphql to be the query it sends next.
APOLLO_KOTLIN_FEATURES = {
    "SchemaDescription",
    "SpecifiedBy",
    "RepeatableDirectives",
    "DeprecatedInputValues",
    "OneOf",
    "DeprecatedDirectives",
}


@dataclass(frozen=True)
class ClientDocument:
    """An introspection document, the request around it, and what it asks for."""

    name: str
    # The rest of the JSON body, beside "query", as the client sends it.
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    descriptions: bool = True
    specified_by: bool = False
    repeatable: bool = False

    @property
    def query(self) -> str:
        return (FIXTURES / f"{self.name}.graphql").read_text()


GRAPHIQL = {"operationName": "IntrospectionQuery"}
APOLLO_IOS = {"operationName": "IntrospectionQuery", "variables": None}
APOLLO_KOTLIN = {"operationName": "IntrospectionQuery"}

CLIENT_DOCUMENTS = [
    ClientDocument("graphql-js-default"),
    ClientDocument(
        "graphql-js-all",
        specified_by=True,
        repeatable=True,
        body={"operationName": "IntrospectionQuery"},
    ),
    ClientDocument(
        "graphql-js-all-but-descriptions", descriptions=False, specified_by=True, repeatable=True
    ),
    ClientDocument("graphql-js-no-descriptions", descriptions=False),
    ClientDocument("graphql-js-specified-by-url", specified_by=True),
    ClientDocument("graphql-js-directive-is-repeatable", repeatable=True),
    ClientDocument("graphql-js-schema-description"),
    ClientDocument("graphql-js-input-value-deprecation"),
    ClientDocument("graphql-js-experimental-directive-deprecation"),
    ClientDocument("graphql-js-one-of"),
    ClientDocument("graphql-js-type-depth-100"),
    ClientDocument("graphiql-5", body=GRAPHIQL, headers=GRAPHIQL_HEADERS),
    ClientDocument(
        "graphiql-5-input-value-deprecation-schema-description",
        body=GRAPHIQL,
        headers=GRAPHIQL_HEADERS,
    ),
    ClientDocument("apollo-ios", body=APOLLO_IOS, headers=APOLLO_IOS_HEADERS),
    ClientDocument(
        "apollo-ios-deprecated-input-values", body=APOLLO_IOS, headers=APOLLO_IOS_HEADERS
    ),
    ClientDocument(
        "apollo-kotlin-introspection",
        body=APOLLO_KOTLIN,
        headers=APOLLO_KOTLIN_HEADERS,
        specified_by=True,
        repeatable=True,
    ),
    ClientDocument(
        "apollo-kotlin-introspection-fail-safe", body=APOLLO_KOTLIN, headers=APOLLO_KOTLIN_HEADERS
    ),
]
APOLLO_KOTLIN_PRE_INTROSPECTION = ClientDocument(
    "apollo-kotlin-pre-introspection",
    body={"operationName": "PreIntrospectionQuery", "variables": {}},
    headers=APOLLO_KOTLIN_HEADERS,
)


def post(
    url: str, query: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query, **(body or {})},
        headers=headers or {"Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def no_upstream_calls(sandbox: SandboxState) -> bool:
    return calls(sandbox, "moneybird") == [] and calls(sandbox, "monite") == []


# What a client rebuilds from the answer, against schema.graphql


def expected_schema(document: ClientDocument) -> GraphQLSchema:
    """schema.graphql as a client that sent `document` can know it."""
    schema = build_schema(SCHEMA_SDL)
    for type_ in schema.type_map.values():
        if is_introspection_type(type_) or is_specified_scalar_type(type_):
            continue  # shared by every schema, and not printed
        if not document.descriptions:
            _forget_descriptions(type_)
        if not document.specified_by and isinstance(type_, GraphQLScalarType):
            type_.specified_by_url = None
    return schema


def _forget_descriptions(type_: Any) -> None:
    type_.description = None
    if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
        for field_ in type_.fields.values():
            field_.description = None
            for arg in field_.args.values():
                arg.description = None
    elif isinstance(type_, GraphQLInputObjectType):
        for input_field in type_.fields.values():
            input_field.description = None
    elif isinstance(type_, GraphQLEnumType):
        for value in type_.values.values():
            value.description = None


def types(schema: GraphQLSchema) -> dict[str, str]:
    """The schema's own types, printed, by name: the answer lists them in the
    gateway's order, schema.graphql by name; fields keep their order."""
    return {
        name: print_type(type_)
        for name, type_ in schema.type_map.items()
        if not (is_introspection_type(type_) or is_specified_scalar_type(type_))
    }


def roots(schema: GraphQLSchema) -> tuple[str | None, ...]:
    return (
        schema.description,
        *(
            None if root is None else root.name
            for root in (schema.query_type, schema.mutation_type, schema.subscription_type)
        ),
    )


def directives(schema: GraphQLSchema, document: ClientDocument) -> list[tuple[Any, ...]]:
    """Every directive, the specified ones included, as far as `document` asked."""
    return sorted(
        (
            directive.name,
            directive.description if document.descriptions else None,
            directive.is_repeatable if document.repeatable else None,
            sorted(location.name for location in directive.locations),
            [
                (
                    name,
                    str(arg.type),
                    arg.default_value,
                    arg.description if document.descriptions else None,
                    arg.deprecation_reason,
                )
                for name, arg in directive.args.items()
            ],
        )
        for directive in schema.directives
    )


@pytest.fixture(params=[False, True], ids=["without-credentials", "with-credentials"])
def credentials(request: pytest.FixtureRequest) -> dict[str, str]:
    return CREDENTIALS if request.param else {}


@pytest.mark.parametrize("document", CLIENT_DOCUMENTS, ids=lambda document: document.name)
def test_client_introspection_rebuilds_the_committed_schema(
    gateway_url: str, sandbox: SandboxState, credentials: dict[str, str], document: ClientDocument
) -> None:
    # when
    answer = post(gateway_url, document.query, document.body, {**document.headers, **credentials})

    # then
    assert "errors" not in answer
    rebuilt = build_client_schema(answer["data"])
    expected = expected_schema(document)
    assert types(rebuilt) == types(expected)
    assert roots(rebuilt) == roots(expected)
    assert directives(rebuilt, document) == directives(expected, document)
    assert no_upstream_calls(sandbox)


def test_the_full_answer_carries_the_descriptions_and_specified_by(gateway_url: str) -> None:
    # Guards the comparison above: it must see what it strips for the other documents.
    answer = post(gateway_url, (FIXTURES / "graphql-js-all.graphql").read_text())
    rebuilt = print_schema(build_client_schema(answer["data"]))
    assert "A Moneybird contact" in rebuilt
    assert '@specifiedBy(url: "https://ecma-international.org' in rebuilt


def apollo_kotlin_features(data: dict[str, Any]) -> set[str]:
    """GraphQLFeature.kt's getFeatures: what Apollo Kotlin reads from its first step."""
    types = {t["name"]: t for t in data["__schema"]["types"]}

    def fields(type_name: str) -> dict[str, list[str]]:
        type_ = types.get(type_name) or {}
        return {f["name"]: [a["name"] for a in f["args"]] for f in type_.get("fields") or []}

    schema, type_, directive = fields("__Schema"), fields("__Type"), fields("__Directive")
    field_, input_value = fields("__Field"), fields("__InputValue")
    features = set()
    if "description" in schema:
        features.add("SchemaDescription")
    if "specifiedByURL" in type_:
        features.add("SpecifiedBy")
    if "isOneOf" in type_:
        features.add("OneOf")
    if "isRepeatable" in directive:
        features.add("RepeatableDirectives")
    if (
        "isDeprecated" in directive
        and "deprecationReason" in directive
        and "includeDeprecated" in schema.get("directives", [])
    ):
        features.add("DeprecatedDirectives")
    if (
        "includeDeprecated" in type_.get("inputFields", [])
        and "includeDeprecated" in directive.get("args", [])
        and "includeDeprecated" in field_.get("args", [])
        and "isDeprecated" in input_value
        and "deprecationReason" in input_value
    ):
        features.add("DeprecatedInputValues")
    if "__Service" in types:
        features.add("ServiceCapabilities")
    return features


def test_apollo_kotlin_first_step_finds_what_its_second_step_asks_for(
    gateway_url: str, sandbox: SandboxState, credentials: dict[str, str]
) -> None:
    document = APOLLO_KOTLIN_PRE_INTROSPECTION
    answer = post(gateway_url, document.query, document.body, {**document.headers, **credentials})
    assert "errors" not in answer
    assert {t["__typename"] for t in answer["data"]["__schema"]["types"]} == {"__Type"}
    assert apollo_kotlin_features(answer["data"]) == APOLLO_KOTLIN_FEATURES
    assert no_upstream_calls(sandbox)


# Introspection built to be expensive


def assert_refused(answer: dict[str, Any], message: str, code: str) -> None:
    assert answer.get("data") is None
    assert [error["message"] for error in answer["errors"]] == [message]
    assert answer["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }",
        '{ __type(name: "Contact") { fields { type { interfaces { possibleTypes { fields { name } } } } } } }',
        "{ __schema { types { ...Cycle } } } fragment Cycle on __Type { fields { type { ...Again } } }"
        " fragment Again on __Type { fields { type { fields { name } } } }",
    ],
    ids=["nested", "type", "fragments"],
)
def test_lists_nested_in_lists_past_three_are_refused(
    gateway_url: str, sandbox: SandboxState, query: str
) -> None:
    answer = post(gateway_url, query)
    assert_refused(answer, "Maximum introspection depth exceeded", "GRAPHQL_VALIDATION_FAILED")
    assert no_upstream_calls(sandbox)


def test_hundreds_of_type_aliases_are_refused(gateway_url: str, sandbox: SandboxState) -> None:
    aliases = " ".join(f't{i}: __type(name: "Contact") {{ name }}' for i in range(150))
    answer = post(gateway_url, f"{{ {aliases} }}")
    assert_refused(
        answer,
        "'anonymous' has 150 aliases; at most 30 are allowed.",
        "GRAPHQL_VALIDATION_FAILED",
    )
    assert no_upstream_calls(sandbox)


def test_a_document_past_the_token_limit_is_refused(
    gateway_url: str, sandbox: SandboxState
) -> None:
    fields = " ".join(f"f{i}: name" for i in range(700))
    answer = post(gateway_url, f'{{ __type(name: "Contact") {{ {fields} }} }}')
    assert answer.get("data") is None
    assert "2000 tokens" in answer["errors"][0]["message"]
    assert no_upstream_calls(sandbox)


def of_type_chain(levels: int) -> str:
    return "{ __schema { types { " + "ofType { kind " * levels + "}" * levels + " } } }"


def test_an_of_type_chain_past_clients_is_answered_at_the_cost_of_a_short_one(
    gateway_url: str, sandbox: SandboxState
) -> None:
    # graphql-js goes to 100 at most; no type in this schema wraps more than three deep
    deep = post(gateway_url, of_type_chain(190))
    short = post(gateway_url, of_type_chain(4))
    assert "errors" not in deep
    assert deep == short
    assert no_upstream_calls(sandbox)


def test_an_of_type_chain_past_the_parser_nesting_limit_is_refused(
    gateway_url: str, sandbox: SandboxState
) -> None:
    answer = post(gateway_url, of_type_chain(250))
    assert answer.get("data") is None
    assert "nested too deeply" in answer["errors"][0]["message"]
    assert no_upstream_calls(sandbox)


def test_wide_nesting_that_is_let_through_costs_about_a_full_introspection(
    gateway_url: str, sandbox: SandboxState
) -> None:
    # Fields of the types of fields: two nested lists of fields, the most
    # MaxIntrospectionDepthRule lets through, each with arguments, enum values and
    # descriptions. The answer is bounded by the schema's size squared, not more.
    widest = (
        "{ __schema { types { name description fields { name description args { name description"
        " type { name enumValues { name description } } } type { name fields { name description"
        " args { name description type { name enumValues { name description } } }"
        " type { name description enumValues { name description } } } } } } } }"
    )
    full = httpx.post(
        f"{gateway_url}/graphql",
        json={"query": (FIXTURES / "graphql-js-all.graphql").read_text()},
        timeout=30,
    )
    answer = httpx.post(f"{gateway_url}/graphql", json={"query": widest}, timeout=30)
    assert "errors" not in answer.json()
    assert len(answer.content) <= 2 * len(full.content)
    assert no_upstream_calls(sandbox)


# Introspection switched off


@pytest.fixture(scope="module")
def closed_url(sandbox_url: str) -> Iterator[str]:
    with serve(create_app(gateway_settings(sandbox_url, introspection=False))) as url:
        yield url


@pytest.mark.parametrize(
    "document",
    [*CLIENT_DOCUMENTS, APOLLO_KOTLIN_PRE_INTROSPECTION],
    ids=lambda document: document.name,
)
def test_switched_off_introspection_is_refused_with_one_clear_error(
    closed_url: str, sandbox: SandboxState, document: ClientDocument
) -> None:
    headers = {**document.headers, "Accept": "application/json", **CREDENTIALS}
    answer = post(closed_url, document.query, document.body, headers)
    assert_refused(answer, DISABLED, "GRAPHQL_VALIDATION_FAILED")
    assert no_upstream_calls(sandbox)


def test_typename_works_with_introspection_switched_off(
    closed_url: str, sandbox: SandboxState
) -> None:
    assert post(closed_url, "{ __typename }") == {"data": {"__typename": "Query"}}
    answer = post(
        closed_url, "{ contacts(first: 1) { edges { node { __typename } } } }", headers=CREDENTIALS
    )
    assert answer == {"data": {"contacts": {"edges": [{"node": {"__typename": "Contact"}}]}}}

"""The validator's depth and alias measure, and the introspection rules it runs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    GraphQLError,
    MaxIntrospectionDepthRule,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    build_schema,
    parse,
)

from gateway.execution.documents import Documents
from gateway.execution.validation import (
    DocumentMeasure,
    IntrospectionDisabledRule,
    Validator,
    limit_errors,
    make_validator,
    validation_rules,
)
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = build_schema((ROOT / "schema.graphql").read_text())
CLIENT_DOCUMENTS = sorted((ROOT / "tests/fixtures/introspection").glob("*.graphql"))
DEFAULTS = {name: field.default for name, field in Settings.model_fields.items()}
MAX_DEPTH = DEFAULTS["max_query_depth"]
MAX_ALIASES = DEFAULTS["max_aliases"]
MAX_TOKENS = DEFAULTS["max_tokens"]


def measure(query: str) -> tuple[int, int]:
    """(depth, aliases) of the document's only operation."""
    document = parse(query)
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return DocumentMeasure(document).operation(operation)


def validator(*, introspection: bool = True, max_depth: int = MAX_DEPTH) -> Validator:
    return make_validator(
        SCHEMA, max_depth=max_depth, max_aliases=MAX_ALIASES, introspection=introspection
    )


def errors(query: str, validate: Validator | None = None) -> list[str]:
    validate = validate or validator()
    return [error.message for error in validate(parse(query, max_tokens=MAX_TOKENS))]


# the depth measure


@pytest.mark.parametrize(
    ("query", "depth"),
    [
        ('{ contact(id: "1") { id } }', 2),
        ("{ contacts { edges { node { id notes { note } } } } }", 5),
        # a fragment counts where it is spread, at the depth of the spread
        (
            "{ contacts { ...Edges } } fragment Edges on ContactConnection { edges { node { id } } }",
            4,
        ),
        ("{ contacts { edges { ... on ContactEdge { node { id } } } } }", 4),
        # a fragment spread at two depths counts at the deeper one
        (
            '{ contact(id: "1") { ...Name } contacts { edges { node { ...Name } } } }'
            " fragment Name on Contact { id notes { note } }",
            5,
        ),
        # fragments within fragments
        (
            "{ contacts { ...A } } fragment A on ContactConnection { edges { ...B } }"
            " fragment B on ContactEdge { node { notes { note } } }",
            5,
        ),
    ],
)
def test_depth_counts_every_field_of_the_schema_including_through_fragments(
    query: str, depth: int
) -> None:
    assert measure(query)[0] == depth


def test_typename_adds_no_level() -> None:
    assert measure("{ contacts { edges { node { __typename } } } }")[0] == 3
    assert measure("{ __typename }")[0] == 0


def test_introspection_subtrees_add_no_depth() -> None:
    introspection = "__schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } }"
    assert measure(f"{{ {introspection} }}") == (0, 0)
    assert measure(f'{{ {introspection} contact(id: "1") {{ id }} }}')[0] == 2


def test_introspection_through_a_fragment_adds_no_depth() -> None:
    query = (
        "{ ...Schema } fragment Schema on Query { __schema { types { ...TypeRef } } }"
        " fragment TypeRef on __Type { ofType { ofType { ofType { ofType { name } } } } }"
    )
    assert measure(query) == (0, 0)


def test_aliases_are_counted_in_introspection_too() -> None:
    query = '{ a: __type(name: "Contact") { n: name f: fields { name } } b: __typename }'
    assert measure(query)[1] == 4


def test_aliases_count_once_per_use_of_their_fragment() -> None:
    query = (
        '{ a: contact(id: "1") { ...Names } b: contact(id: "2") { ...Names } }'
        " fragment Names on Contact { first: firstname last: lastname }"
    )
    assert measure(query)[1] == 6


def test_a_fragment_spread_twice_at_every_level_is_measured_in_one_pass() -> None:
    # Expanded use by use this document has 2^61 - 1 aliases; each fragment is measured once.
    levels = 60
    fragments = " ".join(
        f"fragment C{i} on Contact {{ a: id ...C{i + 1} ...C{i + 1} }}" for i in range(levels)
    )
    query = f"{{ contacts {{ edges {{ node {{ ...C0 }} }} }} }} {fragments} fragment C{levels} on Contact {{ a: id }}"
    started = time.perf_counter()
    depth, aliases = measure(query)
    assert time.perf_counter() - started < 1
    assert (depth, aliases) == (4, 2 ** (levels + 1) - 1)


def test_limit_errors_name_the_operation_and_the_limit() -> None:
    document = parse(
        'query Deep { contacts { edges { node { notes { note } } } } } query Wide { a: contact(id: "1") { b: id } }'
    )
    messages = [error.message for error in limit_errors(document, 4, 1)]
    assert messages == [
        "'Deep' exceeds maximum operation depth of 4.",
        "'Wide' has 2 aliases; at most 1 are allowed.",
    ]


# the rules


def test_the_rules_include_graphql_js_introspection_depth_rule_once() -> None:
    rules = validation_rules()
    assert rules.count(MaxIntrospectionDepthRule) == 1
    assert len(set(rules)) == len(rules)


def test_switching_introspection_off_runs_the_one_error_per_subtree_rule() -> None:
    rules = validation_rules(introspection=False)
    assert IntrospectionDisabledRule in rules
    assert NoSchemaIntrospectionCustomRule not in rules


@pytest.mark.parametrize("path", CLIENT_DOCUMENTS, ids=lambda path: path.stem)
def test_client_introspection_documents_pass_the_default_limits(path: Path) -> None:
    query = path.read_text()
    document = parse(query, max_tokens=MAX_TOKENS)
    assert validator()(document) == ()
    # well inside the depth limit once introspection is left out: none of the schema's fields
    assert limit_errors(document, 0, 0) == []


@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
        "{ __schema { types { interfaces { possibleTypes { interfaces { name } } } } } }",
        '{ __type(name: "Contact") { fields { type { inputFields { type { fields { name } } } } } } }',
        # the same nesting spread over fragments
        "{ __schema { types { ...A } } } fragment A on __Type { fields { type { ...B } } }"
        " fragment B on __Type { fields { type { ...C } } } fragment C on __Type { fields { name } }",
    ],
)
def test_lists_nested_in_introspection_past_graphql_js_limit_are_refused(query: str) -> None:
    assert errors(query) == ["Maximum introspection depth exceeded"]


def test_hundreds_of_type_aliases_are_refused() -> None:
    aliases = " ".join(f't{i}: __type(name: "Contact") {{ name }}' for i in range(150))
    assert errors(f"{{ {aliases} }}") == [
        f"'anonymous' has 150 aliases; at most {MAX_ALIASES} are allowed."
    ]


def test_introspection_does_not_count_toward_the_depth_limit() -> None:
    shallow = validator(max_depth=2)
    assert errors('{ __schema { types { name } } contact(id: "1") { id } }', shallow) == []
    assert errors('{ contact(id: "1") { notes { note } } }', shallow) == [
        "'anonymous' exceeds maximum operation depth of 2."
    ]


# introspection switched off


def test_introspection_switched_off_is_one_error_per_introspection_field() -> None:
    off = validator(introspection=False)
    query = (CLIENT_DOCUMENTS[0].parent / "graphql-js-default.graphql").read_text()
    assert errors(query, off) == [
        "GraphQL introspection has been disabled, but the requested query contained the field '__schema'."
    ]
    assert errors(
        '{ __type(name: "Contact") { name } a: __schema { queryType { name } } }', off
    ) == [
        "GraphQL introspection has been disabled, but the requested query contained the field '__type'.",
        "GraphQL introspection has been disabled, but the requested query contained the field '__schema'.",
    ]


def test_introspection_switched_off_still_finds_introspection_in_a_fragment() -> None:
    off = validator(introspection=False)
    query = "{ ...Schema } fragment Schema on Query { __schema { queryType { name } } }"
    assert errors(query, off) == [
        "GraphQL introspection has been disabled, but the requested query contained the field '__schema'."
    ]


def test_typename_works_with_introspection_switched_off() -> None:
    off = validator(introspection=False)
    assert errors("{ __typename }", off) == []
    assert errors('{ contact(id: "1") { __typename id } }', off) == []


def test_errors_suggest_no_field_names() -> None:
    assert errors('{ contac(id: "1") { id } }') == ["Cannot query field 'contac' on type 'Query'."]
    suggesting = make_validator(
        SCHEMA, max_depth=MAX_DEPTH, max_aliases=MAX_ALIASES, hide_suggestions=False
    )
    assert "Did you mean" in errors('{ contac(id: "1") { id } }', suggesting)[0]


def test_documents_are_parsed_and_validated_once_per_text() -> None:
    calls: list[DocumentNode] = []
    validate = validator()

    def counting(document: DocumentNode) -> tuple[GraphQLError, ...]:
        calls.append(document)
        return validate(document)

    documents = Documents(counting, max_tokens=MAX_TOKENS, maxsize=2)
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    first = documents.get(query)
    assert first.errors
    assert all(isinstance(error, GraphQLError) for error in first.errors)
    assert documents.get(query) is first
    assert len(calls) == 1
    # the least recently used text leaves first
    documents.get("{ __typename }")
    documents.get("{ a: __typename }")
    assert documents.get(query) is not first
    assert len(calls) == 4

"""Validation, depth and alias limits, computed once per distinct query text.

Strawberry's depth and alias limiters build new rule classes on every request,
which defeats its ValidationCache, and that cache hashes the whole document tree
on each lookup. Validation depends only on the query text here (schema and rules
are fixed per app), so it is cached by that text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    specified_rules,
    validate,
)
from strawberry.extensions import SchemaExtension

Validator = Callable[[str, DocumentNode], tuple[GraphQLError, ...]]


def make_validator(
    schema: GraphQLSchema,
    *,
    max_depth: int,
    max_aliases: int,
    extra_rules: tuple[type[ASTValidationRule], ...] = (),
    cache_size: int = 512,
) -> Validator:
    """A validator for one schema; `query` is the cache key, `document` its parse."""
    rules = (*specified_rules, *extra_rules)

    @lru_cache(maxsize=cache_size)
    def by_text(parsed: _ByText) -> tuple[GraphQLError, ...]:
        errors = tuple(validate(schema, parsed.document, rules))
        return errors or tuple(_limit_errors(parsed.document, max_depth, max_aliases))

    def validator(query: str, document: DocumentNode) -> tuple[GraphQLError, ...]:
        return by_text(_ByText(query, document))

    return validator


class _ByText:
    """A parsed document that hashes and compares by its query text only."""

    __slots__ = ("document", "query")

    def __init__(self, query: str, document: DocumentNode) -> None:
        self.query = query
        self.document = document

    def __hash__(self) -> int:
        return hash(self.query)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ByText) and other.query == self.query


def _limit_errors(document: DocumentNode, max_depth: int, max_aliases: int) -> list[GraphQLError]:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    errors = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        depth, aliases = _measure(definition.selection_set, fragments, frozenset())
        name = definition.name.value if definition.name else "anonymous"
        if depth > max_depth:
            errors.append(
                GraphQLError(
                    f"'{name}' exceeds maximum operation depth of {max_depth}.",
                    nodes=[definition],
                )
            )
        if aliases > max_aliases:
            errors.append(
                GraphQLError(
                    f"'{name}' has {aliases} aliases; at most {max_aliases} are allowed.",
                    nodes=[definition],
                )
            )
    return errors


def _measure(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    visiting: frozenset[str],
) -> tuple[int, int]:
    """(depth, aliases) of a selection set, fragments expanded where they are used."""
    if selection_set is None:
        return 0, 0
    depth, aliases = 0, 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            below, inner_aliases = _measure(selection.selection_set, fragments, visiting)
            depth = max(depth, 1 + below if selection.selection_set else 1)
            aliases += inner_aliases + (1 if selection.alias else 0)
        elif isinstance(selection, InlineFragmentNode):
            below, inner_aliases = _measure(selection.selection_set, fragments, visiting)
            depth, aliases = max(depth, below), aliases + inner_aliases
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in visiting:  # validation reports these
                continue
            below, inner_aliases = _measure(fragment.selection_set, fragments, visiting | {name})
            depth, aliases = max(depth, below), aliases + inner_aliases
    return depth, aliases


class CachedValidation(SchemaExtension):
    def __init__(self, validator: Validator) -> None:
        super().__init__()
        self._validator = validator

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.query is not None and document is not None:
            context.pre_execution_errors = list(self._validator(context.query, document))
        yield

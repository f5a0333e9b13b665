"""Validation: the specification's rules, then the depth and alias limits.

Validation depends only on the query text (the schema and the rules are fixed
for an app), so `gateway.execution.documents` keeps its outcome per text.

Introspection (`__schema`, `__type`) has limits of its own. The `ofType` chains
every introspection client sends (graphql-js's, GraphiQL's, Apollo's) nest
deeper than any sensible query depth, but an `ofType` costs nothing once the
type it unwraps is named. What multiplies an introspection answer is lists
inside lists (`types { fields { type { fields ...`), and graphql-js's
`MaxIntrospectionDepthRule` (in graphql-core too) refuses three of `fields`,
`interfaces`, `possibleTypes` or `inputFields` nested. So the depth limit
measures the schema's own fields and leaves introspection subtrees to that
rule; aliases are counted everywhere, and the token limit bounds the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_introspection_type,
    specified_rules,
    validate,
)
from graphql.validation import recommended_rules

# Errors for a parsed document; none when it is valid.
Validator = Callable[[DocumentNode], tuple[GraphQLError, ...]]

# The root fields that open an introspection subtree; `__typename` is a leaf.
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


def make_validator(
    schema: GraphQLSchema,
    *,
    max_depth: int,
    max_aliases: int,
    introspection: bool = True,
    hide_suggestions: bool = True,
) -> Validator:
    """A validator for one schema and set of limits.

    `hide_suggestions` leaves "Did you mean ...?" out of the errors: they would
    name fields of a schema whose introspection may be switched off.
    """
    rules = validation_rules(introspection=introspection)

    def validator(document: DocumentNode) -> tuple[GraphQLError, ...]:
        errors = tuple(validate(schema, document, rules, hide_suggestions=hide_suggestions))
        return errors or tuple(limit_errors(document, max_depth, max_aliases))

    return validator


def validation_rules(*, introspection: bool = True) -> tuple[type[ASTValidationRule], ...]:
    """The specification's rules, the recommended ones (`MaxIntrospectionDepthRule`),
    and `IntrospectionDisabledRule` when introspection is switched off.

    graphql-core 3.3 already lists the recommended rules among the specified
    ones; naming them here keeps them if a release separates the two again.
    """
    extra = () if introspection else (IntrospectionDisabledRule,)
    return tuple(dict.fromkeys((*specified_rules, *recommended_rules, *extra)))


class IntrospectionDisabledRule(NoSchemaIntrospectionCustomRule):
    """`NoSchemaIntrospectionCustomRule`, with one error per introspection subtree.

    graphql-core's rule reports every field that returns an introspection type,
    so a client's introspection query earns about forty errors, one for each
    `kind`, `type` or `fields` in it. Reporting only the field that leaves the
    schema's own types (`__schema`, `__type`) says the same thing once.
    """

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        parent = self.context.get_parent_type()
        if parent is not None and is_introspection_type(parent):
            return
        named = get_named_type(self.context.get_type())
        if named is not None and is_introspection_type(named):
            self.report_error(
                GraphQLError(
                    "GraphQL introspection has been disabled, but the requested query"
                    f" contained the field '{node.name.value}'.",
                    node,
                )
            )


def limit_errors(document: DocumentNode, max_depth: int, max_aliases: int) -> list[GraphQLError]:
    """Errors for each operation deeper than `max_depth` or with more than `max_aliases`."""
    measure = DocumentMeasure(document)
    errors = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        depth, aliases = measure.operation(definition)
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


class DocumentMeasure:
    """(depth, aliases) of a document's operations, fragments expanded where they are used.

    Depth counts the fields of the schema's own types: `__typename` adds no
    level, and an introspection subtree adds none (`MaxIntrospectionDepthRule`
    bounds it). Aliases count everywhere, introspection included. A fragment
    measures the same wherever it is spread, so each is measured once: a
    document that spreads a fragment twice, which spreads the next twice, and
    so on, costs one pass, not 2^n.
    """

    __slots__ = ("_fragments", "_measured", "_visiting")

    def __init__(self, document: DocumentNode) -> None:
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._measured: dict[str, tuple[int, int]] = {}
        self._visiting: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> tuple[int, int]:
        return self._selection_set(operation.selection_set)

    def _selection_set(self, selection_set: SelectionSetNode | None) -> tuple[int, int]:
        if selection_set is None:
            return 0, 0
        depth, aliases = 0, 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                below, inner_aliases = self._selection_set(selection.selection_set)
                aliases += inner_aliases + (1 if selection.alias else 0)
                name = selection.name.value
                if name not in INTROSPECTION_ROOTS and name != "__typename":
                    depth = max(depth, 1 + below)
            elif isinstance(selection, InlineFragmentNode):
                below, inner_aliases = self._selection_set(selection.selection_set)
                depth, aliases = max(depth, below), aliases + inner_aliases
            elif isinstance(selection, FragmentSpreadNode):
                below, inner_aliases = self._fragment(selection.name.value)
                depth, aliases = max(depth, below), aliases + inner_aliases
        return depth, aliases

    def _fragment(self, name: str) -> tuple[int, int]:
        measured = self._measured.get(name)
        if measured is not None:
            return measured
        fragment = self._fragments.get(name)
        if fragment is None or name in self._visiting:  # validation reports these
            return 0, 0
        self._visiting.add(name)
        measured = self._selection_set(fragment.selection_set)
        self._visiting.discard(name)
        self._measured[name] = measured
        return measured

"""Query texts parsed and validated once: the first steps of every request.

Parsing and validation depend only on the text (the schema and the rules are
fixed for an app), so their outcome is kept per text, valid or not, in a
bounded least-recently-used cache. A document also knows its operations, so
that choosing one is a dictionary lookup.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
)

from gateway.execution.validation import Validator

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


@dataclass(frozen=True, slots=True)
class Document:
    """A query text after parsing and validation.

    `node` is None when the text does not parse; `errors` are the parse or
    validation errors, each to be answered as a request error with `code`.
    """

    node: DocumentNode | None
    errors: tuple[GraphQLError, ...] = ()
    code: str | None = None
    operations: dict[str, OperationDefinitionNode] = field(default_factory=dict)
    # The operation run when a request names none: the only one in the document.
    only_operation: OperationDefinitionNode | None = None


class Documents:
    """Parsed and validated documents by query text."""

    def __init__(self, validator: Validator, *, max_tokens: int, maxsize: int = 512) -> None:
        self._validator = validator
        self._max_tokens = max_tokens
        self._maxsize = maxsize
        self._entries: OrderedDict[str, Document] = OrderedDict()

    def get(self, query: str) -> Document:
        document = self._entries.get(query)
        if document is not None:
            self._entries.move_to_end(query)
            return document
        document = self._prepare(query)
        self._entries[query] = document
        if len(self._entries) > self._maxsize:
            self._entries.popitem(last=False)
        return document

    def _prepare(self, query: str) -> Document:
        try:
            node = parse(query, max_tokens=self._max_tokens)
        except GraphQLError as error:
            return Document(None, (error,), PARSE_FAILED)
        errors = self._validator(node)
        if errors:
            return Document(node, errors, VALIDATION_FAILED)
        operations = [d for d in node.definitions if isinstance(d, OperationDefinitionNode)]
        return Document(
            node,
            operations={op.name.value: op for op in operations if op.name is not None},
            only_operation=operations[0] if len(operations) == 1 else None,
        )

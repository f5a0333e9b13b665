"""The GraphQL schema: one module per domain, merged here."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxTokensLimiter, ParserCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gateway.execution.executor import PlannedExecutor
from gateway.schema.contacts.mutations import ContactMutations
from gateway.schema.contacts.queries import ContactQueries
from gateway.schema.counterparts.mutations import CounterpartMutations
from gateway.schema.counterparts.queries import CounterpartQueries
from gateway.schema.extensions.cached_validation import (
    CachedValidation,
    Validator,
    make_validator,
)
from gateway.schema.extensions.error_contract import ErrorContract
from gateway.schema.extensions.operation_log import OperationLog
from gateway.schema.scalars import SCALARS
from gateway.settings import Settings


@strawberry.type(description="Contact data from Moneybird and Monite, in one query.")
class Query(ContactQueries, CounterpartQueries):
    pass


@strawberry.type(description="Changes, each answered with a payload that carries `userErrors`.")
class Mutation(ContactMutations, CounterpartMutations):
    pass


class GatewaySchema(strawberry.Schema):
    # Validation (with the depth and alias limits), cached by query text.
    validator: Validator

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        # ErrorContract has logged what was unexpected; expected errors are not noise.
        return None


def build_schema(settings: Settings | None = None) -> GatewaySchema:
    """The schema with the limits of `settings` (defaults when None)."""
    limits = settings if settings is not None else Settings()
    # Filled once the schema exists: the validator needs the built GraphQL schema.
    validators: list[Validator] = []
    extensions: list[Any] = [
        OperationLog,
        lambda: ParserCache(maxsize=256),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: CachedValidation(validators[0]),
        ErrorContract,
    ]
    built = GatewaySchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(
            auto_camel_case=True, scalar_map=SCALARS, disable_field_suggestions=True
        ),
        extensions=extensions,
        execution_context_class=PlannedExecutor if limits.executor == "planned" else None,
    )
    built.validator = make_validator(
        built._schema,
        max_depth=limits.max_query_depth,
        max_aliases=limits.max_aliases,
        extra_rules=() if limits.introspection else (NoSchemaIntrospectionCustomRule,),
    )
    validators.append(built.validator)
    return built


schema = build_schema()

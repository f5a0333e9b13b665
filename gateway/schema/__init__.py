"""The GraphQL schema: one module per domain, merged here."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gateway.schema.contacts.mutations import ContactMutations
from gateway.schema.contacts.queries import ContactQueries
from gateway.schema.counterparts.mutations import CounterpartMutations
from gateway.schema.counterparts.queries import CounterpartQueries
from gateway.schema.extensions.error_contract import ErrorContract
from gateway.schema.scalars import SCALARS


@strawberry.type(description="Contact data from Moneybird and Monite, in one query.")
class Query(ContactQueries, CounterpartQueries):
    pass


@strawberry.type(description="Changes, each answered with a payload that carries `userErrors`.")
class Mutation(ContactMutations, CounterpartMutations):
    pass


class GatewaySchema(strawberry.Schema):
    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        # ErrorContract has logged what was unexpected; expected errors are not noise.
        return None


def build_schema() -> strawberry.Schema:
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALARS),
        extensions=[
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            ErrorContract,
        ],
    )


schema = build_schema()

"""The GraphQL schema: one module per domain, merged here.

The schema holds types and resolvers only. Limits, validation, error shaping
and logging belong to the request pipeline (`gateway.execution.pipeline`),
which every request goes through; the schema has no Strawberry extensions.
"""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from gateway.schema.contacts.mutations import ContactMutations
from gateway.schema.contacts.queries import ContactQueries
from gateway.schema.counterparts.mutations import CounterpartMutations
from gateway.schema.counterparts.queries import CounterpartQueries
from gateway.schema.nodes import NodeQueries
from gateway.schema.scalars import SCALARS


@strawberry.type(
    description=(
        "Contact data from Moneybird and Monite, in one query. The fields that read an "
        "upstream are nullable: when one upstream fails, its fields are null with their "
        "errors, and the other upstream's data stays in the answer."
    )
)
class Query(ContactQueries, CounterpartQueries, NodeQueries):
    pass


@strawberry.type(
    description=(
        "Changes, each answered with a payload that carries `userErrors`. A payload is "
        "null, with the error, only when its upstream could not be asked or did not "
        "answer: the other changes of the request keep theirs."
    )
)
class Mutation(ContactMutations, CounterpartMutations):
    pass


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(
            auto_camel_case=True, scalar_map=SCALARS, disable_field_suggestions=True
        ),
    )

"""Counterpart contact mutations: payloads with `userErrors`; nothing is retried."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from gateway.context import RequestContext
from gateway.errors import UpstreamRejected
from gateway.ids import read_child_id, read_counterpart_id
from gateway.schema.arguments import CounterpartContactId, CounterpartId
from gateway.schema.contacts.mutations import DeletePayload
from gateway.schema.counterparts.types import CounterpartContact, contact_view
from gateway.schema.user_errors import UserError, check_emails, monite_user_errors

T = TypeVar("T")
Info = strawberry.Info[RequestContext, None]
UNSET: Any = strawberry.UNSET


@strawberry.input(description="A postal address; line1, city, postalCode and country required.")
class CounterpartAddressInput:
    line1: str
    line2: str | None = UNSET
    city: str
    postal_code: str
    state: str | None = UNSET
    country: str = strawberry.field(description="ISO 3166 two-letter code, e.g. DE.")


@strawberry.input(description="A new counterpart contact; names and address are required.")
class CounterpartContactInput:
    first_name: str = strawberry.field(description="At most 100 characters.")
    last_name: str = strawberry.field(description="At most 100 characters.")
    address: CounterpartAddressInput
    email: str | None = UNSET
    phone: str | None = UNSET
    title: str | None = strawberry.field(default=UNSET, description="e.g. Mr., Ms., Dr.")


@strawberry.input(description="Contact fields to change; leave a field out to keep it.")
class CounterpartContactUpdateInput:
    first_name: str | None = UNSET
    last_name: str | None = UNSET
    address: CounterpartAddressInput | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    title: str | None = UNSET


@strawberry.type(
    description="The counterpart contact after the change; null when it did not happen."
)
class CounterpartContactPayload:
    contact: CounterpartContact | None
    user_errors: list[UserError]


def monite_body(value: Any) -> dict[str, Any]:
    """Given fields only, nested inputs included, in Monite's snake_case names."""
    body: dict[str, Any] = {}
    for field in dataclasses.fields(value):
        given = getattr(value, field.name)
        if given is UNSET:
            continue
        body[field.name] = monite_body(given) if dataclasses.is_dataclass(given) else given
    return body


async def attempt(
    info: Info,
    counterpart_key: str,
    change: Callable[[], Awaitable[T]],
    *,
    id_field: list[str],
) -> T | list[UserError]:
    try:
        return await change()
    except UpstreamRejected as error:
        return monite_user_errors(error, id_field=id_field)
    finally:
        # Whatever happened, this request's view of the counterpart's contacts is stale.
        info.context.contacts_by_counterpart.clear(counterpart_key)


def _payload(
    result: dict[str, Any] | list[UserError] | None, counterpart_key: str
) -> CounterpartContactPayload:
    if isinstance(result, list):
        return CounterpartContactPayload(contact=None, user_errors=result)
    contact = None if result is None else contact_view(result, counterpart_key)
    return CounterpartContactPayload(contact=contact, user_errors=[])


@strawberry.type
class CounterpartMutations:
    @strawberry.mutation(description="Add a contact to an organization counterpart.")
    async def create_counterpart_contact(
        self, info: Info, counterpart_id: CounterpartId, input: CounterpartContactInput
    ) -> CounterpartContactPayload | None:
        key = read_counterpart_id(counterpart_id, argument="counterpartId")
        errors = check_emails(input.email, ["input", "email"], several=False)
        if errors:
            return CounterpartContactPayload(contact=None, user_errors=errors)
        client = info.context.monite
        body = monite_body(input)
        return _payload(
            await attempt(
                info, key, lambda: client.create_contact(key, body), id_field=["counterpartId"]
            ),
            key,
        )

    @strawberry.mutation(
        description="Change a counterpart contact; only the fields given are sent."
    )
    async def update_counterpart_contact(
        self,
        info: Info,
        counterpart_id: CounterpartId,
        id: CounterpartContactId,
        input: CounterpartContactUpdateInput,
    ) -> CounterpartContactPayload | None:
        key = read_counterpart_id(counterpart_id, argument="counterpartId")
        contact_key = read_child_id(id, "CounterpartContact", key, argument="id")
        errors = check_emails(input.email, ["input", "email"], several=False)
        if errors:
            return CounterpartContactPayload(contact=None, user_errors=errors)
        client = info.context.monite
        body = monite_body(input)
        return _payload(
            await attempt(
                info, key, lambda: client.update_contact(key, contact_key, body), id_field=["id"]
            ),
            key,
        )

    @strawberry.mutation(description="Delete a counterpart contact.")
    async def delete_counterpart_contact(
        self, info: Info, counterpart_id: CounterpartId, id: CounterpartContactId
    ) -> DeletePayload | None:
        key = read_counterpart_id(counterpart_id, argument="counterpartId")
        contact_key = read_child_id(id, "CounterpartContact", key, argument="id")
        client = info.context.monite
        result = await attempt(
            info, key, lambda: client.delete_contact(key, contact_key), id_field=["id"]
        )
        return DeletePayload.of(result, "CounterpartContact", key, contact_key)

    @strawberry.mutation(
        description="Make this contact the counterpart's default; the previous one stops being it."
    )
    async def make_counterpart_contact_default(
        self, info: Info, counterpart_id: CounterpartId, id: CounterpartContactId
    ) -> CounterpartContactPayload | None:
        key = read_counterpart_id(counterpart_id, argument="counterpartId")
        contact_key = read_child_id(id, "CounterpartContact", key, argument="id")
        client = info.context.monite
        return _payload(
            await attempt(
                info, key, lambda: client.make_default(key, contact_key), id_field=["id"]
            ),
            key,
        )

"""Contact mutations: each returns a payload with `userErrors`; nothing is retried."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from gateway.context import RequestContext
from gateway.errors import UpstreamRejected
from gateway.ids import global_id, read_child_id, read_contact_id
from gateway.schema.arguments import ContactId, ContactPersonId, NoteId
from gateway.schema.contacts.inputs import (
    ContactInput,
    ContactPersonInput,
    NoteInput,
    upstream_body,
)
from gateway.schema.contacts.types import Contact, ContactPerson, Note
from gateway.schema.relay import with_parent
from gateway.schema.user_errors import UserError, moneybird_user_errors
from gateway.schema.views import view

Info = strawberry.Info[RequestContext, None]
T = TypeVar("T")


@strawberry.type(description="The contact after the change; null when it did not happen.")
class ContactPayload:
    contact: Contact | None
    user_errors: list[UserError]


@strawberry.type(description="The id of what was deleted; null when nothing was.")
class DeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        description=(
            "The global id (`id`) of what was deleted: for Relay's @deleteRecord or "
            "Apollo Client's cache.evict."
        )
    )
    user_errors: list[UserError]

    @classmethod
    def of(cls, result: list[UserError] | None, type_name: str, *keys: str) -> DeletePayload:
        """The user errors of a delete that did not happen, or the global id of what went."""
        if result is not None:
            return cls(deleted_id=None, user_errors=result)
        return cls(deleted_id=strawberry.ID(global_id(type_name, *keys)), user_errors=[])


@strawberry.type
class NotePayload:
    note: Note | None
    user_errors: list[UserError]


@strawberry.type
class ContactPersonPayload:
    contact_person: ContactPerson | None
    user_errors: list[UserError]


async def attempt(
    info: Info,
    contact_id: str | None,
    change: Callable[[], Awaitable[T]],
    *,
    id_field: list[str],
    read_back: bool = False,
) -> T | list[UserError]:
    """Run one write; a refusal becomes user errors. Whatever happens to the contact,
    this request's loader forgets it, so the next read shows the upstream's state.

    `read_back` is for writes Moneybird answers without the contact (archiving, notes,
    contact people): the contact is read back so that the mirror has its new version.
    """
    try:
        result = await change()
    except UpstreamRejected as error:
        return moneybird_user_errors(error, id_field=id_field)
    finally:
        if contact_id is not None:
            info.context.contact_by_id.forget(contact_id)
    if read_back and contact_id is not None:
        await info.context.read_back_contact(contact_id)
    return result


@strawberry.type
class ContactMutations:
    @strawberry.mutation(description="Create a contact (POST contacts.json).")
    async def create_contact(self, info: Info, input: ContactInput) -> ContactPayload | None:
        body, errors = upstream_body(input)
        if errors:
            return ContactPayload(contact=None, user_errors=errors)
        client = info.context.moneybird
        result = await attempt(info, None, lambda: client.create_contact(body), id_field=["input"])
        return await _contact_payload(info, result)

    @strawberry.mutation(
        description=(
            "Change a contact (PATCH contacts/{id}.json). Only the fields given are sent: "
            "a field left out keeps its value, a field given as null is cleared."
        )
    )
    async def update_contact(
        self, info: Info, id: ContactId, input: ContactInput
    ) -> ContactPayload | None:
        key = read_contact_id(id)
        body, errors = upstream_body(input)
        if errors:
            return ContactPayload(contact=None, user_errors=errors)
        client = info.context.moneybird
        result = await attempt(info, key, lambda: client.update_contact(key, body), id_field=["id"])
        return await _contact_payload(info, result)

    @strawberry.mutation(description="Delete a contact. Contacts with documents cannot be deleted.")
    async def delete_contact(self, info: Info, id: ContactId) -> DeletePayload | None:
        key = read_contact_id(id)
        client = info.context.moneybird
        result = await attempt(info, key, lambda: client.delete_contact(key), id_field=["id"])
        if result is None:
            info.context.contact_by_id.gone(key)
            await info.context.record_deleted_contact(key)
        return DeletePayload.of(result, "Contact", key)

    @strawberry.mutation(description="Archive a contact; archived contacts leave lists by default.")
    async def archive_contact(self, info: Info, id: ContactId) -> ContactPayload | None:
        key = read_contact_id(id)
        client = info.context.moneybird
        result = await attempt(
            info, key, lambda: client.archive_contact(key), id_field=["id"], read_back=True
        )
        if isinstance(result, list):
            return ContactPayload(contact=None, user_errors=result)
        # Moneybird answers 204: the archived contact was read back.
        raw = await info.context.contact_by_id.load(key)
        return ContactPayload(contact=None if raw is None else view(Contact, raw), user_errors=[])

    @strawberry.mutation(description="Add a note or to-do to a contact.")
    async def add_contact_note(
        self, info: Info, contact_id: ContactId, input: NoteInput
    ) -> NotePayload | None:
        key = read_contact_id(contact_id, argument="contactId")
        body, errors = upstream_body(input)
        if errors:
            return NotePayload(note=None, user_errors=errors)
        client = info.context.moneybird
        result = await attempt(
            info, key, lambda: client.add_note(key, body), id_field=["contactId"], read_back=True
        )
        if isinstance(result, list):
            return NotePayload(note=None, user_errors=result)
        return NotePayload(note=view(Note, with_parent(result, "entity_id", key)), user_errors=[])

    @strawberry.mutation(description="Delete a note from a contact.")
    async def delete_contact_note(
        self, info: Info, contact_id: ContactId, note_id: NoteId
    ) -> DeletePayload | None:
        key = read_contact_id(contact_id, argument="contactId")
        note_key = read_child_id(note_id, "Note", key, argument="noteId")
        client = info.context.moneybird
        result = await attempt(
            info,
            key,
            lambda: client.delete_note(key, note_key),
            id_field=["noteId"],
            read_back=True,
        )
        return DeletePayload.of(result, "Note", key, note_key)

    @strawberry.mutation(description="Add a person to a contact; firstname and lastname required.")
    async def create_contact_person(
        self, info: Info, contact_id: ContactId, input: ContactPersonInput
    ) -> ContactPersonPayload | None:
        key = read_contact_id(contact_id, argument="contactId")
        body, errors = upstream_body(input)
        if errors:
            return ContactPersonPayload(contact_person=None, user_errors=errors)
        client = info.context.moneybird
        result = await attempt(
            info,
            key,
            lambda: client.create_contact_person(key, body),
            id_field=["contactId"],
            read_back=True,
        )
        return _person_payload(result, key)

    @strawberry.mutation(description="Change a contact person; only the fields given are sent.")
    async def update_contact_person(
        self, info: Info, contact_id: ContactId, id: ContactPersonId, input: ContactPersonInput
    ) -> ContactPersonPayload | None:
        key = read_contact_id(contact_id, argument="contactId")
        person_key = read_child_id(id, "ContactPerson", key, argument="id")
        body, errors = upstream_body(input)
        if errors:
            return ContactPersonPayload(contact_person=None, user_errors=errors)
        client = info.context.moneybird
        result = await attempt(
            info,
            key,
            lambda: client.update_contact_person(key, person_key, body),
            id_field=["id"],
            read_back=True,
        )
        return _person_payload(result, key)

    @strawberry.mutation(description="Remove a person from a contact.")
    async def delete_contact_person(
        self, info: Info, contact_id: ContactId, id: ContactPersonId
    ) -> DeletePayload | None:
        key = read_contact_id(contact_id, argument="contactId")
        person_key = read_child_id(id, "ContactPerson", key, argument="id")
        client = info.context.moneybird
        result = await attempt(
            info,
            key,
            lambda: client.delete_contact_person(key, person_key),
            id_field=["id"],
            read_back=True,
        )
        return DeletePayload.of(result, "ContactPerson", key, person_key)


async def _contact_payload(info: Info, result: dict[str, Any] | list[UserError]) -> ContactPayload:
    if isinstance(result, list):
        return ContactPayload(contact=None, user_errors=result)
    await info.context.record_contact(result)
    info.context.contact_by_id.prime_many([result])
    return ContactPayload(contact=view(Contact, result), user_errors=[])


def _person_payload(
    result: dict[str, Any] | list[UserError], contact_key: str
) -> ContactPersonPayload:
    if isinstance(result, list):
        return ContactPersonPayload(contact_person=None, user_errors=result)
    person = view(ContactPerson, with_parent(result, "contact_id", contact_key))
    return ContactPersonPayload(contact_person=person, user_errors=[])

"""The id arguments, with the forms each takes in its description.

An argument that names an object takes its global id (`id`, what Relay and
Apollo Client keep) or the id its upstream shows (`moneybirdId`, `moniteId`,
what a person copies from Moneybird or Monite): `gateway.ids` reads both.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Annotated

import strawberry

from gateway.errors import BadUserInput

ContactId = Annotated[
    strawberry.ID,
    strawberry.argument(description="A contact: its `id`, or its Moneybird id (`moneybirdId`)."),
]
ContactIds = Annotated[
    list[strawberry.ID],
    strawberry.argument(
        description="Contacts, each by its `id` or its Moneybird id (`moneybirdId`)."
    ),
]
NoteId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="A note of that contact: its `id`, or its Moneybird id (`moneybirdId`)."
    ),
]
ContactPersonId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="A person of that contact: its `id`, or its Moneybird id (`moneybirdId`)."
    ),
]
CounterpartId = Annotated[
    strawberry.ID,
    strawberry.argument(description="A counterpart: its `id`, or its Monite id (`moniteId`)."),
]
CounterpartContactId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="A contact of that counterpart: its `id`, or its Monite id (`moniteId`)."
    ),
]


def check_id_count(ids: Sized, max_ids: int) -> None:
    """A list of ids holds at most `max_ids` (GATEWAY_MAX_IDS); BadUserInput otherwise."""
    if len(ids) > max_ids:
        raise BadUserInput(f"`ids` may hold at most {max_ids} ids; got {len(ids)}.", argument="ids")

"""Validation of the ids clients send, before any of them reaches an upstream URL,
and the global ids the schema gives its objects.

Moneybird ids are 64-bit integers written as decimal strings; they are kept as
strings end to end and only turned into exact Python ints for JSON bodies, never
through a float. Monite ids are UUIDs.

A global id (the `id` of every `Node`) names the type and the upstream keys
that find the object: `Contact:<moneybird id>`, `Note:<contact>:<note>`,
`ContactPerson:<contact>:<person>`, `Counterpart:<uuid>`,
`CounterpartContact:<counterpart>:<contact>`, in unpadded URL-safe base64 so
that clients treat it as opaque and can put it in a URL as it is. Notes,
people and counterpart contacts come inside their parent, so their ids carry
the parent's key: `node(id:)` finds them through it. Arguments that name an
object take its global id or its upstream id (`read_contact_id` and the like).
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Callable

from gateway.errors import BadUserInput

MONEYBIRD_ID_PATTERN = re.compile(r"\d{1,19}")
_MAX_INT64 = 2**63 - 1


def moneybird_id(value: object, *, argument: str = "id") -> str:
    """The canonical form of a Moneybird id (no leading zeros), or BadUserInput."""
    try:
        return _canonical_moneybird(str(value))
    except ValueError:
        raise BadUserInput(
            f"`{argument}` must be a Moneybird id: digits only, at most 19 of them.",
            argument=argument,
        ) from None


def _canonical_moneybird(text: str) -> str:
    if not MONEYBIRD_ID_PATTERN.fullmatch(text) or int(text) > _MAX_INT64:
        raise ValueError(text)
    return str(int(text))


def monite_id(value: object, *, argument: str = "id") -> str:
    """The canonical (lower-case, hyphenated) form of a Monite UUID, or BadUserInput."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise BadUserInput(f"`{argument}` must be a UUID.", argument=argument) from None


def upstream_key(value: object) -> str | None:
    """The canonical digits of a Moneybird id as an upstream sent it (a string or an
    exact JSON integer); None for anything else, a float above all."""
    if value.__class__ is str and value.isascii() and value.isdigit() and value[0] != "0":
        # Already canonical, as Moneybird sends ids: every global id reads one.
        return value
    if value is None or isinstance(value, (bool, float)):
        return None
    text = str(value)
    return str(int(text)) if text.isdigit() else None


def monite_key(value: object) -> str | None:
    """A Monite id as an upstream sent it, keyed lower-case as Monite writes UUIDs;
    None for anything but a non-empty string."""
    return value.lower() if isinstance(value, str) and value else None


NODE_TYPES = ("Contact", "Note", "ContactPerson", "Counterpart", "CounterpartContact")
_PARENTS = {"Note": "Contact", "ContactPerson": "Contact", "CounterpartContact": "Counterpart"}
_UPSTREAM_IDS = {
    "Contact": "its Moneybird id",
    "Note": "its Moneybird id",
    "ContactPerson": "its Moneybird id",
    "Counterpart": "its Monite id (a UUID)",
    "CounterpartContact": "its Monite id (a UUID)",
}


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def global_id(type_name: str, *keys: str) -> str:
    """The global id of the object of `type_name` that `keys` find."""
    return encode_global_id(":".join((type_name, *keys)))


def encode_global_id(text: str) -> str:
    """A global id of its text (`Type:key[:key]`): base64url without padding, as
    `base64.urlsafe_b64encode` writes it, in fewer steps: every object read pays it."""
    encoded = binascii.b2a_base64(text.encode(), newline=False).translate(_URL_SAFE)
    return encoded.rstrip(b"=").decode()


def parse_global_id(value: object) -> tuple[str, tuple[str, ...]] | None:
    """The type and canonical keys of a global id this gateway gives; None for
    anything else (an upstream id above all)."""
    text = str(value)
    if not text or len(text) > 200 or text.isdigit():
        return None
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, _, rest = decoded.partition(":")
    if type_name not in NODE_TYPES:
        return None
    keys = tuple(rest.split(":"))
    try:
        if type_name.startswith("Counterpart"):
            canonical = tuple(str(uuid.UUID(key)) for key in keys)
        else:
            canonical = tuple(_canonical_moneybird(key) for key in keys)
    except ValueError:
        return None
    if len(canonical) != (2 if type_name in _PARENTS else 1):
        return None
    return type_name, canonical


def _node_keys(
    value: object, type_name: str, argument: str, upstream: Callable[..., str]
) -> tuple[str, ...]:
    """The keys of `type_name`'s object from its global id, or from its upstream
    id alone (one key, the parent's left out); BadUserInput for anything else."""
    parsed = parse_global_id(value)
    if parsed is not None:
        found, keys = parsed
        if found != type_name:
            raise BadUserInput(
                f"`{argument}` is the id of a {found}, not of a {type_name}.", argument=argument
            )
        return keys
    try:
        return (upstream(value, argument=argument),)
    except BadUserInput:
        raise BadUserInput(
            f"`{argument}` must be a {type_name}'s id: its `id`, or {_UPSTREAM_IDS[type_name]}.",
            argument=argument,
        ) from None


def read_contact_id(value: object, *, argument: str = "id") -> str:
    """The Moneybird id of a contact named by its global id or its Moneybird id."""
    return _node_keys(value, "Contact", argument, moneybird_id)[0]


def read_counterpart_id(value: object, *, argument: str = "id") -> str:
    """The Monite id of a counterpart named by its global id or its Monite id."""
    return _node_keys(value, "Counterpart", argument, monite_id)[0]


def read_child_id(value: object, type_name: str, parent_key: str, *, argument: str) -> str:
    """The upstream id of a note or contact person (of `parent_key`'s contact), or
    of a counterpart contact (of `parent_key`'s counterpart), named by its global
    id or its upstream id. A global id of another parent's child is refused:
    the upstream would not find it there."""
    upstream = monite_id if type_name == "CounterpartContact" else moneybird_id
    keys = _node_keys(value, type_name, argument, upstream)
    if len(keys) == 2:
        parent, key = keys
        if parent != parent_key:
            raise BadUserInput(
                f"`{argument}` is the id of a {type_name} of another {_PARENTS[type_name]}.",
                argument=argument,
            )
        return key
    return keys[0]

"""Per-request upstream credentials, read from the client's request headers.

Each upstream has its own headers and its credentials go only to that upstream.
The gateway keeps none of them beyond the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

MONEYBIRD_TOKEN_HEADER = "x-moneybird-token"  # noqa: S105 - a header name, not a secret
MONEYBIRD_ADMINISTRATION_HEADER = "x-moneybird-administration-id"
MONITE_TOKEN_HEADER = "x-monite-token"  # noqa: S105 - a header name, not a secret
MONITE_ENTITY_HEADER = "x-monite-entity-id"
CREDENTIAL_HEADERS = (
    MONEYBIRD_TOKEN_HEADER,
    MONEYBIRD_ADMINISTRATION_HEADER,
    MONITE_TOKEN_HEADER,
    MONITE_ENTITY_HEADER,
)


@dataclass(frozen=True)
class Credentials:
    moneybird_token: str | None = field(default=None, repr=False)
    moneybird_administration_id: str | None = None
    monite_token: str | None = field(default=None, repr=False)
    monite_entity_id: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Credentials:
        return cls(
            moneybird_token=_value(headers, MONEYBIRD_TOKEN_HEADER),
            moneybird_administration_id=_value(headers, MONEYBIRD_ADMINISTRATION_HEADER),
            monite_token=_value(headers, MONITE_TOKEN_HEADER),
            monite_entity_id=_value(headers, MONITE_ENTITY_HEADER),
        )


def _value(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name, "").strip()
    if value.lower().startswith("bearer "):
        # People paste a whole Authorization value; the scheme is ours to add.
        value = value[len("bearer ") :].strip()
    return value or None

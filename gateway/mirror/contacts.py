"""One administration's contacts, held in memory and answered as Moneybird answers.

The answers follow Moneybird's documented behaviour for each endpoint the
gateway reads:

- `POST contacts/synchronization`: any contact by id, archived ones included.
- `GET contacts/customer_id/{customer_id}`: the contact with that customer id
  that is not archived.
- `GET contacts/synchronization`: every id and version, archived ones only with
  `include_archived`.
- `GET contacts` and `GET contacts/filter`, paged: in Moneybird's order (by id,
  which Moneybird hands out increasing), archived ones only with
  `include_archived`; `query` keeps the contacts in which every word of the
  query appears, whatever the case, in one of the searched fields (name,
  address, email, phone, customer id, tax and chamber of commerce numbers, IBAN,
  attention, and the names of the contact's people); `filter` terms as the
  filter endpoint documents them.

tests/mirror/test_equivalence.py asks the sandbox's Moneybird and this model the
same questions and holds them to the same answers.

Each contact carries Moneybird's `version` (a Unix time that grows with every
change), so a change applies only when it is not older than what is held, and
a deleted contact stays deleted against a late, older change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.ids import upstream_key

Contact = dict[str, Any]

SEARCHED_FIELDS = (
    "company_name",
    "attention",
    "firstname",
    "lastname",
    "address1",
    "address2",
    "zipcode",
    "city",
    "country",
    "email",
    "phone",
    "customer_id",
    "tax_number",
    "chamber_of_commerce",
    "bank_account",
)


@dataclass(frozen=True, slots=True)
class Window:
    contacts: list[Contact]
    has_next_page: bool


class UnknownFilter(ValueError):
    """A filter term Moneybird does not document; the schema never sends one."""


class AdministrationContacts:
    def __init__(self) -> None:
        self._contacts: dict[str, Contact] = {}
        self._versions: dict[str, int] = {}
        # Lower-cased text of the searched fields, made once per version of a contact.
        self._searchable: dict[str, str] = {}
        # Deleted ids and the time of deletion, against changes that arrive late.
        self._deleted: dict[str, int] = {}
        self._ordered: list[str] | None = []

    def __len__(self) -> int:
        return len(self._contacts)

    def apply(self, contact: Contact) -> bool:
        """Hold `contact` unless what is held is newer; True when it changed anything."""
        key = upstream_key(contact.get("id"))
        if key is None:
            return False
        version = version_in(contact) or 0
        held = self._versions.get(key)
        if held is not None and version < held:
            return False
        deleted_at = self._deleted.get(key)
        if deleted_at is not None:
            if version <= deleted_at:
                return False
            del self._deleted[key]
        if key not in self._contacts:
            self._ordered = None
        self._contacts[key] = contact
        self._versions[key] = version
        self._searchable[key] = _searchable_text(contact)
        return True

    def remove(self, key: str, *, at: int) -> bool:
        """Forget a deleted contact; a change older than `at` does not bring it back."""
        self._deleted[key] = max(at, self._deleted.get(key, at))
        if key not in self._contacts:
            return False
        del self._contacts[key]
        del self._versions[key]
        del self._searchable[key]
        self._ordered = None
        return True

    def get(self, key: str) -> Contact | None:
        return self._contacts.get(key)

    def ids(self) -> set[str]:
        return set(self._contacts)

    def version_of(self, key: str) -> int | None:
        return self._versions.get(key)

    def by_customer_id(self, customer_id: str) -> Contact | None:
        for key in self._order():
            contact = self._contacts[key]
            if contact.get("customer_id") == customer_id and not contact.get("archived"):
                return contact
        return None

    def versions(self, *, include_archived: bool) -> list[dict[str, Any]]:
        return [
            {"id": self._contacts[key].get("id"), "version": self._versions[key]}
            for key in self._order()
            if include_archived or not self._contacts[key].get("archived")
        ]

    def window(
        self,
        *,
        offset: int,
        size: int,
        query: str | None,
        filter_terms: Sequence[tuple[str, str]],
        include_archived: bool | None,
    ) -> Window:
        """`size` contacts from `offset` of the list Moneybird would page through."""
        tests = [_filter_test(key, value) for key, value in filter_terms]
        words = query.lower().split() if query else []
        selected = []
        for key in self._order():
            contact = self._contacts[key]
            if contact.get("archived") and not include_archived:
                continue
            if words:
                text = self._searchable[key]
                if not all(word in text for word in words):
                    continue
            if tests and not all(test(contact) for test in tests):
                continue
            selected.append(contact)
            if len(selected) > offset + size:
                break  # one past the window: there is a next page
        return Window(selected[offset : offset + size], len(selected) > offset + size)

    def _order(self) -> list[str]:
        if self._ordered is None:
            self._ordered = sorted(self._contacts, key=int)
        return self._ordered


def version_in(contact: Contact) -> int | None:
    """The contact's version as Moneybird numbers it; None when it has none."""
    version = contact.get("version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def _searchable_text(contact: Contact) -> str:
    parts = [str(contact.get(name) or "") for name in SEARCHED_FIELDS]
    people = contact.get("contact_people")
    if isinstance(people, list):
        for person in people:
            if isinstance(person, dict):
                parts.append(str(person.get("firstname") or ""))
                parts.append(str(person.get("lastname") or ""))
    return " ".join(parts).lower()


def _filter_test(key: str, value: str) -> Callable[[Contact], bool]:
    if key in ("created_after", "updated_after"):
        field = "created_at" if key == "created_after" else "updated_at"
        moment = _moment(value)
        if moment is None:
            raise UnknownFilter(f"{key}:{value}")
        return lambda contact: _after(contact.get(field), moment)
    if key in ("first_name", "last_name"):
        field = "firstname" if key == "first_name" else "lastname"
        wanted = value.lower()
        return lambda contact: str(contact.get(field) or "").lower() == wanted
    if value == "all" and key in ("contact_type", "delivery_method", "trusted_type"):
        return lambda contact: True
    if key == "contact_type" and value in ("company", "private_individual"):
        company = value == "company"
        return lambda contact: bool(contact.get("company_name")) == company
    if key == "delivery_method":
        wanted = value.lower()
        return lambda contact: str(contact.get("delivery_method") or "").lower() == wanted
    if key == "trusted_type" and value in ("trusted", "not_trusted"):
        trusted = value == "trusted"
        return lambda contact: bool(contact.get("is_trusted")) == trusted
    if key in ("invoice_workflow_id", "estimate_workflow_id"):
        return lambda contact: str(contact.get(key)) == value
    raise UnknownFilter(f"{key}:{value}")


def _moment(text: str) -> datetime | None:
    """A time as the gateway or a client writes it, in UTC."""
    cleaned = text.strip().removesuffix(" UTC").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _after(value: Any, moment: datetime) -> bool:
    held = _moment(value) if isinstance(value, str) else None
    return held is not None and held > moment

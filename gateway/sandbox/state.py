"""Everything the sandbox holds: data, request log, faults, rate limit, webhooks. One per
sandbox app."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.sandbox import seed
from gateway.sandbox.recorder import Faults, RecordedRequest, RequestLog
from gateway.sandbox.throttle import Throttle
from gateway.sandbox.webhooks import Webhooks


@dataclass
class MoneybirdData:
    administration_id: str
    contacts: dict[str, dict[str, Any]]
    custom_fields: dict[str, str]
    next_id: seed.IdSequence
    # Contacts that, in a real administration, have invoices: Moneybird refuses to delete them.
    undeletable: set[str]

    @classmethod
    def seeded(cls, contact_count: int) -> MoneybirdData:
        next_id = seed.IdSequence()
        contacts = seed.seed_contacts(next_id, contact_count)
        return cls(
            administration_id=seed.ADMINISTRATION_ID,
            contacts={contact["id"]: contact for contact in contacts},
            custom_fields=dict(seed.CUSTOM_FIELDS),
            next_id=next_id,
            undeletable={c["id"] for c in contacts if int(c["customer_id"]) % 7 == 0},
        )


@dataclass
class MoniteData:
    entity_id: str
    counterparts: dict[str, dict[str, Any]]

    @classmethod
    def seeded(cls, entity_id: str, counterpart_count: int) -> MoniteData:
        counterparts = seed.seed_counterparts(counterpart_count)
        return cls(entity_id=entity_id, counterparts={c["id"]: c for c in counterparts})


@dataclass
class SandboxState:
    contact_count: int = 300
    counterpart_count: int = 60
    entity_id: str = seed.ENTITY_ID
    log_limit: int = 10_000
    log: RequestLog = field(init=False)
    faults: dict[str, Faults] = field(
        default_factory=lambda: {"moneybird": Faults(), "monite": Faults()}
    )
    moneybird: MoneybirdData = field(init=False)
    monite: MoniteData = field(init=False)
    # Moneybird's rate limit as (requests, seconds), None for none. Off unless asked
    # for: offline development and the tests would otherwise run into it.
    moneybird_rate_limit: tuple[int, float] | None = None
    # What the rate limit is counted per: "token" or "address" (see sandbox/throttle.py).
    moneybird_rate_limit_per: str = "token"
    # Epoch seconds; the rate limit's windows are aligned to it. Tests stand in a fake.
    clock: Callable[[], float] = time.time
    moneybird_throttle: Throttle = field(init=False)
    # Seconds before the first retry of a webhook push that failed; retry n waits n times
    # as long.
    moneybird_webhook_retry_interval: float = 60.0
    webhooks: Webhooks = field(init=False)
    _configured: tuple[tuple[int, float] | None, float] = field(init=False, default=(None, 60.0))

    def __post_init__(self) -> None:
        self.log = RequestLog(self.log_limit)
        self._configured = (self.moneybird_rate_limit, self.moneybird_webhook_retry_interval)
        self.moneybird_throttle = Throttle(
            lambda: self.moneybird_rate_limit,
            lambda: self.clock(),
            lambda: self.moneybird_rate_limit_per,
        )
        self.webhooks = Webhooks(lambda: self.moneybird_webhook_retry_interval, self.log_limit)
        self.reset()

    def reset(self) -> None:
        """Back to the seeded data, an empty log, no faults, no webhooks, and the rate
        limit and retry interval the sandbox was made with, the rate counts cleared."""
        self.moneybird = MoneybirdData.seeded(self.contact_count)
        self.monite = MoniteData.seeded(self.entity_id, self.counterpart_count)
        self.log.clear()
        for faults in self.faults.values():
            faults.clear()
        self.moneybird_rate_limit, self.moneybird_webhook_retry_interval = self._configured
        self.moneybird_rate_limit_per = "token"
        self.moneybird_throttle.clear()
        self.webhooks.reset()

    def requests(self, upstream: str | None = None) -> list[RecordedRequest]:
        return self.log.entries(upstream)

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of all data, to compare before and after."""
        return copy.deepcopy(
            {"contacts": self.moneybird.contacts, "counterparts": self.monite.counterparts}
        )

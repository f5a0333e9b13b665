"""The per-request context: credentials, upstream clients and fresh loaders.

Made once per HTTP request; the operations of a request share it, so they
share its loaders and its upstream deadline.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from starlette.requests import Request

from gateway.credentials import Credentials
from gateway.errors import MissingCredentials
from gateway.ids import moneybird_id, monite_id
from gateway.loaders.contacts import ContactByIdLoader, ContactSource
from gateway.loaders.counterparts import ContactsByCounterpartLoader, CounterpartByIdLoader
from gateway.mirror.mirrors import Mirrors
from gateway.services import Services
from gateway.upstream import request_scope
from gateway.upstream.moneybird import MoneybirdClient
from gateway.upstream.monite import MoniteClient


@dataclass
class RequestContext:
    request: Request
    services: Services
    credentials: Credentials = field(repr=False)

    @classmethod
    def for_request(cls, request: Request) -> RequestContext:
        """The context of an HTTP request; the request's upstream deadline starts now."""
        services: Services = request.app.state.services
        request_scope.start(services.settings.request_deadline)
        return cls(
            request=request,
            services=services,
            credentials=Credentials.from_headers(request.headers),
        )

    @property
    def request_id(self) -> str | None:
        request_id: str | None = getattr(self.request.state, "request_id", None)
        return request_id

    @cached_property
    def moneybird_credentials(self) -> tuple[str, str]:
        """(token, administration) of this request; UNAUTHENTICATED without them."""
        token = self.credentials.moneybird_token
        if token is None:
            raise MissingCredentials(
                "Moneybird needs a token: send it in the X-Moneybird-Token header.",
                upstream="Moneybird",
            )
        administration = (
            self.credentials.moneybird_administration_id
            or self.services.settings.moneybird_administration_id
        )
        if administration is None:
            raise MissingCredentials(
                "Moneybird needs an administration: send X-Moneybird-Administration-Id "
                "or set MONEYBIRD_ADMINISTRATION_ID.",
                upstream="Moneybird",
            )
        return token, moneybird_id(administration, argument="X-Moneybird-Administration-Id")

    @cached_property
    def moneybird(self) -> MoneybirdClient:
        """This request's Moneybird client; UNAUTHENTICATED before any call without a token."""
        token, administration = self.moneybird_credentials
        return MoneybirdClient(
            self.services.moneybird, token=token, administration_id=administration
        )

    @cached_property
    def contact_source(self) -> ContactSourceOpener:
        """Where this request reads Moneybird contacts (`await context.contact_source()`)."""
        token, administration = self.moneybird_credentials
        mirrors = None if _asks_for_fresh(self.request) else self.services.mirrors
        return ContactSourceOpener(
            self.moneybird, mirrors, token=token, administration=administration
        )

    @property
    def mirror_synced_at(self) -> float | None:
        """When the mirror this request read from last matched Moneybird; None when
        it read from Moneybird itself."""
        opener = self.__dict__.get("contact_source")
        return None if opener is None else opener.synced_at

    async def record_contact(self, contact: dict[str, Any]) -> None:
        """A contact as Moneybird returned it after a write: the mirror takes it at once."""
        if self.services.mirrors is not None:
            await self.services.mirrors.record(self.moneybird_credentials[1], contact)

    async def read_back_contact(self, key: str) -> None:
        """After a write Moneybird answers without the contact: read it from Moneybird,
        so that the mirror has its new version."""
        if self.services.mirrors is None:
            return
        contacts = await self.moneybird.contacts_by_ids([key])
        if contacts:
            await self.record_contact(contacts[0])
        else:
            await self.record_deleted_contact(key)

    async def record_deleted_contact(self, key: str) -> None:
        if self.services.mirrors is not None:
            await self.services.mirrors.record_deleted(
                self.moneybird_credentials[1], key, at=int(time.time())
            )

    @cached_property
    def contact_by_id(self) -> ContactByIdLoader:
        return ContactByIdLoader(self.contact_source)

    @cached_property
    def monite(self) -> MoniteClient:
        """This request's Monite client; UNAUTHENTICATED before any call without a token."""
        token = self.credentials.monite_token
        if token is None:
            raise MissingCredentials(
                "Monite needs a token: send it in the X-Monite-Token header.", upstream="Monite"
            )
        entity = self.credentials.monite_entity_id or self.services.settings.monite_entity_id
        if entity is None:
            raise MissingCredentials(
                "Monite needs an entity: send X-Monite-Entity-Id or set MONITE_ENTITY_ID.",
                upstream="Monite",
            )
        return MoniteClient(
            self.services.monite,
            token=token,
            entity_id=monite_id(entity, argument="X-Monite-Entity-Id"),
            version=self.services.settings.monite_version,
        )

    @cached_property
    def counterpart_by_id(self) -> CounterpartByIdLoader:
        return CounterpartByIdLoader(self.monite)

    @cached_property
    def contacts_by_counterpart(self) -> ContactsByCounterpartLoader:
        return ContactsByCounterpartLoader(self.monite)


def _asks_for_fresh(request: Request) -> bool:
    directives = request.headers.get("cache-control", "").lower()
    return "no-cache" in directives or "no-store" in directives


class ContactSourceOpener:
    """Opens a request's contact source once, on first use: the administration's
    mirror, or Moneybird itself when the mirror is off or the client asked for a
    fresh read (`Cache-Control: no-cache`). Holds no reference to the request's
    context, which holds it (through the contact loader too)."""

    __slots__ = ("_administration", "_client", "_mirrors", "_opened", "_token", "synced_at")

    def __init__(
        self,
        client: MoneybirdClient,
        mirrors: Mirrors | None,
        *,
        token: str,
        administration: str,
    ) -> None:
        self._client = client
        self._mirrors = mirrors
        self._token = token
        self._administration = administration
        self._opened: asyncio.Future[ContactSource] | None = None
        self.synced_at: float | None = None

    async def __call__(self) -> ContactSource:
        if self._opened is None:
            self._opened = asyncio.ensure_future(self._open())
        return await self._opened

    async def _open(self) -> ContactSource:
        if self._mirrors is None:
            return self._client
        session = await self._mirrors.session(
            self._client, token=self._token, administration=self._administration
        )
        self.synced_at = session.synced_at
        return session

"""The per-request context: credentials, upstream clients and fresh loaders.

Made once per HTTP request; the operations of a request share it, so they
share its loaders and its upstream deadline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from starlette.requests import Request

from gateway.credentials import Credentials
from gateway.errors import MissingCredentials
from gateway.ids import moneybird_id, monite_id
from gateway.loaders.contacts import ContactByIdLoader
from gateway.loaders.counterparts import ContactsByCounterpartLoader, CounterpartByIdLoader
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
    def moneybird(self) -> MoneybirdClient:
        """This request's Moneybird client; UNAUTHENTICATED before any call without a token."""
        token = self.credentials.moneybird_token
        if token is None:
            raise MissingCredentials(
                "Moneybird needs a token: send it in the X-Moneybird-Token header.",
                upstream="Moneybird",
            )
        administration = (
            self.credentials.moneybird_administration_id
            or self.services.settings.default_administration_id()
        )
        if administration is None:
            raise MissingCredentials(
                "Moneybird needs an administration: send X-Moneybird-Administration-Id "
                "or set MONEYBIRD_ADMINISTRATION_ID.",
                upstream="Moneybird",
            )
        administration = moneybird_id(administration, argument="X-Moneybird-Administration-Id")
        return MoneybirdClient(
            self.services.moneybird, token=token, administration_id=administration
        )

    @cached_property
    def contact_by_id(self) -> ContactByIdLoader:
        return ContactByIdLoader(self.moneybird)

    @cached_property
    def monite(self) -> MoniteClient:
        """This request's Monite client; UNAUTHENTICATED before any call without a token."""
        token = self.credentials.monite_token
        if token is None:
            raise MissingCredentials(
                "Monite needs a token: send it in the X-Monite-Token header.", upstream="Monite"
            )
        entity = self.credentials.monite_entity_id or self.services.settings.default_entity_id()
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

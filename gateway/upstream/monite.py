"""Monite's counterparts API (version 2024-01-31), as the gateway uses it.

One `MoniteClient` per GraphQL request, bound to that request's token and entity;
every call carries `x-monite-version` and `x-monite-entity-id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.upstream.http import (
    UpstreamHTTP,
    UpstreamRequest,
    expect_object,
    expect_objects,
    path_segment,
)

UPSTREAM = "Monite"
ID_IN_BATCH_SIZE = 100


def read_error_message(body: Any) -> str | None:
    """`{"error": {"message": ...}}`, or the first `msg` of a 422 `{"detail": [...]}`."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    detail = body.get("detail")
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return str(detail[0].get("msg", "")) or None
    if isinstance(detail, str):
        return detail
    return None


@dataclass(frozen=True)
class CounterpartPage:
    counterparts: list[dict[str, Any]]
    next_token: str | None


class MoniteClient:
    def __init__(self, http: UpstreamHTTP, *, token: str, entity_id: str, version: str) -> None:
        self._http = http
        self._headers = {
            "authorization": f"Bearer {token}",
            "x-monite-version": version,
            "x-monite-entity-id": entity_id,
        }

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: Any = None,
    ) -> Any:
        request = UpstreamRequest(
            method, path, self._headers, is_write=method != "GET", params=params or (), json=body
        )
        return (await self._http.send(request)).body

    async def counterparts_by_ids(self, ids: list[str]) -> list[dict[str, Any]]:
        if len(ids) > ID_IN_BATCH_SIZE:
            raise ValueError("Monite lists at most 100 counterparts a call")
        params = [("id__in", counterpart_id) for counterpart_id in ids]
        params.append(("limit", str(ID_IN_BATCH_SIZE)))
        return _data(await self._call("GET", "counterparts", params=params))

    async def list_counterparts(
        self,
        *,
        limit: int,
        pagination_token: str | None,
        name: str | None,
        is_customer: bool | None,
        is_vendor: bool | None,
    ) -> CounterpartPage:
        params: list[tuple[str, str]] = [("limit", str(limit))]
        if pagination_token:
            # Monite: the token takes priority over every other filter.
            params.append(("pagination_token", pagination_token))
        else:
            if name:
                params.append(("counterpart_name__icontains", name))
            if is_customer is not None:
                params.append(("is_customer", "true" if is_customer else "false"))
            if is_vendor is not None:
                params.append(("is_vendor", "true" if is_vendor else "false"))
        body = await self._call("GET", "counterparts", params=params)
        token = body.get("next_pagination_token") if isinstance(body, dict) else None
        return CounterpartPage(_data(body), token if isinstance(token, str) and token else None)

    async def contacts_of(self, counterpart_id: str) -> list[dict[str, Any]]:
        return _data(
            await self._call("GET", f"counterparts/{path_segment(counterpart_id)}/contacts")
        )

    def _contact_path(self, counterpart_id: str, contact_id: str | None = None) -> str:
        path = f"counterparts/{path_segment(counterpart_id)}/contacts"
        return path if contact_id is None else f"{path}/{path_segment(contact_id)}"

    async def create_contact(self, counterpart_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return expect_object(
            await self._call("POST", self._contact_path(counterpart_id), body=body), UPSTREAM
        )

    async def update_contact(
        self, counterpart_id: str, contact_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        path = self._contact_path(counterpart_id, contact_id)
        return expect_object(await self._call("PATCH", path, body=body), UPSTREAM)

    async def delete_contact(self, counterpart_id: str, contact_id: str) -> None:
        await self._call("DELETE", self._contact_path(counterpart_id, contact_id))

    async def make_default(self, counterpart_id: str, contact_id: str) -> dict[str, Any]:
        path = f"{self._contact_path(counterpart_id, contact_id)}/make_default"
        return expect_object(await self._call("POST", path), UPSTREAM)


def _data(body: Any) -> list[dict[str, Any]]:
    """The `data` list of Monite's list answers."""
    return expect_objects(expect_object(body, UPSTREAM).get("data"), UPSTREAM)

"""Upstream quirks are served, not failed: nulls, unknown fields, unknown enum values."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from starlette.requests import Request

from gateway.context import RequestContext
from gateway.credentials import Credentials
from gateway.execution.pipeline import GraphQLRequest, GraphQLResult, build_pipeline
from gateway.services import Services
from gateway.settings import Settings
from gateway.upstream.http import UpstreamHTTP
from gateway.upstream.moneybird import read_error_message
from gateway.upstream.transport import HttpxTransport

QUIRKY_CONTACT = {
    "id": 496081407814141080,  # an exact JSON integer, not a string
    "administration_id": 123,
    "company_name": None,
    "firstname": "",
    "lastname": "Appleseed",
    "delivery_method": "Carrier pigeon",
    "sepa_sequence_type": "NEXT",
    "credit_card_type": "amex",
    "sepa_mandate_date": "2017-6-30",
    "created_at": "not a date",
    "version": 9_007_199_254_740_993,  # 2^53 + 1: beyond a float's exact range
    "notes": None,
    "events": [{"action": "contact_merged", "data": {"from": "1"}, "user_id": 1509611426969}],
    "custom_fields": [{"id": "1", "name": "Segment", "value": None}],
    "contact_people": [{"id": 5, "firstname": "Ann"}, "junk", None],
    "brand_new_field": {"nested": True},
}


def moneybird_client(client: httpx.AsyncClient) -> UpstreamHTTP:
    return UpstreamHTTP(
        HttpxTransport(client),
        name="Moneybird",
        base_url="https://moneybird.test/",
        read_error_message=read_error_message,
    )


async def run_query(query: str, context: RequestContext) -> GraphQLResult:
    pipeline = build_pipeline(context.services.settings)
    return await pipeline.run(GraphQLRequest(query), context)


def run(query: str, upstream_body: Any) -> dict[str, Any]:
    def handler(request: httpx.Request) -> httpx.Response:
        # The standard library writes integers of any size, as an upstream might.
        return httpx.Response(200, content=json.dumps(upstream_body).encode())

    async def execute() -> dict[str, Any]:
        async with httpx.AsyncClient(
            base_url="https://moneybird.test/", transport=httpx.MockTransport(handler)
        ) as client:
            services = Services(
                settings=Settings(moneybird_base_url="https://moneybird.test"),
                moneybird=moneybird_client(client),
                monite=moneybird_client(client),  # unused here
            )
            request = Request({"type": "http", "headers": [], "method": "POST"})
            context = RequestContext(
                request=request,
                services=services,
                credentials=Credentials(moneybird_token="t", moneybird_administration_id="123"),
            )
            result = await run_query(query, context)
            return {"data": result.data, "errors": result.errors or None}

    return asyncio.run(execute())


def test_quirks_are_served() -> None:
    result = run(
        '{ contact(id: "496081407814141080") { moneybirdId displayName companyName firstname'
        " deliveryMethod deliveryMethodRaw sepaSequenceType creditCardType creditCardTypeRaw"
        " sepaMandateDate createdAt version notes { id } events { action data userId }"
        " customFields { name value } contactPeople { moneybirdId firstname } } }",
        [QUIRKY_CONTACT],
    )
    assert result["errors"] is None
    assert result["data"]["contact"] == {
        "moneybirdId": "496081407814141080",
        "displayName": "Appleseed",
        "companyName": None,
        "firstname": None,
        "deliveryMethod": "UNKNOWN",
        "deliveryMethodRaw": "Carrier pigeon",
        "sepaSequenceType": "UNKNOWN",
        "creditCardType": "UNKNOWN",
        "creditCardTypeRaw": "amex",
        "sepaMandateDate": "2017-06-30",
        "createdAt": None,
        "version": 9_007_199_254_740_993,
        "notes": [],
        "events": [{"action": "contact_merged", "data": {"from": "1"}, "userId": "1509611426969"}],
        "customFields": [{"name": "Segment", "value": None}],
        "contactPeople": [{"moneybirdId": "5", "firstname": "Ann"}],
    }


def test_a_body_of_the_wrong_shape_fails_only_that_field() -> None:
    result = run('{ contact(id: "1") { id } __typename }', {"not": "a list"})
    assert result["data"] == {"contact": None, "__typename": "Query"}
    assert result["errors"][0].extensions["code"] == "UPSTREAM_UNAVAILABLE"


def test_an_unexpected_exception_is_masked_and_logged(caplog: Any) -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise ValueError("secret internals: token=abc")

    async def execute() -> Any:
        async with httpx.AsyncClient(
            base_url="https://moneybird.test/", transport=httpx.MockTransport(explode)
        ) as client:
            services = Services(
                settings=Settings(moneybird_base_url="https://moneybird.test"),
                moneybird=moneybird_client(client),
                monite=moneybird_client(client),  # unused here
            )
            request = Request(
                {"type": "http", "headers": [], "method": "POST", "state": {"request_id": "r-1"}}
            )
            context = RequestContext(
                request=request,
                services=services,
                credentials=Credentials(moneybird_token="t", moneybird_administration_id="123"),
            )
            return await run_query('{ contact(id: "1") { id } }', context)

    result = asyncio.run(execute())
    [error] = result.errors
    assert error.message == "Unexpected error."
    assert error.extensions == {"code": "INTERNAL", "requestId": "r-1"}
    assert "secret internals" in caplog.text  # in the server log, not in the response


def test_numbers_that_do_not_fit_fail_their_field_with_an_upstream_code() -> None:
    contact = {
        **QUIRKY_CONTACT,
        "version": 2**63,  # one past BigInt's signed 64 bits
        "max_transfer_amount": "NaN",
        "contact_people": [{"id": 5, "version": 2**70}],
    }
    result = run(
        '{ contact(id: "496081407814141080") { moneybirdId version maxTransferAmount'
        " contactPeople { moneybirdId version } } }",
        [contact],
    )
    assert result["data"]["contact"]["moneybirdId"] == "496081407814141080"
    assert result["data"]["contact"]["version"] is None
    assert result["data"]["contact"]["maxTransferAmount"] is None
    assert result["data"]["contact"]["contactPeople"] == [{"moneybirdId": "5", "version": None}]
    errors = {tuple(error.path): error for error in result["errors"]}
    assert set(errors) == {
        ("contact", "version"),
        ("contact", "maxTransferAmount"),
        ("contact", "contactPeople", 0, "version"),
    }
    for error in errors.values():
        assert error.extensions == {"code": "UPSTREAM_INVALID_DATA", "upstream": "Moneybird"}


def test_the_largest_numbers_that_fit_are_served() -> None:
    contact = {**QUIRKY_CONTACT, "version": 2**63 - 1, "max_transfer_amount": "1e308"}
    result = run('{ contact(id: "496081407814141080") { version maxTransferAmount } }', [contact])
    assert result["errors"] is None
    assert result["data"]["contact"] == {"version": 2**63 - 1, "maxTransferAmount": 1e308}

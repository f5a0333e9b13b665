"""Every counterpart edge has a cursor of its own, over Monite's page tokens: the
list continues right after the edge, whichever page it came from and wherever
it sat in it, with as few Monite calls as that takes."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.sandbox.state import SandboxState
from gateway.schema.relay import encode_cursor
from gateway.upstream.monite import WINDOW_MAX_CALLS
from tests.conftest import GraphQLClient, calls

PAGE = (
    "query($first: Int, $after: String, $customer: Boolean) {"
    " counterparts(first: $first, after: $after, isCustomer: $customer) {"
    " edges { cursor node { moniteId } }"
    " pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
)


def page(gateway: GraphQLClient, **variables: Any) -> dict[str, Any]:
    body = gateway.post(PAGE, variables)
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["counterparts"]
    return connection


def ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["moniteId"] for edge in connection["edges"]]


def every_id(sandbox: SandboxState) -> list[str]:
    return list(sandbox.monite.counterparts)


def test_every_edge_continues_right_after_itself(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    # given two pages, the second from Monite's token
    first = page(gateway, first=4)
    second = page(gateway, first=4, after=first["pageInfo"]["endCursor"])
    everything = every_id(sandbox)
    assert ids(first) + ids(second) == everything[:8]
    # then after each edge of either comes the one that follows it
    for position, edge in enumerate(first["edges"] + second["edges"]):
        sandbox.log.clear()
        after = page(gateway, first=3, after=edge["cursor"])
        assert ids(after) == everything[position + 1 : position + 4], position
        assert after["pageInfo"]["hasNextPage"] is True
        assert after["pageInfo"]["hasPreviousPage"] is True
        # read again from its own page, or from the next when it ended one. The
        # first page is asked for with room for the window; a page of a token
        # keeps its size in the sandbox, as Monite may: when the rest of it is
        # too short, the next page is read too
        assert len(calls(sandbox, "monite")) == (2 if position in (5, 6) else 1), position


def test_the_end_of_a_page_goes_on_with_monites_token_in_one_call(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    first = page(gateway, first=5)
    assert first["pageInfo"]["startCursor"] == first["edges"][0]["cursor"]
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]
    sandbox.log.clear()
    second = page(gateway, first=5, after=first["pageInfo"]["endCursor"])
    assert ids(second) == every_id(sandbox)[5:10]
    [call] = calls(sandbox, "monite")
    assert "pagination_token=" in call.query


def test_a_cursor_of_the_first_page_keeps_its_filters(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    customers = [
        c["id"]
        for c in sandbox.monite.counterparts.values()
        if (c.get("organization") or c.get("individual"))["is_customer"]
    ]
    first = page(gateway, first=4, customer=True)
    assert ids(first) == customers[:4]
    # the client leaves the filter out of the next request: the cursor holds it
    after = page(gateway, first=4, after=first["edges"][1]["cursor"])
    assert ids(after) == customers[2:6]


def test_the_last_edge_has_no_next_page(gateway: GraphQLClient, sandbox: SandboxState) -> None:
    total = len(every_id(sandbox))
    first = page(gateway, first=total - 2)
    rest = page(gateway, first=5, after=first["edges"][-1]["cursor"])
    assert ids(rest) == every_id(sandbox)[-2:]
    assert rest["pageInfo"]["hasNextPage"] is False
    after_last = page(gateway, first=5, after=rest["edges"][-1]["cursor"])
    assert after_last["edges"] == []
    assert after_last["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": None,
        "endCursor": None,
    }


def test_small_pages_in_monites_tokens_cost_a_bounded_number_of_calls(
    gateway: GraphQLClient, sandbox: SandboxState
) -> None:
    # given a first page of one: Monite's tokens after it keep that size
    first = page(gateway, first=1)
    sandbox.log.clear()
    # when a client asks for more at once
    more = page(gateway, first=20, after=first["pageInfo"]["endCursor"])
    # then it gets what that many calls bring, and the list goes on from there
    assert len(calls(sandbox, "monite")) == WINDOW_MAX_CALLS
    assert ids(more) == every_id(sandbox)[1 : 1 + WINDOW_MAX_CALLS]
    assert more["pageInfo"]["hasNextPage"] is True
    rest = page(gateway, first=2, after=more["pageInfo"]["endCursor"])
    assert ids(rest) == every_id(sandbox)[1 + WINDOW_MAX_CALLS : 3 + WINDOW_MAX_CALLS]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        encode_cursor("contact", "3"),
        encode_cursor("counterparts", "a-token-alone"),
        encode_cursor("counterparts", '["token", 101]'),
        encode_cursor("counterparts", "[null, 1, 7, null, null]"),
    ],
)
def test_a_cursor_from_elsewhere_is_bad_input_without_a_call(
    gateway: GraphQLClient, sandbox: SandboxState, cursor: str
) -> None:
    body = gateway.post(PAGE, {"after": cursor})
    assert body["data"] == {"counterparts": None}
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}
    assert calls(sandbox, "monite") == []

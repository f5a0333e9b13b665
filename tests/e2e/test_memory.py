"""A served request leaves nothing for the cyclic garbage collector.

The gateway runs the collector rarely (gateway/heap.py), so whatever a request
leaves in a reference cycle (its context, loaders and every upstream body they
hold) would stay in memory until then.
"""

from __future__ import annotations

import gc
import time

from gateway.context import RequestContext
from gateway.execution.executor import PlannedExecutor
from gateway.loaders.contacts import ContactByIdLoader
from tests.conftest import GraphQLClient

QUERY = """
query($ids: [ID!]!) {
  contactsByIds(ids: $ids) { id displayName notes { note } }
  counterparts(first: 5) { edges { node { name defaultContact { email } } } }
}
"""


def _contact_ids(gateway: GraphQLClient) -> list[str]:
    body = gateway.post("{ contacts(first: 5) { edges { node { id } } } }")
    return [edge["node"]["id"] for edge in body["data"]["contacts"]["edges"]]


def test_a_request_leaves_no_reference_cycles(gateway: GraphQLClient) -> None:
    variables = {"ids": _contact_ids(gateway)}
    gateway.post(QUERY, variables)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            body = gateway.post(QUERY, variables)
            assert "errors" not in body
        time.sleep(0.2)  # the server's thread finishes each request after answering
        gc.collect()
        left = [
            type(thing).__name__
            for thing in gc.garbage
            if isinstance(thing, (RequestContext, PlannedExecutor, ContactByIdLoader))
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left == []

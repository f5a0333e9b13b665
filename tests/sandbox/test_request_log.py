"""The request log gives each request's arrival time, which a rate limit counts by;
`gateway sandbox --contacts` seeds an administration of a chosen size."""

from __future__ import annotations

import time

import httpx
import pytest

from gateway.cli import main
from gateway.sandbox.state import SandboxState


def test_each_logged_request_carries_the_time_it_arrived(
    sandbox: SandboxState, sandbox_url: str
) -> None:
    # given
    before = time.time()
    with httpx.Client(headers={"Authorization": "Bearer demo"}) as client:
        client.get(f"{sandbox_url}/moneybird/123456789/contacts/synchronization.json")
        # when
        listed = client.get(f"{sandbox_url}/_sandbox/requests", params={"upstream": "moneybird"})
    after = time.time()
    # then
    entries = [e for e in listed.json() if e["path"].endswith("/synchronization.json")]
    assert len(entries) == 1
    assert before <= entries[0]["received_at"] <= after
    assert sandbox.requests("moneybird")[-1].received_at == entries[0]["received_at"]


def test_the_sandbox_is_seeded_with_the_contacts_asked_for() -> None:
    assert len(SandboxState(contact_count=1_200).moneybird.contacts) == 1_200


@pytest.mark.parametrize("count", ["0", "-5", "many"])
def test_the_sandbox_refuses_a_contact_count_that_is_not_positive(count: str) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["sandbox", "--contacts", count])
    assert refused.value.code == 2

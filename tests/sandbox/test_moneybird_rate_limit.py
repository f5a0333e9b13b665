"""Moneybird's rate limit in the sandbox: fixed windows per token or per client
address, its 429."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from gateway.sandbox.state import SandboxState
from gateway.sandbox.throttle import RateLimit
from tests.sandbox.spec import validate, validate_headers

ADMIN = "123456789"
TAX_REPORT = "/{administration_id}/reports/tax{format}"
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After")


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(sandbox: SandboxState, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(1_000_000.0)
    monkeypatch.setattr(sandbox, "clock", fake)
    return fake


def client(sandbox_url: str, token: str = "demo", address: str = "127.0.0.1") -> httpx.Client:  # noqa: S107 - the sandbox takes any token
    """A client of the sandbox's Moneybird, connecting from `address` (any of 127/8)."""
    return httpx.Client(
        base_url=f"{sandbox_url}/moneybird/{ADMIN}",
        headers={"Authorization": f"Bearer {token}"},
        transport=httpx.HTTPTransport(local_address=address),
    )


@pytest.fixture
def moneybird(sandbox: SandboxState, sandbox_url: str) -> Iterator[httpx.Client]:
    with client(sandbox_url) as http:
        yield http


def spend(http: httpx.Client, count: int) -> list[int]:
    return [http.get("/contacts/customer_id/1.json").status_code for _ in range(count)]


def test_there_is_no_limit_unless_one_is_set(moneybird: httpx.Client) -> None:
    assert set(spend(moneybird, 160)) == {200}


def test_a_window_allows_the_limit_then_answers_the_documented_429(
    moneybird: httpx.Client, sandbox: SandboxState, clock: FakeClock
) -> None:
    # given 30 requests per 10 seconds, in the window [1000000, 1000010)
    sandbox.moneybird_rate_limit = (30, 10)
    clock.now = 1_000_003.5
    # when
    allowed = spend(moneybird, 30)
    refused = moneybird.get("/contacts/customer_id/1.json")
    # then
    assert set(allowed) == {200}
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/json"
    assert refused.json() == "Retry later"
    validate("moneybird-webhooks", TAX_REPORT, "GET", 429, refused.json())
    validate_headers("moneybird-webhooks", TAX_REPORT, "GET", 429, refused.headers)
    assert {name: refused.headers[name] for name in RATE_LIMIT_HEADERS} == {
        "RateLimit-Limit": "30",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "1000010",
        "Retry-After": "1000010",
    }
    assert [entry.status for entry in sandbox.requests("moneybird")] == [200] * 30 + [429]


def test_the_window_is_fixed_to_the_clock_and_starts_again_at_its_reset(
    moneybird: httpx.Client, sandbox: SandboxState, clock: FakeClock
) -> None:
    sandbox.moneybird_rate_limit = (3, 10)
    clock.now = 1_000_009.0  # late in the window: it still ends at 1000010
    assert spend(moneybird, 4) == [200, 200, 200, 429]
    clock.now = 1_000_009.999
    assert spend(moneybird, 1) == [429]  # refused requests count too; still this window
    clock.now = 1_000_010.0
    assert spend(moneybird, 4) == [200, 200, 200, 429]
    assert moneybird.get("/contacts.json").headers["RateLimit-Reset"] == "1000020"


def test_answers_within_the_limit_carry_no_rate_limit_headers(
    moneybird: httpx.Client, sandbox: SandboxState, clock: FakeClock
) -> None:
    sandbox.moneybird_rate_limit = (5, 300)
    answer = moneybird.get("/contacts.json")
    assert answer.status_code == 200
    assert not {name.lower() for name in RATE_LIMIT_HEADERS} & set(answer.headers)


def test_the_limit_is_per_token_whatever_the_address(
    sandbox: SandboxState, sandbox_url: str, clock: FakeClock
) -> None:
    sandbox.moneybird_rate_limit = (3, 300)
    with (
        client(sandbox_url, token="first") as first,
        client(sandbox_url, token="first", address="127.0.0.2") as elsewhere,
        client(sandbox_url, token="second") as second,
    ):
        assert spend(first, 2) == [200, 200]
        assert spend(elsewhere, 2) == [200, 429]
        # another token has a quota of its own
        assert spend(second, 3) == [200, 200, 200]
        assert spend(second, 1) == [429]


def test_the_limit_per_client_address_whatever_the_token_or_administration(
    sandbox: SandboxState, sandbox_url: str, clock: FakeClock
) -> None:
    sandbox.moneybird_rate_limit = (4, 300)
    sandbox.moneybird_rate_limit_per = "address"
    with (
        client(sandbox_url, token="first") as first,
        client(sandbox_url, token="second") as second,
        client(sandbox_url, token="second", address="127.0.0.2") as elsewhere,
    ):
        # one address spends the quota with two tokens and two administrations
        assert spend(first, 2) == [200, 200]
        assert spend(second, 1) == [200]
        assert first.get(f"{sandbox_url}/moneybird/987654321/contacts.json").status_code == 404
        assert spend(second, 1) == [429]
        assert spend(first, 1) == [429]
        # another address has a quota of its own
        assert spend(elsewhere, 4) == [200, 200, 200, 200]
        assert spend(elsewhere, 1) == [429]


def test_every_moneybird_request_counts_but_not_monite_or_the_controls(
    moneybird: httpx.Client, sandbox: SandboxState, sandbox_url: str, clock: FakeClock
) -> None:
    sandbox.moneybird_rate_limit = (2, 300)
    # counted per address, so that a request without a token counts with the others
    sandbox.moneybird_rate_limit_per = "address"
    unauthenticated = httpx.get(f"{sandbox_url}/moneybird/{ADMIN}/contacts.json")
    assert unauthenticated.status_code == 401
    assert spend(moneybird, 2) == [200, 429]
    monite = httpx.get(
        f"{sandbox_url}/monite/counterparts",
        headers={
            "Authorization": "Bearer demo",
            "x-monite-version": "2024-01-31",
            "x-monite-entity-id": sandbox.monite.entity_id,
        },
    )
    assert monite.status_code == 200
    assert httpx.get(f"{sandbox_url}/_sandbox/requests").status_code == 200


def test_with_the_real_clock_the_reset_is_the_end_of_the_current_window(
    moneybird: httpx.Client, sandbox: SandboxState
) -> None:
    sandbox.moneybird_rate_limit = (1, 3600)
    before = time.time()
    assert spend(moneybird, 1) == [200]
    refused = moneybird.get("/contacts.json")
    reset = int(refused.headers["RateLimit-Reset"])
    assert refused.status_code == 429
    assert before < reset <= before + 3600
    assert reset % 3600 == 0
    assert refused.headers["Retry-After"] == str(reset)


def test_the_limit_is_set_at_run_time_and_reset_turns_it_off(
    moneybird: httpx.Client, sandbox: SandboxState, sandbox_url: str, clock: FakeClock
) -> None:
    with httpx.Client(base_url=f"{sandbox_url}/_sandbox/moneybird") as controls:
        assert controls.get("/settings").json()["rate_limit"] is None
        assert controls.post("/settings", json={"rate_limit": "2/60"}).json()["rate_limit"] == (
            "2/60"
        )
        assert spend(moneybird, 3) == [200, 200, 429]
        assert controls.post("/settings", json={"rate_limit": "2"}).status_code == 400
        assert controls.post("/settings", json={"rate_limit": "0/60"}).status_code == 400
        assert controls.post("/settings", json={"rate_limit": None}).json()["rate_limit"] is None
        assert spend(moneybird, 1) == [200]
        controls.post("/settings", json={"rate_limit": "1/60"})
        assert httpx.post(f"{sandbox_url}/_sandbox/reset").status_code == 204
        assert sandbox.moneybird_rate_limit is None
        assert spend(moneybird, 3) == [200, 200, 200]


def test_a_sandbox_made_with_a_limit_keeps_it_through_reset() -> None:
    state = SandboxState(contact_count=1, counterpart_count=1, moneybird_rate_limit=(150, 300))
    state.moneybird_rate_limit = None
    state.reset()
    assert state.moneybird_rate_limit == (150, 300)


@pytest.mark.parametrize(
    ("text", "limit"), [("150/300", RateLimit(150, 300.0)), ("30/0.5", RateLimit(30, 0.5))]
)
def test_a_limit_is_written_requests_per_seconds(text: str, limit: RateLimit) -> None:
    assert RateLimit.parse(text) == limit


@pytest.mark.parametrize("text", ["150", "a/300", "150/0", "0/300", "150/-1"])
def test_other_limits_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"150/300|positive|invalid"):
        RateLimit.parse(text)

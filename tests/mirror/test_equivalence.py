"""The mirror answers as Moneybird does: the sandbox's Moneybird and a mirror built
from it are asked the same questions, searches, filters and pages included.

The sandbox is first changed through its own API (contacts created, edited,
archived, deleted, given notes and people), then a mirror is synced from it.
Hypothesis draws the questions: ids that exist and ids that do not, customer
ids, the versions list with and without archived contacts, and pages of the
list with a free-text query made of words from the data (any case, whole or
part), every documented filter term, archived contacts in or out, and windows
that start anywhere.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.mirror.mirrors import Mirrors, MirrorSession
from gateway.sandbox.app import create_sandbox_app
from gateway.sandbox.state import SandboxState
from gateway.state import KeyHasher, MemoryState
from gateway.upstream.http import UpstreamHTTP
from gateway.upstream.moneybird import MoneybirdClient, read_error_message
from gateway.upstream.transport import HttpxTransport

ADMINISTRATION = "123456789"
BASE = "http://sandbox.test/moneybird/"


class World:
    """A changed sandbox, a client of its Moneybird, and a mirror synced from it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.state = SandboxState(contact_count=240)
        self.http_client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_sandbox_app(self.state)), base_url=BASE
        )
        http = UpstreamHTTP(
            HttpxTransport(self.http_client),
            name="Moneybird",
            base_url=BASE,
            read_error_message=read_error_message,
        )
        self.client = MoneybirdClient(http, token="t", administration_id=ADMINISTRATION)
        self.run(self.change_the_sandbox())
        state = MemoryState()
        mirrors = Mirrors(
            state,
            self.run(KeyHasher.for_state(state)),
            max_staleness=3600,
            token_ttl=3600,
            max_contacts=10**6,
        )
        self.mirror: MirrorSession = self.run(
            mirrors.session(self.client, token="t", administration=ADMINISTRATION)
        )
        contacts = list(self.state.moneybird.contacts.values())
        self.ids = [c["id"] for c in contacts]
        self.customer_ids = [c["customer_id"] for c in contacts]
        self.words = sorted(
            {
                word
                for c in contacts
                for name in ("company_name", "firstname", "lastname", "city", "email", "zipcode")
                for word in str(c.get(name) or "").split()
            }
            | {
                str(person.get("lastname") or "")
                for c in contacts
                for person in c["contact_people"]
            }
            - {""}
        )
        self.first_names = sorted({str(c["firstname"]) for c in contacts if c["firstname"]})
        self.last_names = sorted({str(c["lastname"]) for c in contacts if c["lastname"]})
        self.workflows = sorted({str(c["invoice_workflow_id"]) for c in contacts})
        times = sorted(c["created_at"] for c in contacts) + sorted(
            c["updated_at"] for c in contacts
        )
        self.times = [times[0], times[len(times) // 2], times[-1]]

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    async def change_the_sandbox(self) -> None:
        rng = random.Random(7)  # noqa: S311 - which contacts change, not a secret
        prefix = f"{ADMINISTRATION}/contacts"
        headers = {"authorization": "Bearer t"}
        ids = list(self.state.moneybird.contacts)

        async def send(method: str, path: str, body: Any = None) -> None:
            response = await self.http_client.request(
                method, f"{prefix}{path}", json=body, headers=headers
            )
            assert response.status_code < 300, response.text

        for index in range(12):
            await send(
                "POST",
                ".json",
                {"contact": {"company_name": f"Zeedijk Import {index}", "city": "Den Haag"}},
            )
        for key in rng.sample(ids, 15):
            await send(
                "PATCH", f"/{key}.json", {"contact": {"city": rng.choice(["Delft", "Den Bosch"])}}
            )
        for key in rng.sample(ids, 15):
            if not self.state.moneybird.contacts[key]["archived"]:
                await send("PATCH", f"/{key}/archive.json")
        for key in rng.sample(ids, 10):
            await send("POST", f"/{key}/notes.json", {"note": {"note": "Called back."}})
        for key in rng.sample(ids, 6):
            await send(
                "POST",
                f"/{key}/contact_people.json",
                {"contact_person": {"firstname": "Ilse", "lastname": "Vermeer"}},
            )
        deletable = [k for k in ids if k not in self.state.moneybird.undeletable]
        for key in rng.sample(deletable, 8):
            await send("DELETE", f"/{key}.json")

    def close(self) -> None:
        self.run(self.http_client.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    built = World()
    yield built
    built.close()


def words(world: World) -> st.SearchStrategy[str]:
    word = st.sampled_from(world.words)
    part = st.builds(lambda w, n: w[: max(1, n)], word, st.integers(1, 6))
    cased = st.builds(
        lambda w, how: {"lower": w.lower(), "upper": w.upper(), "same": w}[how],
        st.one_of(word, part),
        st.sampled_from(["lower", "upper", "same"]),
    )
    return st.lists(
        st.one_of(cased, st.text("abcxyz", min_size=1, max_size=3)), min_size=1, max_size=2
    ).map(" ".join)


def moment(value: str, shift: int) -> str:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00")) + timedelta(seconds=shift)
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def filter_terms(world: World) -> st.SearchStrategy[list[tuple[str, str]]]:
    time = st.builds(moment, st.sampled_from(world.times), st.integers(-2, 2))
    term = st.one_of(
        st.tuples(st.just("created_after"), time),
        st.tuples(st.just("updated_after"), time),
        st.tuples(st.just("first_name"), st.sampled_from(world.first_names).map(str.upper)),
        st.tuples(st.just("last_name"), st.sampled_from(world.last_names)),
        st.tuples(
            st.just("contact_type"), st.sampled_from(["all", "company", "private_individual"])
        ),
        st.tuples(
            st.just("delivery_method"),
            st.sampled_from(["all", "email", "post", "manual", "peppol", "simplerinvoicing"]),
        ),
        st.tuples(st.just("trusted_type"), st.sampled_from(["all", "trusted", "not_trusted"])),
        st.tuples(st.just("invoice_workflow_id"), st.sampled_from([*world.workflows, "1"])),
    )
    return st.lists(term, max_size=3, unique_by=lambda t: t[0])


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_pages_searches_and_filters_answer_alike(world: World, data: st.DataObject) -> None:
    query = data.draw(st.one_of(st.none(), words(world)), label="query")
    terms = data.draw(st.one_of(st.just([]), filter_terms(world)), label="filter")
    include_archived = data.draw(st.sampled_from([None, True, False]), label="include_archived")
    size = data.draw(st.integers(1, 100), label="size")
    offset = data.draw(st.integers(0, 260), label="offset")
    question = {
        "offset": offset,
        "size": size,
        "query": query,
        "filter_terms": terms,
        "include_archived": include_archived,
    }
    moneybird = world.run(world.client.list_window(**question))
    mirror = world.run(world.mirror.list_window(**question))
    assert [c["id"] for c in mirror.contacts] == [c["id"] for c in moneybird.contacts]
    assert mirror.contacts == moneybird.contacts
    assert mirror.has_next_page == moneybird.has_next_page


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_lookups_by_id_and_customer_id_answer_alike(world: World, data: st.DataObject) -> None:
    ids = data.draw(
        st.lists(
            st.one_of(st.sampled_from(world.ids), st.integers(1, 10**18).map(str)), max_size=100
        ),
        label="ids",
    )
    moneybird = world.run(world.client.contacts_by_ids(ids)) if ids else []
    mirror = world.run(world.mirror.contacts_by_ids(ids))
    assert sorted(mirror, key=lambda c: c["id"]) == sorted(moneybird, key=lambda c: c["id"])
    customer_id = data.draw(st.one_of(st.sampled_from(world.customer_ids), st.just("nope")))
    assert world.run(world.mirror.contact_by_customer_id(customer_id)) == world.run(
        world.client.contact_by_customer_id(customer_id)
    )


@pytest.mark.parametrize("include_archived", [None, True, False])
def test_versions_answer_alike(world: World, include_archived: bool | None) -> None:
    moneybird = world.run(world.client.contact_versions(include_archived=include_archived))
    mirror = world.run(world.mirror.contact_versions(include_archived=include_archived))
    assert [(str(r["id"]), r["version"]) for r in mirror] == [
        (str(r["id"]), r["version"]) for r in moneybird
    ]


@pytest.mark.parametrize(
    ("query", "terms", "include_archived"),
    [
        (None, [], None),
        (None, [], True),
        ("amsterdam", [], None),
        (None, [("contact_type", "company")], False),
        ("a", [("delivery_method", "email")], True),
    ],
)
@pytest.mark.parametrize("size", [1, 7, 100])
def test_a_window_that_ends_at_the_last_contact_has_no_next_page(
    world: World,
    query: str | None,
    terms: list[tuple[str, str]],
    include_archived: bool | None,
    size: int,
) -> None:
    everything = world.run(
        world.client.list_window(
            offset=0, size=100, query=query, filter_terms=terms, include_archived=include_archived
        )
    )
    total = len(everything.contacts)
    if everything.has_next_page:  # more than one page of 100: find the end
        offset = 100
        while True:
            page = world.run(
                world.client.list_window(
                    offset=offset,
                    size=100,
                    query=query,
                    filter_terms=terms,
                    include_archived=include_archived,
                )
            )
            total = offset + len(page.contacts)
            if not page.has_next_page:
                break
            offset += 100
    question = {
        "offset": max(0, total - size),
        "size": size,
        "query": query,
        "filter_terms": terms,
        "include_archived": include_archived,
    }
    moneybird = world.run(world.client.list_window(**question))
    mirror = world.run(world.mirror.list_window(**question))
    assert not moneybird.has_next_page
    assert (mirror.has_next_page, mirror.contacts) == (moneybird.has_next_page, moneybird.contacts)

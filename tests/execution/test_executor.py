"""The planned executor answers exactly as graphql-core's does: same data, same errors.

Each query runs on one schema twice, once per executor, and the results are
compared whole: data with its key order, errors in their order with their
paths, locations and extensions. The schema is built for the comparison: nulls
where the type forbids them, failing resolvers sync and async, lists of both,
fragments, @skip/@include (with variables sent as null over a default),
arguments from variables and defaults, enums and custom scalars, async
iterables, siblings that settle at different times, and types that check their
values (`is_type_of`: Strawberry's own, and checks of their own, sync and async,
that read the resolve info).

tests/execution/test_differential.py does the same on the gateway's own schema
with documents and upstream faults drawn by hypothesis.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import AsyncIterator
from enum import Enum
from typing import Any

import orjson
import pytest
import strawberry
from graphql import ExecutionResult, parse
from strawberry.permission import BasePermission
from strawberry.schema import schema_converter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import Info

from gateway.compat.strawberry import is_awaitable
from gateway.execution.executor import PlannedExecutor


@strawberry.enum
class Mood(Enum):
    CALM = "calm"
    BUSY = "busy"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Pet(Named):
    legs: int


@strawberry.type
class Cat(Named):
    """A check of its own that reads the info: a cat is refused in a field whose
    response key starts with "no". graphql-core passes the field's info, to the
    items of a list too."""

    lives: int

    @classmethod
    def is_type_of(cls, obj: Any, info: Info) -> bool:
        key = info.path.key
        return isinstance(obj, Cat) and not (isinstance(key, str) and key.startswith("no"))


@strawberry.type
class Dog(Named):
    """An asynchronous check: a dog without a name is refused."""

    good: bool

    @classmethod
    async def is_type_of(cls, obj: Any, info: Info) -> bool:
        await asyncio.sleep(0)
        return isinstance(obj, Dog) and bool(obj.name)


@strawberry.type
class Item:
    id: strawberry.ID
    label: str | None
    rank: int

    @strawberry.field
    def broken(self) -> str | None:
        raise ValueError(f"item {self.id} is broken")

    @strawberry.field
    def required_but_null(self) -> str:
        return None  # type: ignore[return-value]

    @strawberry.field
    async def later(self, suffix: str = "!") -> str:
        await asyncio.sleep(0)
        return f"{self.id}{suffix}"

    @strawberry.field
    async def later_broken(self) -> str | None:
        await asyncio.sleep(0)
        raise RuntimeError("async failure")

    @strawberry.field
    async def later_required_null(self) -> str:
        await asyncio.sleep(0)
        return None  # type: ignore[return-value]


class Denied(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Probe:
    """Resolvers without arguments, called past Strawberry's wrapper when they can be."""

    seed: int

    @strawberry.field
    async def where(self, info: Info) -> str:
        await asyncio.sleep(0)
        return f"{info.field_name} at {info.path.as_list()} seeded {self.seed}"

    @strawberry.field
    @staticmethod
    def info_only(info: Info) -> str:
        return f"{info.field_name} of {info.path.prev.key if info.path.prev else None}"

    @strawberry.field
    @staticmethod
    def nothing() -> int:
        return 7

    @strawberry.field(permission_classes=[Denied])
    def guarded(self) -> str | None:
        return "secret"

    @strawberry.field(permission_classes=[Denied])
    def guarded_required(self) -> str:
        return "secret"


# What the resolvers of `Holder` got to finish, to tell work cancelled from work
# left to settle in the background.
FINISHED: list[str] = []


@strawberry.type
class Holder:
    """Siblings that settle at different times, to compare what concurrency shows."""

    @strawberry.field
    async def wait(self, seconds: float, fail: bool = False) -> str:
        await asyncio.sleep(seconds)
        FINISHED.append(f"wait {seconds}")
        if fail:
            raise RuntimeError(f"failed after {seconds}")
        return f"waited {seconds}"

    @strawberry.field
    async def wait_nullable(self, seconds: float, fail: bool = False) -> str | None:
        await asyncio.sleep(seconds)
        FINISHED.append(f"wait_nullable {seconds}")
        if fail:
            raise RuntimeError(f"nullable failed after {seconds}")
        return f"waited {seconds}"

    @strawberry.field
    def required_now(self) -> str:
        return None  # type: ignore[return-value]

    @strawberry.field
    def holders(self, count: int = 2) -> list[Holder]:
        return [Holder() for _ in range(count)]

    @strawberry.field
    def holder(self) -> Holder:
        return Holder()


async def _stream(count: int) -> AsyncIterator[Item]:
    for item in _items(count):
        await asyncio.sleep(0)
        yield item


def _items(count: int) -> list[Item]:
    return [
        Item(id=strawberry.ID(str(n)), label=None if n % 2 else f"L{n}", rank=n)
        for n in range(count)
    ]


@strawberry.type
class Query:
    mood: Mood = Mood.BUSY
    when: datetime.date = datetime.date(2026, 11, 21)

    @strawberry.field
    def items(self, count: int = 3) -> list[Item]:
        return _items(count)

    @strawberry.field
    def maybe_items(self) -> list[Item | None] | None:
        return [*_items(2), None]

    @strawberry.field
    def strict_items(self) -> list[Item]:
        return [*_items(2), None]  # type: ignore[list-item]

    @strawberry.field
    async def async_items(self, count: int) -> list[Item]:
        await asyncio.sleep(0)
        return _items(count)

    @strawberry.field
    def awaitable_items(self) -> list[Item | None]:
        async def one(n: int) -> Item | None:
            await asyncio.sleep(0)
            if n == 1:
                raise LookupError("item 1 is gone")
            return _items(n + 1)[n]

        return [one(n) for n in range(3)]  # type: ignore[misc]

    @strawberry.field
    def not_a_list(self) -> list[str] | None:
        return 42  # type: ignore[return-value]

    @strawberry.field
    def bad_int(self) -> int | None:
        return "many"  # type: ignore[return-value]

    @strawberry.field
    def greet(self, info: Info, name: str, loud: bool = False) -> str:
        text = f"hello {name} from {info.field_name} at {info.path.key}"
        return text.upper() if loud else text

    @strawberry.field
    def probes(self) -> list[Probe | None]:
        return [Probe(seed=1), Probe(seed=2)]

    @strawberry.field
    def required_root(self) -> str:
        return None  # type: ignore[return-value]

    @strawberry.field
    def pets(self) -> list[Named]:
        return [Pet(name="Rex", legs=4)]

    @strawberry.field
    def pet(self) -> Pet:
        return Pet(name="Rex", legs=4)

    @strawberry.field
    def wrong_pet(self) -> Pet | None:
        return _items(1)[0]  # type: ignore[return-value]

    @strawberry.field
    def some_pets(self) -> list[Pet | None]:
        return [Pet(name="Rex", legs=4), _items(1)[0], Pet(name="Tom", legs=3)]  # type: ignore[list-item]

    @strawberry.field
    def strict_pets(self) -> list[Pet]:
        return [Pet(name="Rex", legs=4), _items(1)[0]]  # type: ignore[list-item]

    @strawberry.field
    def cats(self, count: int = 2) -> list[list[Cat | None]]:
        return [[Cat(name=f"Cat {n}", lives=9) for n in range(count)]]

    @strawberry.field
    def cat(self) -> Cat | None:
        return Cat(name="Felix", lives=9)

    @strawberry.field
    def dogs(self) -> list[Dog | None]:
        return [Dog(name="Rex", good=True), Dog(name="", good=False)]

    @strawberry.field
    async def later_dog(self) -> Dog | None:
        await asyncio.sleep(0)
        return Dog(name="Laika", good=True)

    @strawberry.field
    def holder(self) -> Holder | None:
        return Holder()

    @strawberry.field
    def nothing_held(self) -> Holder | None:
        return None

    @strawberry.field
    def no_holders(self) -> list[Holder]:
        return []

    @strawberry.field
    def streamed(self, count: int = 2) -> list[Item] | None:
        return _stream(count)  # type: ignore[return-value]


@strawberry.type
class Mutation:
    @strawberry.mutation
    def rename(self, name: str) -> str:
        return name


def _schema(execution_context_class: Any) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Pet, Cat, Dog],
        execution_context_class=execution_context_class,
    )


PLANNED = _schema(PlannedExecutor)
REFERENCE = _schema(None)

ITEM_FIELDS = (
    "id label rank broken requiredButNull later laterBroken later2: later(suffix: $suffix)"
)

PLANNABLE: list[tuple[str, str, dict[str, Any]]] = [
    ("scalars and enums", "{ mood when __typename }", {}),
    ("aliases and merged fields", "{ a: items(count: 2) { id id rank } b: items { x: id } }", {}),
    (
        "fragments",
        "query { items { ...F ... on Item { label } } } fragment F on Item { id rank }",
        {},
    ),
    (
        "errors in nullable, non-null and async fields, sync and async",
        f"query($suffix: String!) {{ items {{ {ITEM_FIELDS} }} }}",
        {"suffix": "?"},
    ),
    (
        "non-null errors inside an async list",
        "query($suffix: String!) { asyncItems(count: 2) { id later2: later(suffix: $suffix)"
        " laterRequiredNull } mood }",
        {"suffix": "#"},
    ),
    (
        "null items of a nullable and a non-null list",
        "{ maybeItems { id } strictItems { id } }",
        {},
    ),
    ("awaitable list items, one failing", "{ awaitableItems { id later } }", {}),
    ("not a list, not an int", "{ notAList badInt mood }", {}),
    (
        "arguments from variables and defaults, info",
        "query($n: String!, $loud: Boolean!) { a: greet(name: $n) b: greet(name: $n, loud: $loud) }",
        {"n": "Ada", "loud": True},
    ),
    ("null in a non-null root field", "{ mood requiredRoot }", {}),
    (
        "resolvers without arguments, with and without info, and behind a permission",
        "{ probes { seed where infoOnly nothing guarded } }",
        {},
    ),
    ("a permission denied on a non-null field", "{ probes { seed guardedRequired } }", {}),
    (
        "skip and include, first values",
        "query($a: Boolean!, $b: Boolean!) { items(count: 1) { id @skip(if: $a)"
        " ... on Item @include(if: $b) { rank } label } }",
        {"a": True, "b": False},
    ),
    (
        "skip and include, other values",
        "query($a: Boolean!, $b: Boolean!) { items(count: 1) { id @skip(if: $a)"
        " ... on Item @include(if: $b) { rank } label } }",
        {"a": False, "b": True},
    ),
    (
        "skip and include with defaults, left out",
        "query($a: Boolean = true, $b: Boolean = false) { items(count: 1) { id @skip(if: $a)"
        " ... @include(if: $b) { rank } label } }",
        {},
    ),
    (
        "a directive variable sent as null over its default, in a sub-selection",
        "query($v: Boolean = true) { mood items(count: 2) { id ... @include(if: $v) { rank } }"
        " maybeItems { label } }",
        {"v": None},
    ),
    (
        "the same, below a null and an empty list, where nothing is collected",
        "query($v: Boolean = true) { nothingHeld { requiredNow @skip(if: $v) }"
        " noHolders { requiredNow @skip(if: $v) } mood }",
        {"v": None},
    ),
    (
        "the same, in a non-null object below a nullable one",
        "query($v: Boolean = false) { holder { holder { requiredNow @skip(if: $v) } } mood }",
        {"v": None},
    ),
    (
        "an argument from a variable sent as null over its default",
        'query($n: String = "Ada") { a: greet(name: $n) mood }',
        {"n": None},
    ),
    (
        "the first failure in time wins; the slow sibling is cancelled",
        "{ holder { slow: wait(seconds: 0.3) fast: wait(seconds: 0.01, fail: true)"
        " nullable: waitNullable(seconds: 0.005, fail: true) } mood }",
        {},
    ),
    (
        "a sync failure leaves running siblings to settle unreported",
        "{ holder { a: waitNullable(seconds: 0.01, fail: true) b: wait(seconds: 0.02)"
        " requiredNow } mood }",
        {},
    ),
    (
        "a failing list item cancels the others",
        "{ holder { holders(count: 3) { wait(seconds: 0.01, fail: true) holder {"
        " wait(seconds: 0.3) } } } }",
        {},
    ),
    ("a list given as an async iterable", "{ streamed(count: 3) { id later } }", {}),
    (
        "types with Strawberry's check, passed and refused",
        "{ pet { name legs } wrongPet { name } somePets { name } mood }",
        {},
    ),
    ("Strawberry's check refusing an item of a non-null list", "{ strictPets { name } mood }", {}),
    (
        "a check of its own that reads the field's info, in nested lists",
        "{ cats { name lives } noCats: cats(count: 1) { name } cat { name } noCat: cat { name } }",
        {},
    ),
    (
        "an asynchronous check, passed and refused, after an async resolver",
        "{ dogs { name good } laterDog { name } mood }",
        {},
    ),
    (
        "a check before a sub-selection that does not collect",
        "query($v: Boolean = true) { wrongPet { name @include(if: $v) }"
        " dogs { good @skip(if: $v) } noCat: cat { name @skip(if: $v) } mood }",
        {"v": None},
    ),
]

FALLBACK: list[tuple[str, str, dict[str, Any]]] = [
    ("abstract types", "{ pets { name ... on Pet { legs } } }", {}),
    ("introspection", "{ __schema { queryType { name } } }", {}),
    ("mutations", 'mutation { rename(name: "x") }', {}),
    (
        "a directive variable sent as null over its default, at the root",
        "query($v: Boolean = true) { mood @include(if: $v) when }",
        {"v": None},
    ),
]


def _comparable(result: ExecutionResult) -> dict[str, Any]:
    """The result as a client reads it: JSON with its key order, errors in order."""
    return {
        "data": orjson.dumps(result.data).decode(),
        "errors": [error.formatted for error in result.errors or ()],
    }


async def _run(
    executor_class: type[StrawberryGraphQLCoreExecutionContext],
    query: str,
    variables: dict[str, Any],
) -> tuple[dict[str, Any], bool | None, float]:
    """Build and run an executor as the request pipeline does."""
    executor = executor_class.build(
        PLANNED._schema,
        parse(query),
        root_value=Query(),
        raw_variable_values=variables,
        is_awaitable=is_awaitable,
    )
    assert isinstance(executor, StrawberryGraphQLCoreExecutionContext), executor
    started = time.perf_counter()
    outcome: Any = executor.execute_operation()
    result = await outcome if is_awaitable(outcome) else outcome
    elapsed = time.perf_counter() - started
    return _comparable(result), getattr(executor, "ran_plan", None), elapsed


async def _both(
    query: str, variables: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], bool | None, float, float]:
    # Work left to settle in the background finishes before the next run starts.
    linger = 0.35 if "wait" in query else 0
    ours, ran_plan, our_time = await _run(PlannedExecutor, query, variables)
    await asyncio.sleep(linger)
    reference, _, reference_time = await _run(
        StrawberryGraphQLCoreExecutionContext, query, variables
    )
    await asyncio.sleep(linger)
    return ours, reference, ran_plan, our_time, reference_time


@pytest.mark.parametrize(("case", "query", "variables"), PLANNABLE, ids=[c[0] for c in PLANNABLE])
def test_planned_answers_as_graphql_core(case: str, query: str, variables: dict[str, Any]) -> None:
    ours, reference, ran_plan, our_time, reference_time = asyncio.run(_both(query, variables))
    assert ours == reference
    assert ran_plan is True, "the query ran on graphql-core's executor"
    # Neither waits for work the other leaves (the slowest sibling here takes 0.3 s).
    assert (our_time < 0.2) == (reference_time < 0.2)


@pytest.mark.parametrize(("case", "query", "variables"), FALLBACK, ids=[c[0] for c in FALLBACK])
def test_what_is_not_planned_runs_on_graphql_core(
    case: str, query: str, variables: dict[str, Any]
) -> None:
    ours, reference, ran_plan, _, _ = asyncio.run(_both(query, variables))
    assert ours == reference
    assert ran_plan is False


def test_a_failure_does_not_wait_for_slow_siblings_and_cancels_them() -> None:
    FINISHED.clear()
    query = "{ holder { slow: wait(seconds: 0.3) fast: wait(seconds: 0.01, fail: true) } mood }"
    ours, _, elapsed = asyncio.run(_run(PlannedExecutor, query, {}))
    assert elapsed < 0.2
    assert orjson.loads(ours["data"]) == {"holder": None, "mood": "BUSY"}
    assert [error["path"] for error in ours["errors"]] == [["holder", "fast"]]
    assert FINISHED == ["wait 0.01"]


def test_siblings_running_when_a_sync_failure_happens_still_settle() -> None:
    FINISHED.clear()
    query = "{ holder { a: waitNullable(seconds: 0.01, fail: true) requiredNow } }"

    async def run_and_linger() -> dict[str, Any]:
        ours, _, _ = await _run(PlannedExecutor, query, {})
        await asyncio.sleep(0.05)
        return ours

    ours = asyncio.run(run_and_linger())
    assert FINISHED == ["wait_nullable 0.01"]
    # Its error points inside the nulled `holder`: not reported.
    assert [error["path"] for error in ours["errors"]] == [["holder", "requiredNow"]]


def test_a_plan_is_kept_per_value_of_the_directive_variables_left_out_or_null() -> None:
    query = "query($v: Boolean = true) { maybeItems { id @include(if: $v) rank } }"
    answers = [
        asyncio.run(_run(PlannedExecutor, query, variables))[0]
        for variables in ({}, {"v": None}, {"v": False}, {})
    ]
    assert [orjson.loads(answer["data"])["maybeItems"] for answer in answers] == [
        [{"id": "0", "rank": 0}, {"id": "1", "rank": 1}, None],
        [None, None, None],
        [{"rank": 0}, {"rank": 1}, None],
        [{"id": "0", "rank": 0}, {"id": "1", "rank": 1}, None],
    ]
    assert [len(answer["errors"]) for answer in answers] == [0, 2, 0, 0]


def test_a_plan_serves_the_next_request_with_new_values() -> None:
    query = "query($n: String!) { greet(name: $n) }"
    first = asyncio.run(PLANNED.execute(query, variable_values={"n": "one"}, root_value=Query()))
    second = asyncio.run(PLANNED.execute(query, variable_values={"n": "two"}, root_value=Query()))
    assert first.data == {"greet": "hello one from greet at greet"}
    assert second.data == {"greet": "hello two from greet at greet"}


def test_only_resolvers_without_arguments_or_extensions_skip_strawberrys_wrapper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrapped: list[str] = []
    original = schema_converter.get_arguments

    def counting_get_arguments(*, field: Any, **kwargs: Any) -> Any:
        wrapped.append(field.python_name)
        return original(field=field, **kwargs)

    monkeypatch.setattr(schema_converter, "get_arguments", counting_get_arguments)
    query = "{ probes { where infoOnly nothing guarded } items(count: 1) { later } }"
    result = asyncio.run(PLANNED.execute(query, root_value=Query()))
    assert result.data is not None
    # A permission is a field extension and an argument needs converting: both keep
    # Strawberry's wrapper. `probes`, `where`, `info_only` and `nothing` do not.
    assert sorted(wrapped) == ["guarded", "guarded", "items", "later"]


def test_cases_exercise_errors() -> None:
    """The comparison means something only if the cases produce errors and nulls."""
    results = [
        asyncio.run(REFERENCE.execute(query, variable_values=variables, root_value=Query()))
        for _, query, variables in PLANNABLE
    ]
    assert sum(len(result.errors or ()) for result in results) >= 8
    assert any(result.data is None for result in results)

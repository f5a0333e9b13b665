"""The planned executor answers exactly as graphql-core's does: same data, same errors.

Each query runs on one schema twice, once per executor, and the results are
compared whole. The schema is built for the comparison: nulls where the type
forbids them, failing resolvers sync and async, lists of both, fragments,
@skip/@include, arguments from variables and defaults, enums and custom scalars.
"""

from __future__ import annotations

import asyncio
import datetime
from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult
from strawberry.permission import BasePermission
from strawberry.schema import schema_converter
from strawberry.types import Info

from gateway.execution import executor as planned
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


@strawberry.type
class Mutation:
    @strawberry.mutation
    def rename(self, name: str) -> str:
        return name


def _schema(execution_context_class: Any) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query, mutation=Mutation, types=[Pet], execution_context_class=execution_context_class
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
]

FALLBACK: list[tuple[str, str, dict[str, Any]]] = [
    ("abstract types", "{ pets { name ... on Pet { legs } } }", {}),
    ("introspection", "{ __schema { queryType { name } } }", {}),
    ("mutations", 'mutation { rename(name: "x") }', {}),
]


def _comparable(result: ExecutionResult) -> dict[str, Any]:
    errors = sorted(
        (
            error.message,
            tuple(error.path or ()),
            tuple((loc.line, loc.column) for loc in error.locations or ()),
        )
        for error in result.errors or ()
    )
    return {"data": result.data, "errors": errors}


async def _both(query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    planned_result = await PLANNED.execute(query, variable_values=variables, root_value=Query())
    reference_result = await REFERENCE.execute(query, variable_values=variables, root_value=Query())
    return _comparable(planned_result), _comparable(reference_result)


@pytest.mark.parametrize(("case", "query", "variables"), PLANNABLE, ids=[c[0] for c in PLANNABLE])
def test_planned_answers_as_graphql_core(
    case: str, query: str, variables: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    plans: list[Any] = []
    original = planned._plans.get

    def recording_get(*args: Any) -> Any:
        plans.append(original(*args))
        return plans[-1]

    monkeypatch.setattr(planned._plans, "get", recording_get)
    ours, reference = asyncio.run(_both(query, variables))
    assert ours == reference
    assert plans, "the query never asked for a plan"
    assert None not in plans, "the query ran on graphql-core's executor"


@pytest.mark.parametrize(("case", "query", "variables"), FALLBACK, ids=[c[0] for c in FALLBACK])
def test_what_is_not_planned_runs_on_graphql_core(
    case: str, query: str, variables: dict[str, Any]
) -> None:
    ours, reference = asyncio.run(_both(query, variables))
    assert ours == reference
    assert not ours["errors"]


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

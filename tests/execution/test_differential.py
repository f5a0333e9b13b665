"""The planned executor answers exactly as graphql-core's, on the gateway's own schema.

Hypothesis draws valid documents over the real schema: fragments (some spread
twice), inline fragments with and without a type condition, @skip and @include
with literals and with variables given, left out to their default or sent as
null over it, aliases, `__typename`, lists, and arguments inline or from
variables, with ids the sandbox has, ids it has not, and values that are not
ids at all. With each document it draws upstream behaviour from the sandbox,
keyed on what a call asks for (an id, an endpoint) so that it hits the same
calls however they interleave: an error status (401, 403, 404, 429, 500, 503),
an upstream that does not answer (the read timeout, or the request's
deadline), or a slow answer. Each fault gets a delay of its own, far enough
from the others that "the first failure in time" names one call.

Each document runs on both executors, built as the request pipeline builds
them, in this process against the sandbox served by uvicorn on loopback, with
the same faults and the same credentials; each run opens upstream services of
its own, so nothing one run keeps (answers reused, budgets, breakers) reaches
the other, and reads contacts from Moneybird rather than from a mirror.
Compared:

- data as JSON text, so key order counts;
- errors as the client sees them, after the gateway's error shaping: message,
  path, locations and extensions, in order;
- the upstream calls made (method, path, query, body, the status the sandbox
  answered or none when the caller hung up first), as a multiset: concurrent
  calls reach the sandbox in any order;
- the time each spent waiting (its wall time less its own CPU time: the
  planner computes faster), within a tolerance: neither may wait for work
  the other does not;
- what escaped the executor instead of an answer, if anything did;
- that the planned executor ran its plan, unless graphql-core answered with a
  request-level error.

Calls that settle within the machine's timing noise of each other could still
swap, so an example whose answers differ runs again; it fails when no run agrees.

A second, smaller property takes its documents from hypothesis-graphql, whose
argument values are anything the types allow (text in any script, numbers far
out of range), without faults.

CI runs EXAMPLES examples derandomized. For a longer run, with a random seed
unless DIFFERENTIAL_SEED fixes one:

    DIFFERENTIAL_EXAMPLES=2000 .venv/bin/python -m pytest tests/execution/test_differential.py
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    is_abstract_type,
    is_composite_type,
    is_leaf_type,
    is_required_argument,
    parse,
    validate,
    visit,
)
from hypothesis import HealthCheck, event, example, given, note, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from starlette.requests import Request

from gateway.compat.strawberry import StrawberryExecutor, graphql_schema, is_awaitable
from gateway.context import RequestContext
from gateway.credentials import Credentials
from gateway.execution.error_contract import shape_errors
from gateway.execution.executor import PlannedExecutor
from gateway.sandbox.state import SandboxState
from gateway.schema import build_schema
from gateway.schema.relay import encode_cursor
from gateway.services import Services, open_services
from gateway.settings import Settings
from gateway.upstream import request_scope
from tests.conftest import gateway_settings

# When a completion fails, graphql-core cancels the others still running; one
# cancelled before its task ever ran drops the coroutines it was given without
# awaiting them (a resolver's, or the call ContactByIdLoader.while_listing was to
# start), and Python warns about each. Both executors cancel alike, so both warn.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <coroutine object :pytest.PytestUnraisableExceptionWarning"
)

EXAMPLES = int(os.environ.get("DIFFERENTIAL_EXAMPLES", "150"))
SEED = os.environ.get("DIFFERENTIAL_SEED")
LONG_RUN = "DIFFERENTIAL_EXAMPLES" in os.environ

SCHEMA: GraphQLSchema = graphql_schema(build_schema())
# The tokens mark this module's calls in the sandbox's log, which other tests' gateways share.
TOKEN = "differential-test"
REQUEST_ID = "differential"

# When each call fails, if it does, is the sum of the delays on its way: the calls
# before it (a page before the contacts of its counterparts) and its own. Delays
# whose sums all differ by 40 ms keep "the first failure in time" one call, well
# above the machine's timing noise; a call that does not answer times out after
# every such sum, and the short deadline falls between the two.
DELAYS = (0.0, 0.04, 0.08, 0.16)
READ_TIMEOUT = 0.36
SHORT_DEADLINE = 0.32
# An upstream that does not answer: the read timeout or the deadline ends the call.
HANG = 30.0
# How far apart the two executors' times may be, for timing noise alone.
TIMING_TOLERANCE = 0.12
ATTEMPTS = 3
MAX_DEPTH = 4

Composite = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType

# The sandbox's seeded data is the same on every start: ids to ask for.
_SEEDED = SandboxState()
_CONTACTS = list(_SEEDED.moneybird.contacts.values())
CONTACT_IDS = [c["id"] for c in (*_CONTACTS[:5], _CONTACTS[150], _CONTACTS[299])]
MANY_CONTACT_IDS = [c["id"] for c in _CONTACTS[:120]]
CUSTOMER_IDS = [_CONTACTS[i]["customer_id"] for i in (0, 3, 150)]
_COUNTERPARTS = list(_SEEDED.monite.counterparts.values())
COUNTERPART_IDS = [c["id"] for c in (*_COUNTERPARTS[:6], _COUNTERPARTS[30])]
COUNTERPART_CONTACTS = [(c["id"], k["id"]) for c in _COUNTERPARTS[:6] for k in c["contacts"]]
MISSING_CONTACT = "999999999999999999"
MISSING_UUID = "00000000-0000-4000-8000-000000000000"

# Root fields whose calls no loader shares: each at most once a document, so that
# no two calls in one run are the same call racing itself.
ONCE_A_DOCUMENT = frozenset({"contacts", "counterparts", "contactVersions", "contactByCustomerId"})


# --- Values: Python values written as GraphQL literals or sent as variables -------


@dataclass(frozen=True)
class EnumValue:
    name: str


def literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return orjson.dumps(value).decode()
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{key}: {literal(item)}" for key, item in value.items()) + "}"


def as_json(value: Any) -> Any:
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    return value


OMIT = object()


def arguments(**values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(values).map(
        lambda drawn: {key: value for key, value in drawn.items() if value is not OMIT}
    )


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(OMIT), strategy)


def rarely(usual: list[Any], unusual: list[Any], times: int = 6) -> st.SearchStrategy[Any]:
    """Usual values `times` times as often as unusual ones.

    Hypothesis favours the ends of a range it draws from, so the unusual values
    sit in the middle of the choices. Most of them are errors, and an error in a
    non-null root field nulls the whole answer: common, and little else would run.
    """
    half = len(usual) * times // 2
    choices = [*usual * times]
    return st.sampled_from([*choices[:half], *unusual, *choices[half:]])


# Ids mostly the sandbox has; sometimes missing, sometimes not ids at all.
contact_id = rarely([*CONTACT_IDS, MISSING_CONTACT], ["abc", ""])
counterpart_id = rarely([*COUNTERPART_IDS, MISSING_UUID], ["not-a-uuid"])

ARGUMENTS: dict[tuple[str, str], st.SearchStrategy[dict[str, Any]]] = {
    ("Query", "contact"): arguments(id=contact_id),
    ("Query", "contactByCustomerId"): arguments(
        customerId=rarely([*CUSTOMER_IDS, "no-such-customer"], [" "])
    ),
    ("Query", "contactsByIds"): arguments(
        ids=st.one_of(
            st.lists(st.sampled_from([*CONTACT_IDS, MISSING_CONTACT]), max_size=5),
            st.lists(contact_id, max_size=3),
            st.just(MANY_CONTACT_IDS),
        )
    ),
    ("Query", "contactVersions"): arguments(
        includeArchived=maybe(st.sampled_from([True, False, None]))
    ),
    ("Query", "contacts"): arguments(
        first=maybe(rarely([1, 2, 5, 20], [0, 101])),
        query=maybe(st.sampled_from(["a", "Amsterdam", "zzzz"])),
        filter=maybe(
            rarely(
                [{"contactType": EnumValue("COMPANY")}, {"firstName": "Jan"}],
                [{"lastName": "a,b"}],
            )
        ),
        includeArchived=maybe(st.booleans()),
        after=maybe(rarely([encode_cursor("contact", "1")], ["not-a-cursor"])),
    ),
    ("Query", "counterpart"): arguments(id=counterpart_id),
    ("Query", "counterparts"): arguments(
        first=maybe(rarely([1, 3, 6], [0])),
        name=maybe(st.sampled_from(["a", "zz"])),
        isCustomer=maybe(st.booleans()),
        isVendor=maybe(st.booleans()),
        after=rarely([OMIT], ["not-a-cursor"]),
    ),
    ("Query", "counterpartContact"): st.one_of(
        st.sampled_from(COUNTERPART_CONTACTS),
        st.sampled_from(COUNTERPART_CONTACTS),
        st.tuples(counterpart_id, rarely([MISSING_UUID], ["x"])),
    ).map(lambda pair: {"counterpartId": pair[0], "id": pair[1]}),
}


def fault_targets(field: str, values: dict[str, Any]) -> list[tuple[str, str]]:
    """Patterns for the calls a root field makes: the requests a fault can hit."""
    ids = values.get("ids", [values.get("id")])
    counterpart = values.get("counterpartId", values.get("id"))
    page = [c["id"] for c in _COUNTERPARTS[:6]]
    if field in ("contact", "contactsByIds"):
        known = [key for key in ids if key in CONTACT_IDS] or CONTACT_IDS[:1]
        return [("moneybird", rf"^POST \S+/synchronization\.json\? .*\b{key}\b") for key in known]
    if field == "contactByCustomerId":
        return [("moneybird", rf"^GET \S+/customer_id/{values['customerId']}\.json")]
    if field == "contactVersions":
        return [("moneybird", r"^GET \S+/contacts/synchronization\.json\?")]
    if field == "contacts":
        return [("moneybird", r"^GET \S+/contacts(/filter)?\.json\?")]
    if field == "counterparts":
        return [
            ("monite", r"^GET /counterparts\?limit="),
            *(("monite", rf"^GET /counterparts/{key}/contacts") for key in page),
            *(("monite", rf"^GET /counterparts\?\S*id__in={key}") for key in page),
        ]
    return [
        ("monite", rf"^GET /counterparts/{counterpart}/contacts"),
        ("monite", rf"^GET /counterparts\?\S*id__in={counterpart}"),
    ]


# --- Documents ------------------------------------------------------------------------


@dataclass
class Document:
    text: str
    variables: dict[str, Any]
    features: set[str]
    # (upstream, pattern) of the requests its root fields make
    targets: list[tuple[str, str]]


class DocumentDrawer:
    """Draws one valid document, growing its variables and fragments as it goes.

    Validity by construction: a field with arguments always gets an alias of its
    own, so fields sharing a response name are the same field with the same (no)
    arguments and merge; every variable and fragment made is used.
    """

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.definitions: list[str] = []
        self.variables: dict[str, Any] = {}
        self.fragments: list[tuple[str, str, str]] = []  # name, type, text
        self.features: set[str] = set()
        self.once_used: set[str] = set()
        self.targets: list[tuple[str, str]] = []
        self.counter = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def document(self) -> Document:
        query_type = SCHEMA.query_type
        assert query_type is not None
        root = self.selection_set(query_type, 0)
        definitions = f"({', '.join(self.definitions)})" if self.definitions else ""
        name = self.draw(st.sampled_from(["", " Differential"]))
        operation = f"query{name}{definitions} {root}" if name or definitions else root
        text = "\n".join([operation, *(text for _, _, text in self.fragments)])
        return Document(text, self.variables, self.features, sorted(set(self.targets)))

    def selection_set(self, parent: Composite, depth: int) -> str:
        items: list[str] = []
        kinds = ["field"] * 8 + ["inline fragment", "fragment", "__typename"]
        if is_abstract_type(parent):
            kinds += ["on a possible type"] * 4
        for _ in range(self.draw(st.sampled_from([1, 2, 2, 3, 3, 4]))):
            kind = self.draw(st.sampled_from(kinds))
            if kind == "field":
                item = self.field(parent, depth)
            elif kind == "on a possible type":
                assert is_abstract_type(parent)
                possible = self.draw(
                    st.sampled_from(
                        sorted(SCHEMA.get_possible_types(parent), key=lambda type_: type_.name)
                    )
                )
                item = (
                    f"... on {possible.name}{self.directives()}"
                    f" {self.selection_set(possible, depth)}"
                )
            elif kind == "inline fragment":
                condition = f" on {parent.name}" if self.draw(st.booleans()) else ""
                item = f"...{condition}{self.directives()} {self.selection_set(parent, depth)}"
                self.features.add("inline fragment")
            elif kind == "fragment":
                item = self.fragment_spread(parent, depth)
            else:
                item = self.aliased("__typename") + self.directives()
            if item is not None:
                items.append(item)
        if not items:
            items.append("__typename")
        return "{ " + " ".join(items) + " }"

    def fragment_spread(self, parent: Composite, depth: int) -> str:
        reusable = [name for name, on, _ in self.fragments if on == parent.name]
        if reusable and parent is not SCHEMA.query_type and self.draw(st.booleans()):
            name = self.draw(st.sampled_from(reusable))
            self.features.add("fragment spread twice")
        else:
            body = self.selection_set(parent, depth)
            name = self.fresh("F")
            self.fragments.append((name, parent.name, f"fragment {name} on {parent.name} {body}"))
            self.features.add("fragment")
        return f"...{name}{self.directives()}"

    def field(self, parent: Composite, depth: int) -> str | None:
        fields: dict[str, GraphQLField] = getattr(parent, "fields", {})  # none on a union
        names = sorted(
            name
            for name, definition in fields.items()
            if (depth < MAX_DEPTH or is_leaf_type(get_named_type(definition.type)))
            and _askable(parent, name, definition)
        )
        composites = [n for n in names if is_composite_type(get_named_type(fields[n].type))]
        if composites and self.draw(st.integers(0, 2)) == 0:
            names = composites
        if not names:
            return None
        name = self.draw(st.sampled_from(names))
        if parent is SCHEMA.query_type and name in ONCE_A_DOCUMENT:
            if name in self.once_used:
                return None
            self.once_used.add(name)
        definition = fields[name]
        values = self.draw(ARGUMENTS.get((parent.name, name), st.just({})))
        if parent is SCHEMA.query_type and name != "__typename":
            self.targets.extend(fault_targets(name, values))
        argument_text = self.arguments(definition, values)
        alias = f"{self.fresh('a')}: " if argument_text else ""
        text: str = (alias or self.aliased("")) + name + argument_text + self.directives()
        named = get_named_type(definition.type)
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            if is_abstract_type(named):
                self.features.add("abstract type")
            text += " " + self.selection_set(named, depth + 1)
        return text

    def aliased(self, name: str) -> str:
        if self.draw(st.integers(0, 4)) == 0:
            self.features.add("alias")
            return f"{self.fresh('a')}: {name}"
        return name

    def arguments(self, definition: GraphQLField, values: dict[str, Any]) -> str:
        if not values:
            return ""
        written = (
            f"{key}: {self.value(definition.args[key].type, value)}"
            for key, value in values.items()
        )
        return "(" + ", ".join(written) + ")"

    def value(self, type_: GraphQLInputType, value: Any) -> str:
        """Inline, from a variable, or from a variable with a default that is left
        out, sent as null or given."""
        how = self.draw(st.sampled_from(["inline"] * 3 + ["variable"] * 2 + ["default"]))
        if how == "inline":
            return literal(value)
        name = self.fresh("v")
        if how == "variable":
            self.definitions.append(f"${name}: {type_}")
            self.variables[name] = as_json(value)
            return f"${name}"
        nullable = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        self.definitions.append(f"${name}: {nullable} = {literal(value)}")
        self.given_or_left_out(name, value)
        return f"${name}"

    def given_or_left_out(self, name: str, value: Any) -> None:
        sent = self.draw(st.sampled_from(["left out"] * 4 + ["given"] * 5 + ["null"]))
        if sent == "null":
            self.variables[name] = None
            self.features.add("null over a default")
        elif sent == "given":
            self.variables[name] = as_json(value)

    def directives(self) -> str:
        if self.draw(st.integers(0, 4)) != 0:
            return ""
        names = self.draw(st.sampled_from([["skip"], ["include"], ["include", "skip"]]))
        self.features.add("directive")
        return "".join(f" @{name}(if: {self.condition()})" for name in names)

    def condition(self) -> str:
        how = self.draw(st.sampled_from(["true", "false", "variable", "default"]))
        if how in ("true", "false"):
            return how
        name = self.fresh("c")
        value = self.draw(st.booleans())
        if how == "variable":
            self.definitions.append(f"${name}: Boolean!")
            self.variables[name] = value
        else:
            self.definitions.append(f"${name}: Boolean = {literal(value)}")
            self.given_or_left_out(name, self.draw(st.booleans()))
        return f"${name}"


def _askable(parent: Composite, name: str, definition: GraphQLField) -> bool:
    """Whether values can be drawn for the field's required arguments: a field this
    module does not know (a schema grown since) is left out rather than drawn wrong."""
    return (parent.name, name) in ARGUMENTS or not any(
        is_required_argument(argument) for argument in definition.args.values()
    )


def planner_leaves(text: str) -> bool:
    """Whether the document selects what the planner leaves to graphql-core: a field
    of an abstract type, or introspection."""
    type_info = TypeInfo(SCHEMA)
    found: list[str] = []

    class Finder(Visitor):
        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            named = get_named_type(type_info.get_type())
            if node.name.value in ("__schema", "__type") or (
                named is not None and is_abstract_type(named)
            ):
                found.append(node.name.value)

    visit(parse(text), TypeInfoVisitor(type_info, Finder()))
    return bool(found)


@st.composite
def documents(draw: st.DrawFn) -> Document:
    return DocumentDrawer(draw).document()


# --- Upstream faults ------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    upstream: str
    pattern: str
    kind: str
    delay: float


KINDS = ("401", "403", "404", "429", "500", "503", "no answer", "slow")
# Calls that do not answer all time out READ_TIMEOUT after they start: two in one
# example would fail at the same moment.
ANSWERING = tuple(kind for kind in KINDS if kind != "no answer")
ERROR_BODIES = {
    "moneybird": {"error": "refused by the sandbox"},
    "monite": {"error": {"message": "refused by the sandbox"}},
}


@dataclass(frozen=True)
class Case:
    document: Document
    faults: list[Fault]
    deadline: float
    tokens: tuple[bool, bool]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    document = draw(documents())
    targets = (
        draw(st.lists(st.sampled_from(document.targets), min_size=1, max_size=4, unique=True))
        if document.targets
        else []
    )
    delays = draw(st.permutations(DELAYS))
    faults: list[Fault] = []
    for (upstream, pattern), delay in zip(targets, delays, strict=False):
        hung = any(fault.kind == "no answer" for fault in faults)
        kind = draw(st.sampled_from(ANSWERING if hung else KINDS))
        faults.append(Fault(upstream, pattern, kind, delay))
    return Case(
        document,
        faults,
        deadline=draw(rarely([15.0], [SHORT_DEADLINE], times=4)),
        tokens=draw(rarely([(True, True)], [(False, True), (True, False)], times=8)),
    )


# --- Running a document on one executor -----------------------------------------------


_RETRY_AFTER = re.compile(r"retry after (\d+(?:\.\d+)?) seconds")


def _settled_retry_after(error: Any) -> Any:
    """A call refused while its token is held back after a 429 says how many seconds
    of the hold are left, to the millisecond, when it asked (in its message and in
    `retryAfter`): whole seconds are what two runs of one request can agree on."""
    extensions = error.get("extensions") or {}
    if not isinstance(extensions.get("retryAfter"), (int, float)):
        return error
    message = _RETRY_AFTER.sub(
        lambda found: f"retry after {math.ceil(float(found[1]))} seconds", error["message"]
    )
    extensions = {**extensions, "retryAfter": math.ceil(extensions["retryAfter"])}
    return {**error, "message": message, "extensions": extensions}


@dataclass
class Outcome:
    data: str
    errors: list[Any]
    calls: list[tuple[Any, ...]]
    ran_plan: bool | None
    # Seconds spent waiting, not computing.
    waited: float
    # What escaped the executor instead of a result, if anything did.
    raised: str | None = None

    def comparable(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "errors": self.errors,
            "calls": self.calls,
            "raised": self.raised,
        }


@dataclass
class Harness:
    runner: asyncio.Runner
    settings: Settings
    sandbox_url: str
    sandbox: SandboxState
    seen: Counter[str] = field(default_factory=Counter)

    def run(self, executor_class: type[StrawberryExecutor], case: Case) -> Outcome:
        return self.runner.run(self._run(executor_class, case))

    async def _run(self, executor_class: type[StrawberryExecutor], case: Case) -> Outcome:
        """One document on one executor, with services of its own: nothing a run
        keeps (answers reused, budgets, breakers, pooled connections) reaches the
        other executor's run."""
        self._arrange(case.faults)
        before = asyncio.all_tasks()
        async with open_services(
            self.settings,
            moneybird_base_url=f"{self.sandbox_url}/moneybird",
            monite_base_url=f"{self.sandbox_url}/monite",
        ) as services:
            outcome = await self._execute(executor_class, case, services)
            await self._settle(before)
        outcome.calls = self._calls()
        return outcome

    async def _execute(
        self, executor_class: type[StrawberryExecutor], case: Case, services: Services
    ) -> Outcome:
        request_scope.start(case.deadline)
        moneybird, monite = case.tokens
        context = RequestContext(
            request=Request({"type": "http", "headers": [], "state": {"request_id": REQUEST_ID}}),
            services=services,
            credentials=Credentials(
                moneybird_token=TOKEN if moneybird else None,
                monite_token=TOKEN if monite else None,
            ),
        )
        executor = executor_class.build(
            SCHEMA,
            parse(case.document.text),
            context_value=context,
            raw_variable_values=case.document.variables,
            is_awaitable=is_awaitable,
            hide_suggestions=True,
        )
        assert not isinstance(executor, list), executor
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            outcome: Any = executor.execute_operation()
            result = await outcome if is_awaitable(outcome) else outcome
        except BaseException as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            # The request would fail without an answer: that too is compared.
            return Outcome("null", [], [], getattr(executor, "ran_plan", None), 0.0, repr(exc))
        # The planner spends less CPU than graphql-core: what must match is how long
        # each waits for upstreams (this thread's CPU excludes the sandbox's thread).
        waited = time.perf_counter() - started - (time.thread_time() - cpu_started)
        errors = shape_errors(result.errors, context.request_id) if result.errors else []
        return Outcome(
            data=orjson.dumps(result.data).decode(),
            errors=[_settled_retry_after(error.formatted) for error in errors],
            calls=[],
            ran_plan=getattr(executor, "ran_plan", None),
            waited=waited,
        )

    def _arrange(self, faults: list[Fault]) -> None:
        for upstream in self.sandbox.faults.values():
            upstream.clear()
        for fault in faults:
            rules = self.sandbox.faults[fault.upstream]
            if fault.kind == "slow":
                rules.add_rule(fault.pattern, delay=fault.delay)
            elif fault.kind == "no answer":
                rules.add_rule(fault.pattern, status=503, delay=HANG)
            else:
                rules.add_rule(
                    fault.pattern,
                    status=int(fault.kind),
                    delay=fault.delay,
                    body=ERROR_BODIES[fault.upstream],
                    headers={"Retry-After": "30"} if fault.kind == "429" else None,
                )
        self.sandbox.log.clear()

    async def _settle(self, before: set[asyncio.Task[Any]]) -> None:
        """Wait for what the operation left running (work settling in the background,
        loader batches) and for the sandbox to answer or drop every call."""
        deadline = time.monotonic() + 10
        while (left := asyncio.all_tasks() - before - {asyncio.current_task()}) and (
            time.monotonic() < deadline
        ):
            await asyncio.wait(left, timeout=0.5)
        assert await asyncio.to_thread(self.sandbox.log.wait_idle, 10)

    def _calls(self) -> list[tuple[Any, ...]]:
        mine = (
            entry
            for entry in self.sandbox.requests()
            if entry.headers.get("authorization") == f"Bearer {TOKEN}"
        )
        return sorted(
            (e.upstream, e.method, e.path, e.query, orjson.dumps(e.body).decode(), e.status or 0)
            for e in mine
        )


@pytest.fixture(scope="module")
def harness(sandbox_state: SandboxState, sandbox_url: str) -> Iterator[Harness]:
    sandbox_state.reset()
    upstream = gateway_settings(
        sandbox_url,
        upstream_read_timeout=READ_TIMEOUT,
        # Retries wait a random backoff: which failure comes first would be chance.
        upstream_max_retries=0,
        breaker_threshold=10**9,
        moneybird_budget="1000000/1",
        monite_max_staleness=0,
        # Contacts read straight from the sandbox, by the calls the executor's
        # resolvers make, rather than from a mirror synchronized in the background.
        moneybird_mirror=False,
    )
    try:
        with asyncio.Runner() as runner:
            yield Harness(runner, upstream, sandbox_url, sandbox_state)
    finally:
        sandbox_state.reset()
        # What the closed loop still held goes now, under this module's filter of
        # the warnings about coroutines cancellation dropped (see `pytestmark`).
        gc.collect()


# --- The comparison -------------------------------------------------------------------


def _case(
    text: str,
    variables: dict[str, Any] | None = None,
    faults: list[Fault] | None = None,
    deadline: float = 15.0,
) -> Case:
    return Case(Document(text, variables or {}, set(), []), faults or [], deadline, (True, True))


_FIRST, _SECOND = COUNTERPART_IDS[0], COUNTERPART_IDS[1]

# Run first on every run, whatever hypothesis draws.
EXAMPLES_ALWAYS_RUN = [
    # A failure that nulls the whole answer after 0.02 s, beside a call answering
    # after 0.8 s: the answer does not wait for it.
    _case(
        "{ a1: counterparts(first: 3) { edges { node { id contacts { id } } } } }",
        faults=[
            Fault("monite", rf"^GET /counterparts/{_FIRST}/contacts", "slow", 0.8),
            Fault("monite", rf"^GET /counterparts/{_SECOND}/contacts", "503", 0.02),
        ],
    ),
    # A sub-selection that does not collect: an error where a contact is completed,
    # none where it is null.
    _case(
        "query($ids: [ID!]!, $missing: ID!, $v: Boolean = true) {"
        " a1: contactsByIds(ids: $ids) { id notes @include(if: $v) { note } }"
        " a2: contact(id: $missing) { email @skip(if: $v) } }",
        {"v": None, "ids": CONTACT_IDS[:3], "missing": MISSING_CONTACT},
    ),
    # The same at the root: graphql-core answers, with a request-level error.
    _case(
        "query($id: ID!, $v: Boolean = true) { a1: contact(id: $id) @include(if: $v) { id } }",
        {"v": None, "id": CONTACT_IDS[0]},
    ),
    # An upstream that does not answer, with and without the request's deadline first.
    *(
        _case(
            f"{{ a1: contactsByIds(ids: {literal(CONTACT_IDS[:2])}) {{ id }}"
            " a2: counterparts(first: 2) { edges { cursor"
            " node { defaultContact { email counterpart { name } } } } } }",
            faults=[
                Fault("moneybird", rf"\b{CONTACT_IDS[1]}\b", "no answer", 0),
                Fault("monite", rf"id__in={_SECOND}", "500", 0.08),
            ],
            deadline=deadline,
        )
        for deadline in (15.0, SHORT_DEADLINE)
    ),
]


def agree(ours: Outcome, reference: Outcome) -> bool:
    return (
        ours.comparable() == reference.comparable()
        and abs(ours.waited - reference.waited) <= TIMING_TOLERANCE
    )


def tally(harness: Harness, case: Case, reference: Outcome, ours: Outcome) -> None:
    """Count what the examples exercised: a comparison of answers that never fail
    proves little."""
    seen = harness.seen
    seen["examples"] += 1
    seen.update(case.document.features)
    if reference.errors:
        seen["errors"] += 1
    if reference.data == "null":
        seen["data null"] += 1
    if any(call[-1] not in (200, 204) for call in reference.calls):
        seen["upstream faults hit"] += 1
    if not ours.ran_plan:
        seen["answered by graphql-core"] += 1
    if reference.raised:
        seen[f"both raised {reference.raised}"] += 1
    event(f"{len(reference.errors)} errors" if reference.errors else "no errors")


def check(harness: Harness, case: Case) -> None:
    note(case.document.text)
    note(f"variables: {case.document.variables}")
    note(f"faults: {case.faults}, deadline {case.deadline}, tokens {case.tokens}")
    errors = validate(SCHEMA, parse(case.document.text))
    assert not errors, f"the drawn document is not valid: {errors}"
    runs: list[tuple[Outcome, Outcome]] = []
    for attempt in range(ATTEMPTS):
        reference = harness.run(StrawberryExecutor, case)
        ours = harness.run(PlannedExecutor, case)
        runs.append((ours, reference))
        if agree(ours, reference):
            if attempt:
                harness.seen["agreed after a rerun"] += 1
                event("agreed after a rerun")
            break
    else:
        ours, reference = runs[0]
        note(f"waited: planned {ours.waited:.3f} s, graphql-core {reference.waited:.3f} s")
        assert ours.comparable() == reference.comparable()
        assert abs(ours.waited - reference.waited) <= TIMING_TOLERANCE, runs
    tally(harness, case, reference, ours)
    # graphql-core answers what the planner leaves to it, and an operation whose root
    # selection does not collect (a request-level error, without a path).
    if planner_leaves(case.document.text):
        assert ours.ran_plan is False
    else:
        assert ours.ran_plan or any("path" not in error for error in reference.errors)


def run_property(
    test: Callable[..., None], max_examples: int, examples: Sequence[Case] = ()
) -> None:
    for case in examples:
        test = example(case=case)(test)
    test = settings(
        max_examples=max_examples,
        derandomize=not LONG_RUN and SEED is None,
        database=None,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
        print_blob=True,
    )(test)
    if SEED is not None:
        test = seed(int(SEED))(test)
    try:
        test()
    finally:
        # Coroutines dropped by cancellation (see `pytestmark`) are warned about when
        # collected: while the test, and the filter of those warnings, still runs.
        gc.collect()


def test_planned_answers_as_graphql_core(harness: Harness) -> None:
    harness.seen.clear()
    run_property(
        given(case=cases())(lambda case: check(harness, case)), EXAMPLES, EXAMPLES_ALWAYS_RUN
    )
    seen = harness.seen
    print(f"differential examples: {dict(seen)}")
    # The comparison means something only if the examples fail in the ways that matter.
    assert seen["errors"] >= seen["examples"] // 4
    assert seen["data null"] >= 1
    assert seen["upstream faults hit"] >= seen["examples"] // 10
    assert seen["null over a default"] >= 1
    assert seen["answered by graphql-core"] >= 1
    assert seen["fragment"] >= 1


def _valid(text: str) -> bool:
    return not validate(SCHEMA, parse(text))


drawn_by_hypothesis_graphql = (
    queries(
        SCHEMA,
        custom_scalars={
            "DateTime": st.sampled_from(["2026-01-01T00:00:00Z", "yesterday"]).map(
                lambda text: StringValueNode(value=text)
            ),
            "Date": st.just(StringValueNode(value="2026-01-01")),
        },
        allow_x00=False,
    )
    .filter(_valid)
    .map(lambda text: Case(Document(text, {}, set(), []), [], 15.0, (True, True)))
)


def test_documents_hypothesis_graphql_draws_answer_alike(harness: Harness) -> None:
    run_property(
        given(case=drawn_by_hypothesis_graphql)(lambda case: check(harness, case)),
        max(EXAMPLES // 4, 1),
    )


LEFT_TO_GRAPHQL_CORE = [
    "{ __schema { queryType { name } } }",
    # Introspection beside plain fields: the whole operation goes to graphql-core.
    f'{{ __type(name: "Contact") {{ name }} a1: contact(id: "{CONTACT_IDS[0]}") {{ id email }} }}',
    f'mutation {{ a1: addContactNote(contactId: "{CONTACT_IDS[0]}", input: {{note: "Call back"}})'
    " { note { id note todo } userErrors { field message code } } }",
    'mutation { a1: createContact(input: {companyName: " "}) { contact { id }'
    " userErrors { field message code } } }",
]


@pytest.mark.parametrize("text", LEFT_TO_GRAPHQL_CORE)
def test_what_the_planner_leaves_runs_on_graphql_core_alike(harness: Harness, text: str) -> None:
    case = _case(text)
    assert _valid(text)
    # A mutation changes the sandbox: each run starts from its seeded data.
    harness.sandbox.reset()
    reference = harness.run(StrawberryExecutor, case)
    harness.sandbox.reset()
    ours = harness.run(PlannedExecutor, case)
    assert ours.comparable() == reference.comparable()
    assert ours.ran_plan is False
    assert orjson.loads(ours.data) is not None

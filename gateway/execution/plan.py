"""Query plans: an operation's fields worked out once, not once per object.

graphql-core collects the fields of a selection set, looks up each field's
definition, builds a resolve info and walks the return type for every field of
every object it completes. For a given operation (and the values of the
variables its @skip/@include read) all of that is the same on every request, so
a plan holds it: per object type, the fields to produce, each with its resolver
and a completion function built for its return type.

Plans use graphql-core's own field collection, argument coercion and error
locating; the planner gives up (a plan of None) on what it does not cover, and
the caller falls back to graphql-core's executor.

A type with `is_type_of` (Strawberry gives one to every type that implements
an interface) has each of its objects checked before its fields run, as
graphql-core's value completion does: a value that is not of the type is the
field's error. Strawberry's own check reads only the value's class, so it is
called without a resolve info; any other is called with the info graphql-core
would pass, and may answer with an awaitable.

Collecting fields can fail: `@include(if: $v)` with `$v: Boolean = true` sent
as an explicit null is a valid document whose directive argument does not
coerce. graphql-core collects a sub-selection only when it completes an object
there, so the error belongs to that field and position, and a parent that
resolved to null or to an empty list raises none. A plan keeps the same
laziness: a sub-selection that does not collect becomes a completer that raises
graphql-core's error wherever an object is completed. An operation whose root
selection does not collect is left to graphql-core, which answers it with one
request-level error.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution import VariableValues
from graphql.pyutils import Path, Undefined

from gateway.compat.graphql_core import (
    FieldDetailsList,
    FragmentDetails,
    collect_fields,
    collect_subfields,
    invalid_return_type_error,
)
from gateway.compat.strawberry import attribute_reader, direct_resolver, value_check

if TYPE_CHECKING:
    from gateway.execution.executor import PlannedExecutor

# (executor, resolved value, path of the field or list item) -> completed value,
# or a coroutine when something below it is asynchronous.
Completer = Callable[["PlannedExecutor", Any, Any], Any]

_TYPENAME = "__typename"


# A type's check of the values completed as it: (executor, value, path) -> None,
# an awaitable when the check is one, or raises the field's error.
TypeCheck = Callable[["PlannedExecutor", Any, Any], Any]


class Unsupported(Exception):
    """Something this planner leaves to graphql-core (abstract types, introspection)."""


@dataclass(slots=True)
class FieldPlan:
    key: str
    parent_type: GraphQLObjectType
    field_def: GraphQLField
    details: FieldDetailsList
    nodes: list[FieldNode]
    # Reads the value from the source without an info object (Strawberry's plain
    # fields and __typename); None when the field's resolver must be called.
    read: Callable[[Any], Any] | None
    # Calls a Strawberry resolver that takes nothing but `self` and `info` straight
    # from (source, graphql-core's resolve info); None to call `field_def.resolve`.
    call: Callable[[Any, GraphQLResolveInfo[Any]], Any] | None
    has_args: bool
    non_null: bool
    # The field's path is built only when a resolver, a child or an error needs it.
    needs_path: bool
    complete: Completer
    # For a plain field of type String, ID or Boolean: the Python type whose values
    # are already the answer.
    passes_as_is: type | None


@dataclass(frozen=True, slots=True)
class ListField:
    """The field a list completer serves, for its errors and for the rare list that
    completes on graphql-core's machinery (an async iterable)."""

    parent_type: GraphQLObjectType
    field_def: GraphQLField
    details: FieldDetailsList
    nodes: list[FieldNode]
    list_type: GraphQLList[GraphQLOutputType]
    not_iterable: str


@dataclass(slots=True)
class ObjectPlan:
    type_name: str
    fields: tuple[FieldPlan, ...]


class _Planner:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDetails],
        variable_values: VariableValues,
        operation: OperationDefinitionNode,
        hide_suggestions: bool,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variable_values = variable_values
        self.operation = operation
        self.hide_suggestions = hide_suggestions

    def root(self, root_type: GraphQLObjectType) -> ObjectPlan:
        collected = collect_fields(
            self.schema,
            self.fragments,
            self.variable_values,
            root_type,
            self.operation,
            self.hide_suggestions,
        )
        return self.object_plan(root_type, collected.grouped_field_set)

    def object_plan(
        self, object_type: GraphQLObjectType, grouped: dict[str, FieldDetailsList]
    ) -> ObjectPlan:
        return ObjectPlan(
            object_type.name,
            tuple(self.field_plan(object_type, key, details) for key, details in grouped.items()),
        )

    def field_plan(
        self, parent_type: GraphQLObjectType, key: str, details: FieldDetailsList
    ) -> FieldPlan:
        nodes = [detail.node for detail in details]
        name = nodes[0].name.value
        if name.startswith("__") and name != _TYPENAME:
            raise Unsupported("introspection")
        field_def = self.schema.get_field(parent_type, name)
        if field_def is None:
            raise Unsupported(f"unknown field {name}")
        read = _typename(parent_type.name) if name == _TYPENAME else attribute_reader(field_def)
        return_type = field_def.type
        is_leaf = is_leaf_type(_unwrap_non_null(return_type))
        return FieldPlan(
            key=key,
            parent_type=parent_type,
            field_def=field_def,
            details=details,
            nodes=nodes,
            read=read,
            call=direct_resolver(self.schema, field_def) if read is None else None,
            has_args=bool(field_def.args or nodes[0].arguments),
            non_null=is_non_null_type(return_type),
            needs_path=read is None or not is_leaf,
            complete=self.completer(return_type, parent_type, name, details),
            passes_as_is=_passes_as_is(_unwrap_non_null(return_type)) if read is not None else None,
        )

    def completer(
        self,
        return_type: GraphQLOutputType,
        parent_type: GraphQLObjectType,
        field_name: str,
        details: FieldDetailsList,
        lists: int = 0,
    ) -> Completer:
        """Completes values of `return_type`, found `lists` list levels below the field."""
        field_def = self.schema.get_field(parent_type, field_name)
        assert field_def is not None
        if isinstance(return_type, GraphQLNonNull):
            inner = self.completer(return_type.of_type, parent_type, field_name, details, lists)
            message = f"Cannot return null for non-nullable field {parent_type}.{field_name}."
            return _non_null(inner, message)
        if isinstance(return_type, GraphQLList):
            item_type = return_type.of_type
            item = self.completer(item_type, parent_type, field_name, details, lists + 1)
            return _list(
                item,
                item_non_null=is_non_null_type(item_type),
                item_needs_path=not is_leaf_type(_unwrap_non_null(item_type)),
                field=ListField(
                    parent_type,
                    field_def,
                    details,
                    [detail.node for detail in details],
                    return_type,
                    "Expected Iterable, but did not find one for field"
                    f" '{parent_type}.{field_name}'.",
                ),
            )
        if is_leaf_type(return_type):
            return _leaf(return_type)
        if is_object_type(return_type):
            assert isinstance(return_type, GraphQLObjectType)
            object_type = return_type

            def collect() -> dict[str, FieldDetailsList]:
                return collect_subfields(
                    self.schema,
                    self.fragments,
                    self.variable_values,
                    self.operation,
                    object_type,
                    details,
                    self.hide_suggestions,
                ).grouped_field_set

            by_value, check = _type_check(object_type, field_def, parent_type, details, lists)
            try:
                grouped = collect()
            except GraphQLError:
                return _uncollectable(collect, object_type, details, by_value, check)
            plan = self.object_plan(object_type, grouped)
            return _object(plan, object_type, details, by_value, check)
        raise Unsupported(f"abstract type {return_type}")


def _type_check(
    object_type: GraphQLObjectType,
    field_def: GraphQLField,
    parent_type: GraphQLObjectType,
    details: FieldDetailsList,
    lists: int,
) -> tuple[Callable[[Any], bool] | None, TypeCheck | None]:
    """The check of `object_type`'s `is_type_of` for values of the field `field_def`:
    a predicate of the value alone (Strawberry's own), or a check that builds the
    info graphql-core would pass; neither for a type without `is_type_of`."""
    is_type_of = object_type.is_type_of
    if is_type_of is None:
        return None, None
    by_value = value_check(is_type_of)
    if by_value is not None:
        return by_value, None
    nodes = [detail.node for detail in details]

    def check(executor: PlannedExecutor, value: Any, path: Path) -> Any:
        # graphql-core passes the field's resolve info, also to the items of a list.
        field_path = path
        for _ in range(lists):
            field_path = field_path.prev or field_path
        info = executor.build_resolve_info(field_def, nodes, parent_type, field_path)
        verdict = is_type_of(value, info)
        if executor.is_awaitable(verdict):
            return _awaited_check(verdict, object_type, value, details)
        if not verdict:
            raise invalid_return_type_error(object_type, value, details)
        return None

    return None, check


async def _awaited_check(
    verdict: Any, object_type: GraphQLObjectType, value: Any, details: FieldDetailsList
) -> None:
    if not await verdict:
        raise invalid_return_type_error(object_type, value, details)


def _unwrap_non_null(type_: GraphQLOutputType) -> GraphQLOutputType:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _typename(type_name: str) -> Callable[[Any], Any]:
    return lambda _source: type_name


def _non_null(inner: Completer, message: str) -> Completer:
    def complete_non_null(executor: PlannedExecutor, value: Any, path: Any) -> Any:
        # A completion still running is an object's or a list's: it settles to a
        # dict or a list, never to null, so graphql-core does not check it either.
        completed = inner(executor, value, path)
        if completed is None:
            raise TypeError(message)
        return completed

    return complete_non_null


def _passes_as_is(leaf_type: GraphQLOutputType) -> type | None:
    """Strings, ids and booleans that already are one pass as they are."""
    if leaf_type in (GraphQLString, GraphQLID):
        return str
    if leaf_type is GraphQLBoolean:
        return bool
    return None


def _leaf(leaf_type: Any) -> Completer:
    coerce = leaf_type.coerce_output_value
    passes_as_is = _passes_as_is(leaf_type)
    type_text = str(leaf_type)

    def complete_leaf(_executor: PlannedExecutor, value: Any, _path: Any) -> Any:
        if value is None:
            return None
        if value.__class__ is passes_as_is:
            return value
        if isinstance(value, Exception):
            raise value
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise TypeError(
                f"Expected `{type_text}.coerce_output_value({value!r})` to return "
                f"non-nullable value, returned: {coerced!r}"
            )
        return coerced

    return complete_leaf


def _object(
    plan: ObjectPlan,
    object_type: GraphQLObjectType,
    details: FieldDetailsList,
    by_value: Callable[[Any], bool] | None,
    check: TypeCheck | None,
) -> Completer:
    if by_value is not None:

        def complete_checked_value(executor: PlannedExecutor, value: Any, path: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, Exception):
                raise value
            if not by_value(value):
                raise invalid_return_type_error(object_type, value, details)
            return executor.execute_object(plan, value, path)

        return complete_checked_value

    if check is not None:

        def complete_checked_object(executor: PlannedExecutor, value: Any, path: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, Exception):
                raise value
            checking = check(executor, value, path)
            if checking is not None:
                return _object_after(checking, executor, plan, value, path)
            return executor.execute_object(plan, value, path)

        return complete_checked_object

    def complete_object(executor: PlannedExecutor, value: Any, path: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Exception):
            raise value
        return executor.execute_object(plan, value, path)

    return complete_object


async def _object_after(
    checking: Awaitable[None], executor: PlannedExecutor, plan: ObjectPlan, value: Any, path: Any
) -> Any:
    """An object whose type's check is awaitable: its fields run once the check passed."""
    await checking
    completed = executor.execute_object(plan, value, path)
    if executor.is_pending(completed):
        completed = await completed
    return completed


def _uncollectable(
    collect: Callable[[], Any],
    object_type: GraphQLObjectType,
    details: FieldDetailsList,
    by_value: Callable[[Any], bool] | None,
    check: TypeCheck | None,
) -> Completer:
    """An object type whose sub-selection does not collect: each object completed
    there raises the error collecting it raises (a fresh one, as graphql-core's),
    once the type's check, if it has one, passed."""

    def complete_uncollectable(executor: PlannedExecutor, value: Any, path: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Exception):
            raise value
        if by_value is not None and not by_value(value):
            raise invalid_return_type_error(object_type, value, details)
        if check is not None:
            checking = check(executor, value, path)
            if checking is not None:
                return _collect_after(checking, collect)
        collect()
        raise AssertionError("the sub-selection collected after all")  # pragma: no cover

    return complete_uncollectable


async def _collect_after(checking: Awaitable[None], collect: Callable[[], Any]) -> Any:
    await checking
    collect()
    raise AssertionError("the sub-selection collected after all")  # pragma: no cover


def _list(
    item: Completer, *, item_non_null: bool, item_needs_path: bool, field: ListField
) -> Completer:
    def complete_list(executor: PlannedExecutor, value: Any, path: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Exception):
            raise value
        return executor.complete_list(value, path, item, item_non_null, item_needs_path, field)

    return complete_list


def condition_variables(
    operation: OperationDefinitionNode, fragments: Iterable[FragmentDefinitionNode]
) -> tuple[str, ...]:
    """The variables that @skip/@include read: a plan holds for given values of these."""
    names: set[str] = set()

    def walk(selection_set: SelectionSetNode | None) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            for directive in selection.directives or ():
                if directive.name.value in ("skip", "include"):
                    for argument in directive.arguments or ():
                        if isinstance(argument.value, VariableNode):
                            names.add(argument.value.name.value)
            if isinstance(selection, (FieldNode, InlineFragmentNode)):
                walk(selection.selection_set)
            elif not isinstance(selection, FragmentSpreadNode):  # pragma: no cover
                raise Unsupported(f"selection {selection.kind}")

    walk(operation.selection_set)
    for fragment in fragments:
        walk(fragment.selection_set)
    return tuple(sorted(names))


class PlanCache:
    """Plans by operation, for the documents the parser cache keeps alive.

    Keyed by the identity of the operation node: the parser cache hands out the
    same document for the same query text. Each entry keeps its node, so the
    identity cannot be reused while the entry lives.
    """

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[
            tuple[int, int],
            tuple[
                GraphQLSchema,
                OperationDefinitionNode,
                tuple[str, ...],
                dict[tuple[Any, ...], ObjectPlan | None],
            ],
        ] = OrderedDict()

    def get(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragment_definitions: dict[str, FragmentDefinitionNode],
        fragments: dict[str, FragmentDetails],
        variable_values: VariableValues,
        root_type: GraphQLObjectType,
        hide_suggestions: bool = False,
    ) -> ObjectPlan | None:
        key = (id(schema), id(operation))
        entry = self._entries.get(key)
        if entry is None or entry[0] is not schema or entry[1] is not operation:
            try:
                conditions = condition_variables(operation, fragment_definitions.values())
            except Unsupported:
                conditions = ()
            entry = (schema, operation, conditions, {})
            self._entries[key] = entry
            if len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        coerced = variable_values.coerced
        # A variable left out and one sent as null collect differently: the first
        # takes its default, or fails with its own message when it has none.
        values = (
            hide_suggestions,
            *(_hashable(coerced.get(name, _ABSENT)) for name in entry[2]),
        )
        plans = entry[3]
        if values in plans:
            return plans[values]
        try:
            planner = _Planner(schema, fragments, variable_values, operation, hide_suggestions)
            plan: ObjectPlan | None = planner.root(root_type)
        except (Unsupported, RecursionError, GraphQLError):
            plan = None
        plans[values] = plan
        return plan


_ABSENT = object()


def _hashable(value: Any) -> Any:
    return value if isinstance(value, bool) or value is None or value is _ABSENT else repr(value)

"""Runs queries from cached plans; everything else goes to graphql-core.

Strawberry hands graphql-core an executor class; this one keeps Strawberry's
resolve info and resolvers and answers exactly as graphql-core's executor does,
but does per request only what depends on the request: call resolvers, coerce
leaves, build the response (README, "Against Apollo Server").

"Exactly" covers what concurrency makes visible, as graphql-core 3.3 does it:

- fields and list items still running settle together, and the first failure
  in time (a null that must propagate) wins: the others are cancelled
  (`gather_with_cancel`), so an answer does not wait for the slowest upstream;
- a failure raised while siblings are already running leaves them to settle in
  the background, where their errors are still observed but not reported;
- an error under a position already nulled is dropped (`CollectedErrors`).

tests/execution/test_differential.py holds it to that, on the real schema
against the sandbox. Mutations (run serially), subscriptions, middleware, abort
signals and operations the planner does not cover run on graphql-core's
executor unchanged; `ran_plan` says which one answered.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Coroutine
from contextlib import suppress
from types import CoroutineType
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLResolveInfoHelpers,
    OperationType,
    located_error,
)
from graphql.execution import ExecutionResult, Executor
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, gather_with_cancel, is_iterable

from gateway.compat.strawberry import StrawberryExecutor
from gateway.execution.plan import Completer, FieldPlan, ListField, ObjectPlan, PlanCache

_plans = PlanCache()


def _alive(reference: weakref.ref[PlannedExecutor]) -> PlannedExecutor:
    executor = reference()
    if executor is None:  # pragma: no cover - resolvers run while their executor does
        raise RuntimeError("the operation has finished")
    return executor


class PlannedExecutor(StrawberryExecutor):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core's helpers are bound methods of the executor, which holds them:
        # a reference cycle that kept each request's context, loaders and upstream
        # bodies alive until the cyclic collector ran. Weak references break it.
        executor = weakref.ref(self)
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=lambda values: _alive(executor).gather_async_work(values),
            track=lambda values: _alive(executor).track_async_work(values),
        )

    # Whether the operation ran from a plan, for the request's log line.
    ran_plan = False

    def execute_operation(self, serially: bool | None = None) -> Any:
        """Executing operations (ExecuteQuery): from a plan when the planner covers
        the operation, else on graphql-core's executor."""
        plan = self._plan(serially)
        self.ran_plan = plan is not None
        if plan is None:
            return super().execute_operation(serially)
        try:
            data = self.execute_object(plan, self.root_value, None)
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return Executor.build_response(self, None)
        if self.is_pending(data):
            return self._finish(data)
        return Executor.build_response(self, data)

    async def _finish(self, pending: Awaitable[dict[str, Any]]) -> ExecutionResult:
        try:
            data: dict[str, Any] | None = await pending
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            data = None
        # Incremental results come only with @defer and @stream, which never reach a plan.
        return Executor.build_response(self, data)  # type: ignore[return-value]

    def _plan(self, serially: bool | None) -> ObjectPlan | None:
        operation = self.operation
        if (
            operation.operation is not OperationType.QUERY
            or serially
            or (self.middleware_manager is not None and self.middleware_manager.middlewares)
            or self.abort_signal is not None
            or self.hooks is not None
            or not self.error_propagation
        ):
            return None
        root_type = self.schema.query_type
        if root_type is None:
            return None
        return _plans.get(
            self.schema,
            operation,
            self.fragment_definitions,
            self.fragments,
            self.variable_values,
            root_type,
            self.hide_suggestions,
        )

    @staticmethod
    def is_pending(value: Any) -> bool:
        """Whether a completion is still running (only the executor's own coroutines are)."""
        return value.__class__ is CoroutineType

    def execute_object(self, plan: ObjectPlan, source: Any, path: Path | None) -> Any:
        """Executing selection sets (ExecuteSelectionSet), the fields of one object
        concurrently. A field's null that must propagate, raised while earlier
        fields are still running, leaves those to settle in the background."""
        data: dict[str, Any] = {}
        pending: list[tuple[str, Coroutine[Any, Any, Any]]] | None = None
        try:
            for field in plan.fields:
                passes_as_is = field.passes_as_is
                if passes_as_is is not None:
                    # Most fields are strings read off the upstream object: nothing to
                    # complete, no path to build, no coroutine to expect.
                    try:
                        # A field passes as is only when it is read: `read` is set.
                        value = field.read(source)  # type: ignore[misc]
                    except Exception as raw_error:
                        self._field_error(raw_error, field, path, None)
                        data[field.key] = None
                        continue
                    if value.__class__ is passes_as_is or (value is None and not field.non_null):
                        data[field.key] = value
                    else:
                        data[field.key] = self._complete_leaf(field, value, path)
                    continue
                value = self._execute_field(field, source, path)
                if value.__class__ is CoroutineType:
                    data[field.key] = None  # keeps the field's place in the response
                    if pending is None:
                        pending = []
                    pending.append((field.key, value))
                else:
                    data[field.key] = value
        except Exception:
            if pending is not None:
                self.settle_in_background([coroutine for _, coroutine in pending])
            raise
        if pending is None:
            return data
        return self._settle(data, pending)

    @staticmethod
    async def _settle(target: Any, pending: list[tuple[Any, Coroutine[Any, Any, Any]]]) -> Any:
        """Await the completions still running and put each result at its key or index.

        The first failure (a null that must propagate) is raised as soon as it
        happens, and the others still running are cancelled first: the answer
        does not wait for the slowest upstream, and nothing reports an error
        from inside a position about to be nulled."""
        if len(pending) == 1:
            key, coroutine = pending[0]
            target[key] = await coroutine
            return target
        results = await gather_with_cancel(*(coroutine for _, coroutine in pending))
        for (key, _), result in zip(pending, results, strict=True):
            target[key] = result
        return target

    def _execute_field(self, field: FieldPlan, source: Any, path: Path | None) -> Any:
        """Executing fields (ExecuteField): resolve, then complete the value."""
        field_path = Path(path, field.key, field.parent_type.name) if field.needs_path else None
        try:
            if field.read is not None:
                value = field.read(source)
            else:
                value = self._resolve(field, source, field_path)
                if self.is_awaitable(value):
                    return self._complete_later(field, value, path, field_path)
            completed = field.complete(self, value, field_path)
            if completed.__class__ is CoroutineType:
                return self._guard(field, completed, path, field_path)
            return completed
        except Exception as raw_error:
            return self._field_error(raw_error, field, path, field_path)

    def _complete_leaf(self, field: FieldPlan, value: Any, path: Path | None) -> Any:
        try:
            return field.complete(self, value, None)
        except Exception as raw_error:
            return self._field_error(raw_error, field, path, None)

    def _resolve(self, field: FieldPlan, source: Any, field_path: Path | None) -> Any:
        field_def = field.field_def
        # A field with a resolver needs its path (`needs_path`): `field_path` is set.
        info = self.build_resolve_info(field_def, field.nodes, field.parent_type, field_path)  # type: ignore[arg-type]
        if field.call is not None:
            return field.call(source, info)
        args = (
            get_argument_values(
                field_def,
                field.nodes[0],
                self.variable_values,
                field.details[0].fragment_variable_values,
                self.hide_suggestions,
            )
            if field.has_args
            else {}
        )
        resolve = field_def.resolve or self.field_resolver
        return resolve(source, info, **args)

    async def _complete_later(
        self, field: FieldPlan, value: Awaitable[Any], path: Path | None, field_path: Path | None
    ) -> Any:
        try:
            completed = field.complete(self, await value, field_path)
            if completed.__class__ is CoroutineType:
                completed = await completed
            return completed
        except Exception as raw_error:
            return self._field_error(raw_error, field, path, field_path)

    async def _guard(
        self,
        field: FieldPlan,
        completion: Coroutine[Any, Any, Any],
        path: Path | None,
        field_path: Path | None,
    ) -> Any:
        try:
            return await completion
        except Exception as raw_error:
            return self._field_error(raw_error, field, path, field_path)

    def _field_error(
        self, raw_error: Exception, field: FieldPlan, path: Path | None, field_path: Path | None
    ) -> None:
        """Handling execution errors: a non-null field's error propagates to its
        parent; a nullable one is collected and the field is null."""
        if field_path is None:
            field_path = Path(path, field.key, field.parent_type.name)
        error = located_error(raw_error, field.nodes, field_path.as_list())
        if field.non_null:
            raise error
        self.collected_errors.add(error, field_path)

    def complete_list(
        self,
        value: Any,
        path: Path,
        item: Completer,
        item_non_null: bool,
        item_needs_path: bool,
        field: ListField,
    ) -> Any:
        """Value completion of a list (CompleteValue): each item with the item type,
        concurrently. An item's null that must propagate, raised while earlier items
        are still running, leaves those (and awaitables among the items not reached)
        to settle in the background."""
        if value.__class__ is not list:
            if self.is_async_iterable(value):
                return self._complete_async_iterable(value, path, field)
            if not is_iterable(value):
                raise GraphQLError(field.not_iterable)
        nodes = field.nodes
        completed: list[Any] = []
        pending: list[tuple[int, Coroutine[Any, Any, Any]]] | None = None
        entries = iter(value)
        try:
            for index, entry in enumerate(entries):
                item_path = Path(path, index, None) if item_needs_path else None
                try:
                    if self.is_awaitable(entry):
                        result: Any = self._complete_item_later(
                            entry, item, item_non_null, nodes, path, index, item_path
                        )
                    else:
                        result = item(self, entry, item_path)
                        if result.__class__ is CoroutineType:
                            result = self._guard_item(result, item_non_null, nodes, path, index)
                    if result.__class__ is CoroutineType:
                        if pending is None:
                            pending = []
                        pending.append((index, result))
                except Exception as raw_error:
                    self._item_error(raw_error, item_non_null, nodes, path, index)
                    result = None
                completed.append(result)
        except Exception:
            running: list[Awaitable[Any]] = [coroutine for _, coroutine in pending or ()]
            with suppress(Exception):
                running.extend(entry for entry in entries if self.is_awaitable(entry))
            if running:
                self.settle_in_background(running)
            raise
        if pending is None:
            return completed
        return self._settle(completed, pending)

    def _complete_async_iterable(self, value: Any, path: Path, field: ListField) -> Any:
        """A list given as an async iterable completes on graphql-core's own machinery,
        items and their sub-selections included: the planner builds no plans for
        values it meets this rarely."""
        info = self.build_resolve_info(field.field_def, field.nodes, field.parent_type, path)
        return self.complete_async_iterator_value(
            field.list_type.of_type,
            field.details,
            info,
            path,
            self.cancellable_iterable(value).__aiter__(),
            None,
        )

    async def _complete_item_later(
        self,
        entry: Awaitable[Any],
        item: Completer,
        item_non_null: bool,
        nodes: list[FieldNode],
        path: Path,
        index: int,
        item_path: Path | None,
    ) -> Any:
        try:
            result = item(self, await entry, item_path)
            if result.__class__ is CoroutineType:
                result = await result
            return result
        except Exception as raw_error:
            return self._item_error(raw_error, item_non_null, nodes, path, index)

    async def _guard_item(
        self,
        completion: Coroutine[Any, Any, Any],
        item_non_null: bool,
        nodes: list[FieldNode],
        path: Path,
        index: int,
    ) -> Any:
        try:
            return await completion
        except Exception as raw_error:
            return self._item_error(raw_error, item_non_null, nodes, path, index)

    def _item_error(
        self,
        raw_error: Exception,
        item_non_null: bool,
        nodes: list[FieldNode],
        path: Path,
        index: int,
    ) -> None:
        """Handling execution errors, for a list item."""
        item_path = Path(path, index, None)
        error = located_error(raw_error, nodes, item_path.as_list())
        if item_non_null:
            raise error
        self.collected_errors.add(error, item_path)
        return

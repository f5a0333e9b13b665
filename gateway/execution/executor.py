"""Runs queries from cached plans; everything else goes to graphql-core.

Strawberry hands graphql-core an executor class; this one keeps Strawberry's
resolve info and resolvers and graphql-core's error semantics (located errors,
null propagation to the nearest nullable field, errors collected once per
nulled position) but does per request only what depends on the request: call
resolvers, coerce leaves, build the response. It took the CPU per request of
`contactsByIds` with 100 ids from 12 to 8 ms (README, "Against Apollo Server").

Mutations (run serially), subscriptions, middleware, abort signals and
operations the planner does not cover run on graphql-core's executor unchanged.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Coroutine
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
from graphql.pyutils import Path, is_iterable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.execution.plan import Completer, FieldPlan, ObjectPlan, PlanCache

_plans = PlanCache()


def _alive(reference: weakref.ref[PlannedExecutor]) -> PlannedExecutor:
    executor = reference()
    if executor is None:  # pragma: no cover - resolvers run while their executor does
        raise RuntimeError("the operation has finished")
    return executor


class PlannedExecutor(StrawberryGraphQLCoreExecutionContext):
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
        )

    @staticmethod
    def is_pending(value: Any) -> bool:
        """Whether a completion is still running (only the executor's own coroutines are)."""
        return value.__class__ is CoroutineType

    def execute_object(self, plan: ObjectPlan, source: Any, path: Path | None) -> Any:
        data: dict[str, Any] = {}
        pending: list[tuple[str, Coroutine[Any, Any, Any]]] | None = None
        for field in plan.fields:
            passes_as_is = field.passes_as_is
            if passes_as_is is not None:
                # Most fields are strings read off the upstream object: nothing to
                # complete, no path to build, no coroutine to expect.
                try:
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
        if pending is None:
            return data
        return self._settle(data, pending)

    @staticmethod
    async def _settle(target: Any, pending: list[tuple[Any, Coroutine[Any, Any, Any]]]) -> Any:
        """Await the completions still running and put each result at its key or index;
        all settle before the first failure (a null to propagate) is raised."""
        if len(pending) == 1:
            key, coroutine = pending[0]
            target[key] = await coroutine
            return target
        results = await asyncio.gather(
            *(coroutine for _, coroutine in pending), return_exceptions=True
        )
        failure: BaseException | None = None
        for (key, _), result in zip(pending, results, strict=True):
            if isinstance(result, BaseException):
                failure = failure or result
            else:
                target[key] = result
        if failure is not None:
            raise failure
        return target

    def _execute_field(self, field: FieldPlan, source: Any, path: Path | None) -> Any:
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
        if field_path is None:
            field_path = Path(path, field.key, field.parent_type.name)
        error = located_error(raw_error, field.nodes, field_path.as_list())
        if field.non_null:
            raise error
        self.collected_errors.add(error, field_path)

    async def checked_not_null(self, completion: Coroutine[Any, Any, Any], message: str) -> Any:
        completed = await completion
        if completed is None:
            raise TypeError(message)
        return completed

    def complete_list(
        self,
        value: Any,
        path: Path,
        item: Completer,
        item_non_null: bool,
        item_needs_path: bool,
        nodes: list[FieldNode],
        not_iterable: str,
    ) -> Any:
        if value.__class__ is not list and not is_iterable(value):
            raise GraphQLError(not_iterable)
        completed: list[Any] = []
        pending: list[tuple[int, Coroutine[Any, Any, Any]]] | None = None
        for index, entry in enumerate(value):
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
        if pending is None:
            return completed
        return self._settle(completed, pending)

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
        item_path = Path(path, index, None)
        error = located_error(raw_error, nodes, item_path.as_list())
        if item_non_null:
            raise error
        self.collected_errors.add(error, item_path)
        return

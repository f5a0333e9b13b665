"""graphql-core names the gateway relies on.

`Executor` is graphql-core's public executor class; the planned executor
subclasses it and uses members that graphql-core documents as internal
(`collected_errors`, `build_response`, the async helpers). The planner raises
graphql-core's own error for a value its type's `is_type_of` refuses
(`invalid_return_type_error`, a function of graphql-core's executor module),
so that both executors word it alike. They are named here so that an upgrade
that moves them fails on import, in one place.
"""

from __future__ import annotations

from graphql.execution import Executor
from graphql.execution.executor import invalid_return_type_error

__all__ = ["Executor", "invalid_return_type_error"]

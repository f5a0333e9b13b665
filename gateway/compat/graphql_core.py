"""graphql-core names the gateway relies on beyond its documented API.

- `Executor` is graphql-core's public executor class; the planned executor
  subclasses it and uses members graphql-core keeps for its own use:
  `collected_errors` (the errors so far, with the positions already nulled),
  `build_response`, and the async helpers `gather_async_work` and
  `track_async_work`.
- The planner collects fields with graphql-core's own `collect_fields` and
  `collect_subfields` (a module graphql-core does not export), so that both
  executors see the same fields, in the same order, with the same errors.
- It raises graphql-core's own error for a value its type's `is_type_of`
  refuses (`invalid_return_type_error`), so that both executors word it alike.

They are named here so that an upgrade that moves or changes them fails on
import, or in tests/compat/test_graphql_core.py, in one place.
"""

from __future__ import annotations

from graphql.execution import Executor
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.executor import invalid_return_type_error

__all__ = [
    "Executor",
    "FieldDetailsList",
    "FragmentDetails",
    "collect_fields",
    "collect_subfields",
    "invalid_return_type_error",
]

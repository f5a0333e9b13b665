"""graphql-core names the gateway relies on.

`Executor` is graphql-core's public executor class; the planned executor
subclasses it and uses members that graphql-core documents as internal
(`collected_errors`, `build_response`, the async helpers). They are named here
so that tests/compat/test_graphql_core.py checks them on every upgrade.
"""

from __future__ import annotations

from graphql.execution import Executor

__all__ = ["Executor"]

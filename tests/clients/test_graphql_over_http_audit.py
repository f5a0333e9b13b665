"""graphql-http's server audit, the GraphQL-over-HTTP conformance suite, run by
its own package from Node against the gateway on its embedded sandbox."""

from __future__ import annotations

from typing import Any

from tests.clients.node import run_script
from tests.graphiql.serving import sandbox_settings, serve_gateway


def test_every_audit_item_passes() -> None:
    with serve_gateway(sandbox_settings()) as url:
        report: dict[str, Any] = run_script("src/audit.mjs", f"{url}/graphql")
    levels = report["levels"]
    print(
        "graphql-http audit: "
        + ", ".join(f"{level} {n['passed']}/{n['total']}" for level, n in sorted(levels.items()))
    )
    failed = [item for item in report["items"] if item["status"] != "ok"]
    assert failed == []
    # The audit of graphql-http 1.23: every MUST, SHOULD and MAY of the spec it checks.
    assert sum(n["total"] for n in levels.values()) == 61
    assert set(levels) == {"MUST", "SHOULD", "MAY"}

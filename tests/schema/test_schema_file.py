from __future__ import annotations

from pathlib import Path

from gateway.cli import schema_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_graphql_is_in_sync_with_the_code() -> None:
    assert SCHEMA_FILE.read_text() == schema_sdl(), (
        "schema.graphql drifted from the code: run `gateway schema > schema.graphql` "
        "and review the diff for breaking changes"
    )

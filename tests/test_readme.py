"""The README lists every setting the gateway reads and every error code it gives."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices

from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
# A code is a quoted upper-case name with an underscore, or one of these.
_CODE = re.compile(r'"([A-Z][A-Z]+(?:_[A-Z]+)+)"')
_NOT_CODES = re.compile(r"^(GATEWAY_|MONEYBIRD_|MONITE_|ASSETS_)")


def environment_names() -> list[str]:
    names = []
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        assert isinstance(alias, AliasChoices)
        names.append(str(alias.choices[0]))
    return names


def error_codes() -> set[str]:
    codes = set()
    for path in (ROOT / "gateway").rglob("*.py"):
        if "sandbox" in path.parts:
            continue
        codes |= {code for code in _CODE.findall(path.read_text()) if not _NOT_CODES.match(code)}
    return codes


def test_every_setting_is_in_the_readme() -> None:
    names = environment_names()
    assert len(names) > 30
    missing = [name for name in names if f"`{name}`" not in README]
    assert missing == []


def test_every_error_code_is_in_the_readme() -> None:
    codes = error_codes()
    assert {"GRAPHQL_PARSE_FAILED", "UPSTREAM_INVALID_DATA", "RATE_LIMITED"} <= codes
    missing = sorted(code for code in codes if f"`{code}`" not in README)
    assert missing == []

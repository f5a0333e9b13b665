from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.sandbox.app import with_sandbox_defaults
from gateway.sandbox.state import SandboxState
from gateway.settings import Settings


def test_defaults_target_the_embedded_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MONEYBIRD_BASE_URL", "MONITE_BASE_URL", "MONEYBIRD_ADMINISTRATION_ID"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.uses_sandbox
    assert settings.monite_version == "2024-01-31"
    # the mounted sandbox brings its own administration and entity
    assert settings.moneybird_administration_id is None
    mounted = with_sandbox_defaults(settings, SandboxState())
    assert mounted.moneybird_administration_id == "123456789"
    assert mounted.monite_entity_id == "9d2b4c8f-2087-4738-ba91-7359683c49a4"


def test_the_sandbox_fills_in_only_the_upstream_it_stands_in_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("MONEYBIRD_ADMINISTRATION_ID", "MONITE_ENTITY_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MONEYBIRD_BASE_URL", "https://moneybird.com/api/v2")
    mounted = with_sandbox_defaults(Settings(), SandboxState())
    assert mounted.moneybird_administration_id is None
    assert mounted.monite_entity_id == "9d2b4c8f-2087-4738-ba91-7359683c49a4"


def test_environment_names_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONEYBIRD_BASE_URL", "https://moneybird.com/api/v2")
    monkeypatch.setenv("MONITE_BASE_URL", "https://api.monite.com/v1")
    monkeypatch.setenv("MONEYBIRD_ADMINISTRATION_ID", "42")
    monkeypatch.setenv("GATEWAY_UPSTREAM_READ_TIMEOUT", "2.5")
    settings = Settings()
    assert not settings.uses_sandbox
    assert settings.moneybird_administration_id == "42"
    assert settings.upstream_read_timeout == 2.5


def test_a_real_upstream_has_no_sandbox_administration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONEYBIRD_ADMINISTRATION_ID", raising=False)
    monkeypatch.setenv("MONEYBIRD_BASE_URL", "https://moneybird.com/api/v2")
    assert Settings().moneybird_administration_id is None


def test_a_non_numeric_administration_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONEYBIRD_ADMINISTRATION_ID", "../admin")
    with pytest.raises(ValidationError):
        Settings()

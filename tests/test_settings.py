from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.settings import Settings


def test_defaults_target_the_embedded_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MONEYBIRD_BASE_URL", "MONITE_BASE_URL", "MONEYBIRD_ADMINISTRATION_ID"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.uses_sandbox
    assert settings.default_administration_id() == "123456789"
    assert settings.monite_version == "2024-01-31"


def test_environment_names_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONEYBIRD_BASE_URL", "https://moneybird.com/api/v2")
    monkeypatch.setenv("MONITE_BASE_URL", "https://api.monite.com/v1")
    monkeypatch.setenv("MONEYBIRD_ADMINISTRATION_ID", "42")
    monkeypatch.setenv("GATEWAY_UPSTREAM_READ_TIMEOUT", "2.5")
    settings = Settings()
    assert not settings.uses_sandbox
    assert settings.default_administration_id() == "42"
    assert settings.upstream_read_timeout == 2.5


def test_a_real_upstream_has_no_sandbox_administration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONEYBIRD_ADMINISTRATION_ID", raising=False)
    monkeypatch.setenv("MONEYBIRD_BASE_URL", "https://moneybird.com/api/v2")
    assert Settings().default_administration_id() is None


def test_a_non_numeric_administration_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONEYBIRD_ADMINISTRATION_ID", "../admin")
    with pytest.raises(ValidationError):
        Settings()

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import Settings


def test_defaults_follow_the_configuration_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATA_DIR", "DATABASE_URL", "API_HOST", "API_PORT", "FOLLOW_UP_DAYS"):
        monkeypatch.delenv(f"HOMEWARD_{name}", raising=False)
    settings = Settings()
    assert settings.data_dir == Path(".homeward")
    assert (settings.api_host, settings.api_port, settings.prefect_port) == (
        "127.0.0.1",
        8000,
        4200,
    )
    assert settings.follow_up_days == (30, 90, 180, 365)
    assert settings.sweep_seconds == 60
    assert settings.resolved_database_url.endswith(".homeward/homeward.db")
    assert settings.resolved_public_url == "http://127.0.0.1:8000"


def test_follow_up_days_are_read_from_a_comma_separated_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOMEWARD_FOLLOW_UP_DAYS", "90, 0,30")
    assert Settings().follow_up_days == (0, 30, 90)


@pytest.mark.parametrize("value", ["", "thirty", "-5", "30,,x"])
def test_bad_follow_up_days_are_refused_with_a_message(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("HOMEWARD_FOLLOW_UP_DAYS", value)
    with pytest.raises(ValidationError, match="follow"):
        Settings()


@pytest.mark.parametrize("secret", ["changethis", "secret", "short-but-not-placeholder"])
def test_placeholder_or_short_jwt_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="placeholder or shorter"):
        Settings(jwt_secret=secret)  # type: ignore[arg-type]


def test_signing_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = settings.signing_key()
    assert len(first) >= 48
    assert Settings(data_dir=tmp_path / "data").signing_key() == first
    mode = (tmp_path / "data" / "jwt-secret").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_configured_signing_key_wins(tmp_path: Path) -> None:
    secret = "k" * 40
    assert Settings(data_dir=tmp_path, jwt_secret=secret).signing_key() == secret  # type: ignore[arg-type]
    assert not (tmp_path / "jwt-secret").exists()

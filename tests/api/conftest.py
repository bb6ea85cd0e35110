"""The API over a fresh database of each backend, with a waker that only records."""

from __future__ import annotations

import functools
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.security import hash_password
from core.settings import Settings
from tests import factories

# Argon2 takes ~0.1 s per hash; hashing each test password once keeps the suite fast.
# Logging in still runs a real argon2 verification against a real hash.
_hash_once = functools.cache(hash_password)


@pytest.fixture(autouse=True)
def _hash_each_password_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("domain.agencies.hash_password", _hash_once)


@pytest.fixture
def corridors_yaml() -> str | None:
    """The corridors file for a test; None: the one shipped with Homeward."""
    return None


@pytest.fixture
def settings(tmp_path: Path, database_url: str, corridors_yaml: str | None) -> Settings:
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        follow_up_days=(0, 0),
        jwt_secret=secrets.token_urlsafe(36),
    )
    if corridors_yaml is None:
        return settings
    path = tmp_path / "corridors.yaml"
    path.write_text(corridors_yaml, encoding="utf-8")
    return settings.model_copy(update={"corridors_file": path})


@pytest.fixture
def woken() -> list[uuid.UUID]:
    """Case ids the API asked the flow to move on, in order."""
    return []


@pytest.fixture
def client(settings: Settings, woken: list[uuid.UUID]) -> Iterator[TestClient]:
    def wake_case(_: Settings, case_id: uuid.UUID) -> bool:
        woken.append(case_id)
        return True

    with TestClient(create_app(settings, wake_case=wake_case)) as client:
        yield client


@pytest.fixture
def corridor(settings: Settings) -> factories.Corridor:
    return factories.corridor(settings)

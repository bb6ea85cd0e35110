"""The flows read their settings from the environment: point it at a throwaway SQLite
database and a local HTTP sink."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel

from core.db import engine_for
from tests.support.sink import Sink


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/flows.db"
    SQLModel.metadata.create_all(engine_for(url))
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOMEWARD_DATABASE_URL", url)
    monkeypatch.setenv("HOMEWARD_PUBLIC_URL", "https://homeward.example.org/")
    monkeypatch.setenv("HOMEWARD_NOTIFICATION_TIMEOUT_SECONDS", "2")
    return url


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink() as sink:
        yield sink

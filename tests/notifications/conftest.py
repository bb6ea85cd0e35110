"""A throwaway SQLite database and a local HTTP sink for outbox tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel

from core.db import engine_for
from core.settings import Settings
from tests.support.sink import Sink


@pytest.fixture
def outbox_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/t.db"
    SQLModel.metadata.create_all(engine_for(url))
    return url


@pytest.fixture
def session(outbox_db: str) -> Iterator[Session]:
    with Session(engine_for(outbox_db), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink() as sink:
        yield sink


@pytest.fixture
def settings(outbox_db: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=outbox_db,
        public_url="https://homeward.example.org/",
        notification_timeout_seconds=2,
        notification_max_attempts=3,
        notification_claim_seconds=60,
    )

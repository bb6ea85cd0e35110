"""Databases for tests: a fresh, migrated SQLite file or PostgreSQL database per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from core.db import engine_for
from models.migrations import upgrade
from tests.support.postgres import fresh_database, running_postgres

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """One PostgreSQL server for the whole session; HOMEWARD_TEST_POSTGRES_URL reuses yours."""
    configured = os.environ.get("HOMEWARD_TEST_POSTGRES_URL")
    if configured:
        yield configured
        return
    with running_postgres() as url:
        yield url


def _sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'homeward.db'}"


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of this backend, migrated to head, used by no other test."""
    if request.param == "sqlite":
        url = _sqlite_url(tmp_path)
        upgrade(url)
        try:
            yield url
        finally:
            engine_for(url).dispose()
        return
    # Looked up lazily so that a SQLite-only selection never starts PostgreSQL.
    server_url: str = request.getfixturevalue("postgres_server_url")
    with fresh_database(server_url) as url:
        upgrade(url)
        yield url


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        yield session

"""Databases for tests: a fresh, migrated SQLite file or PostgreSQL database per test.

Each backend is migrated once per session and every test gets its own copy of that result
(a copied file; a database made from a template): what `upgrade` would have left, without
the ~0.3 s per SQLite test (more per PostgreSQL one) that running the migrations took.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session

from core.db import engine_for
from models.migrations import upgrade
from tests.support.postgres import fresh_database, running_postgres
from tests.support.sqlite import FILE_NAME, copy_of, sqlite_url

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


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, with every connection to it closed: copy, don't use."""
    directory = tmp_path_factory.mktemp("migrated-sqlite")
    url = sqlite_url(directory)
    upgrade(url)
    engine_for(url).dispose()  # the last connection closed checkpoints the WAL into the file
    return directory / FILE_NAME


@pytest.fixture(scope="session")
def migrated_postgres_database(postgres_server_url: str) -> Iterator[str]:
    """The name of a PostgreSQL database migrated to head, used only as a template."""
    with fresh_database(postgres_server_url) as url:
        upgrade(url)
        engine_for(url).dispose()  # CREATE DATABASE ... TEMPLATE needs it unconnected
        yield str(make_url(url).database)


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database of this backend, migrated to head, used by no other test."""
    if request.param == "sqlite":
        url = copy_of(request.getfixturevalue("migrated_sqlite_file"), tmp_path)
        try:
            yield url
        finally:
            engine_for(url).dispose()
        return
    # Looked up lazily so that a SQLite-only selection never starts PostgreSQL.
    server_url: str = request.getfixturevalue("postgres_server_url")
    template: str = request.getfixturevalue("migrated_postgres_database")
    with fresh_database(server_url, template=template) as url:
        yield url


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        yield session

"""A real Homeward stack for the session: Prefect server, runner and API on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.live import Live, running_stack
from tests.support.postgres import fresh_database


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running_stack(tmp_path_factory.mktemp("homeward-live")) as stack:
        yield stack


@pytest.fixture(scope="module")
def live_on_postgres(
    tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str
) -> Iterator[Live]:
    """The same stack with Homeward's data in PostgreSQL, as in production."""
    with (
        fresh_database(postgres_server_url) as url,
        running_stack(
            tmp_path_factory.mktemp("homeward-live-pg"), HOMEWARD_DATABASE_URL=url
        ) as stack,
    ):
        yield stack

"""A real Homeward stack for the session: Prefect server, runner and API on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.live import Live, running_stack


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running_stack(tmp_path_factory.mktemp("homeward-live")) as stack:
        yield stack

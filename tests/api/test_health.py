"""GET /health: 200 while the database and Prefect answer, 503 naming the one that does not."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from cli.stack import Stack
from core.settings import Settings
from tests.support.api_server import running_api
from tests.support.postgres import free_port


def test_health_checks_the_database(client: TestClient) -> None:
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_liveness_checks_nothing(client: TestClient) -> None:
    response = client.get("/api/v1/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_prefect_unreachable_makes_health_503(tmp_path: Path, database_url: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}/api"
    with running_api(tmp_path, database_url, PREFECT_API_URL=closed) as api:
        started = time.monotonic()
        response = httpx.get(f"{api.url}/api/v1/health", timeout=30)
        took = time.monotonic() - started
        live = httpx.get(f"{api.url}/api/v1/health/live", timeout=30)

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "prefect": "unavailable"}
    assert body["error"] == "ServiceUnavailable" and "prefect" in body["detail"]
    assert took < 3, f"health took {took:.1f} s"
    assert live.status_code == 200


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[Stack]:
    """A local Prefect server alone, as `homeward up` starts it."""
    saved = os.environ.pop("PREFECT_API_URL", None)
    try:
        stack = Stack.for_settings(
            Settings(data_dir=tmp_path / "prefect-home", prefect_port=free_port())
        )
    finally:
        if saved is not None:
            os.environ["PREFECT_API_URL"] = saved
    try:
        stack.start_prefect_server()
        yield stack
    finally:
        stack.stop()


@pytest.mark.stack
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_health_follows_prefect_going_down(
    tmp_path: Path, database_url: str, prefect_server: Stack
) -> None:
    with running_api(tmp_path, database_url, PREFECT_API_URL=prefect_server.prefect_api_url) as api:
        healthy = httpx.get(f"{api.url}/api/v1/health", timeout=30)
        prefect_server.stop()
        down = httpx.get(f"{api.url}/api/v1/health", timeout=30)

    assert healthy.status_code == 200, healthy.text
    assert healthy.json() == {"status": "ok", "checks": {"database": "ok", "prefect": "ok"}}
    assert down.status_code == 503
    assert down.json()["checks"] == {"database": "ok", "prefect": "unavailable"}

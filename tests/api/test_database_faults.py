"""The database stopped, unreachable or locked: every route answers 503 with Retry-After,
never a 500 or a stack trace, and the API recovers by itself when the database is back."""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from models.migrations import upgrade
from tests import factories
from tests.factories import Corridor
from tests.support.api_server import ApiServer, running_api
from tests.support.postgres import LocalPostgres, find_bin_dir, free_port, psycopg_url

TIMEOUT = 30.0


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert body["error"] == "ServiceUnavailable" and body["detail"], body
    assert "Traceback" not in response.text and "psycopg" not in response.text


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[LocalPostgres]:
    """A PostgreSQL server of this test's own, which it may stop and start again."""
    root = Path(tempfile.mkdtemp(prefix="homeward-pg-faults-"))
    server = LocalPostgres(bin_dir=find_bin_dir(), root=root, port=free_port())
    try:
        server.start()
        upgrade(server.url)
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def api(tmp_path: Path, postgres: LocalPostgres) -> Iterator[ApiServer]:
    with running_api(tmp_path, postgres.url) as server:
        yield server


def _calls(
    http: httpx.Client, c: Corridor, case_id: str, task_id: str
) -> dict[str, httpx.Response]:
    return {
        "health": http.get("/api/v1/health"),
        "login": http.post(
            "/api/v1/auth/token", data={"username": c.consulate.username, "password": "x"}
        ),
        "case": http.get(f"/api/v1/cases/{case_id}", headers=c.ngo.headers),
        "complete": http.post(
            f"/api/v1/tasks/{task_id}/complete",
            json=factories.approved(),
            headers=c.consulate.headers,
        ),
    }


def test_postgresql_stopped_then_restarted(api: ApiServer, postgres: LocalPostgres) -> None:
    c = factories.corridor(api.settings)
    with httpx.Client(base_url=api.url, timeout=TIMEOUT) as http:
        launched = http.post("/api/v1/cases", json=factories.launch_case(), headers=c.ngo.headers)
        assert launched.status_code == 201, launched.text
        case_id = launched.json()["id"]
        factories.advance(api.settings, case_id)
        task = http.get("/api/v1/tasks", headers=c.consulate.headers).json()[0]
        assert http.get("/api/v1/health").json()["checks"] == {"database": "ok"}

        postgres.stop()
        started = time.monotonic()
        down = _calls(http, c, case_id, task["id"])
        print(f"\n4 requests with PostgreSQL stopped: {time.monotonic() - started:.2f} s")

        for response in down.values():
            assert_unavailable(response)
        assert down["health"].json()["checks"] == {"database": "unavailable"}

        postgres.serve()
        assert http.get("/api/v1/health").status_code == 200
        login = http.post(
            "/api/v1/auth/token",
            data={"username": c.consulate.username, "password": factories.PASSWORD},
        )
        assert login.status_code == 200, login.text
        assert http.get(f"/api/v1/cases/{case_id}", headers=c.ngo.headers).status_code == 200
        done = http.post(
            f"/api/v1/tasks/{task['id']}/complete",
            json=factories.approved(),
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )
        assert done.status_code == 200, done.text
    assert "Traceback" not in api.log_text()


def test_a_connection_lost_inside_a_request_answers_503(
    api: ApiServer, postgres: LocalPostgres
) -> None:
    c = factories.corridor(api.settings)
    with httpx.Client(base_url=api.url, timeout=TIMEOUT) as http:
        case_id = http.post(
            "/api/v1/cases", json=factories.launch_case(), headers=c.ngo.headers
        ).json()["id"]
        factories.advance(api.settings, case_id)
        task_id = http.get("/api/v1/tasks", headers=c.consulate.headers).json()[0]["id"]
        answers: list[httpx.Response] = []

        def complete() -> None:
            answers.append(
                http.post(
                    f"/api/v1/tasks/{task_id}/complete",
                    json=factories.approved(),
                    headers=c.consulate.headers,
                )
            )

        with psycopg.connect(psycopg_url(postgres.url)) as holder:
            # Hold the task's row so that the completion stops inside its transaction.
            holder.execute("SELECT id FROM task WHERE id = %s FOR UPDATE", (task_id,))
            worker = threading.Thread(target=complete)
            worker.start()
            waiting = _backend_waiting_for_a_lock(holder)
            holder.execute("SELECT pg_terminate_backend(%s)", (waiting,))
            worker.join(TIMEOUT)
            holder.rollback()

        assert_unavailable(answers[0])
        # Nothing was recorded: the completion goes through when sent again.
        again = http.post(
            f"/api/v1/tasks/{task_id}/complete",
            json=factories.approved(),
            headers=c.consulate.headers,
        )
        assert again.status_code == 200, again.text
    assert "Traceback" not in api.log_text()


def _backend_waiting_for_a_lock(connection: psycopg.Connection[Any]) -> int:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        row = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()"
        ).fetchone()
        if row is not None:
            return int(row[0])
        time.sleep(0.05)
    raise AssertionError("the completion never waited for the task's row")


def _sqlite_client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings, wake_case=lambda *_: True))


def _token_headers(settings: Settings) -> dict[str, str]:
    return factories.headers_for(settings, uuid.uuid4())


def test_an_sqlite_file_that_cannot_be_opened_answers_503(tmp_path: Path) -> None:
    (tmp_path / "not-a-directory").write_text("")
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'not-a-directory' / 'homeward.db'}",
        jwt_secret=secrets.token_urlsafe(36),
    )
    headers = _token_headers(settings)
    with _sqlite_client(settings) as client:
        health = client.get("/api/v1/health")
        answers = [
            health,
            client.post("/api/v1/auth/token", data={"username": "u", "password": "p"}),
            client.get(f"/api/v1/cases/{uuid.uuid4()}", headers=headers),
            client.post(f"/api/v1/tasks/{uuid.uuid4()}/complete", json={}, headers=headers),
            client.get("/api/v1/agencies", headers=headers),
        ]

    for response in answers:
        assert_unavailable(response)
    assert health.json()["checks"] == {"database": "unavailable"}


def test_an_sqlite_write_lock_held_past_the_busy_timeout_answers_503(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("core.db.SQLITE_BUSY_TIMEOUT_SECONDS", 1)
    path = tmp_path / "locked.db"  # a new URL: its engine is made with the short timeout
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{path}", jwt_secret=secrets.token_urlsafe(36)
    )
    upgrade(settings.resolved_database_url)
    headers = _token_headers(settings)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with _sqlite_client(settings) as client:
            answers = [
                client.post("/api/v1/auth/token", data={"username": "u", "password": "p"}),
                client.get("/api/v1/cases", headers=headers),
            ]
            # Reading is not writing: the database answers, it is only busy.
            health = client.get("/api/v1/health")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    for response in answers:
        assert_unavailable(response)
    assert health.status_code == 200 and health.json()["checks"] == {"database": "ok"}

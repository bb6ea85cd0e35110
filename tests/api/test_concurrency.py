"""Concurrent requests against a real API server (two uvicorn workers) on each database:
one decision per task, one case per Idempotency-Key, and no 5xx under write contention."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import func, select

from core.db import session_scope
from core.settings import Settings
from models import AuditEntry, Case, Event, Notification, Task
from models.enums import Role, TaskKind
from tests import factories
from tests.factories import Corridor, Member
from tests.support.api_server import ApiServer, running_api

WORKERS = 2
REQUEST_TIMEOUT = 60.0


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ApiServer]:
    with running_api(tmp_path, database_url, workers=WORKERS) as server:
        yield server


@pytest.fixture
def corridor(server: ApiServer) -> Corridor:
    return factories.corridor(server.settings)


@pytest.fixture
def http(server: ApiServer) -> Iterator[httpx.Client]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT, limits=limits) as client:
        yield client


def all_at_once(calls: list[Callable[[], httpx.Response]]) -> list[tuple[httpx.Response, float]]:
    """Run the calls in as many threads, released together; each answer with its seconds."""
    barrier = threading.Barrier(len(calls), timeout=30)

    def run(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
        barrier.wait()
        started = time.monotonic()
        response = call()
        return response, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def launch_case(http: httpx.Client, member: Member, **headers: str) -> dict[str, Any]:
    response = http.post(
        "/api/v1/cases", json=factories.launch_case(), headers={**member.headers, **headers}
    )
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


def open_verification(http: httpx.Client, c: Corridor, settings: Settings) -> tuple[str, str]:
    """A new case and its open verify_nationality task, as the flow run would leave it."""
    case_id = launch_case(http, c.ngo)["id"]
    factories.advance(settings, case_id)
    with session_scope(settings.resolved_database_url) as session:
        task_id = session.exec(
            select(Task.id).where(
                Task.case_id == uuid.UUID(case_id), Task.kind == TaskKind.verify_nationality
            )
        ).one()
    return case_id, str(task_id)


def count(settings: Settings, model: Any, *where: Any) -> int:
    with session_scope(settings.resolved_database_url) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def no_server_errors(server: ApiServer) -> None:
    log = server.log_text()
    assert "database is locked" not in log
    assert "Traceback" not in log


@pytest.mark.parametrize("keys", ["none", "distinct"])
def test_twenty_concurrent_completions_record_one_decision(
    server: ApiServer, http: httpx.Client, corridor: Corridor, keys: str
) -> None:
    settings = server.settings
    case_id, task_id = open_verification(http, corridor, settings)
    body = factories.approved()

    def complete(i: int) -> Callable[[], httpx.Response]:
        headers = dict(corridor.consulate.headers)
        if keys == "distinct":
            headers["Idempotency-Key"] = f"attempt-{i}"
        return lambda: http.post(f"/api/v1/tasks/{task_id}/complete", json=body, headers=headers)

    answers = all_at_once([complete(i) for i in range(20)])

    statuses = Counter(r.status_code for r, _ in answers)
    slowest = max(s for _, s in answers)
    print(f"\n20 completions ({keys} keys): {dict(statuses)}, slowest {slowest:.2f} s")
    assert statuses == {200: 1, 409: 19}
    for response, _ in answers:
        if response.status_code == 409:
            assert response.json()["error"] == "Conflict"
    case = uuid.UUID(case_id)
    assert count(settings, Event, Event.case_id == case, Event.kind == "task_completed") == 1
    # What the woken flow run does next queues one notification per task, however often
    # it is woken.
    for _ in range(3):
        factories.advance(settings, case_id)
    with session_scope(settings.resolved_database_url) as session:
        rows = session.exec(
            select(Notification.agency_id, Notification.kind, Notification.task_id).where(
                Notification.case_id == case
            )
        ).all()
        tasks = session.exec(select(Task.kind).where(Task.case_id == case)).all()
    assert len(rows) == len(set(rows)) == 2, rows
    assert Counter(tasks) == {TaskKind.verify_nationality: 1, TaskKind.plan_transport: 1}
    no_server_errors(server)


def test_twenty_concurrent_completions_with_one_key_all_get_the_first_answer(
    server: ApiServer, http: httpx.Client, corridor: Corridor
) -> None:
    settings = server.settings
    case_id, task_id = open_verification(http, corridor, settings)
    body = factories.approved()
    headers = {**corridor.consulate.headers, "Idempotency-Key": "the-one-completion"}

    answers = all_at_once(
        [
            lambda: http.post(f"/api/v1/tasks/{task_id}/complete", json=body, headers=headers)
            for _ in range(20)
        ]
    )

    statuses = Counter(r.status_code for r, _ in answers)
    print(f"\n20 completions (one key): {dict(statuses)}")
    assert statuses == {200: 20}
    assert len({r.content for r, _ in answers}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r, _ in answers) == 19
    case = uuid.UUID(case_id)
    assert count(settings, Event, Event.case_id == case, Event.kind == "task_completed") == 1
    no_server_errors(server)


def test_fifty_concurrent_launches_with_one_key_make_one_case(
    server: ApiServer, http: httpx.Client, corridor: Corridor
) -> None:
    settings = server.settings
    headers = {**corridor.ngo.headers, "Idempotency-Key": str(uuid.uuid4())}
    body = factories.launch_case()

    answers = all_at_once(
        [lambda: http.post("/api/v1/cases", json=body, headers=headers) for _ in range(50)]
    )

    statuses = Counter(r.status_code for r, _ in answers)
    slowest = max(s for _, s in answers)
    print(f"\n50 launches (one key): {dict(statuses)}, slowest {slowest:.2f} s")
    assert statuses == {201: 50}
    assert len({r.content for r, _ in answers}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r, _ in answers) == 49
    assert count(settings, Case) == 1
    assert count(settings, Event, Event.kind == "case_launched") == 1
    assert count(settings, AuditEntry, AuditEntry.action == "launch_case") == 1
    no_server_errors(server)


def test_thirty_two_concurrent_writers_get_no_server_error(
    server: ApiServer, http: httpx.Client, corridor: Corridor
) -> None:
    settings = server.settings
    launchers = [corridor.ngo, corridor.other_ngo] + [
        corridor.add_user(ngo, username=f"coordinator-{i}", role=Role.coordinator)
        for i, ngo in enumerate([corridor.ngo, corridor.other_ngo] * 3)
    ]
    officers = [corridor.consulate] + [
        corridor.add_user(corridor.consulate, username=f"consul-{i}", role=Role.consular_officer)
        for i in range(3)
    ]
    tasks = [open_verification(http, corridor, settings)[1] for _ in range(16)]
    body = factories.approved()
    calls: list[Callable[[], httpx.Response]] = []
    for i in range(16):
        launcher, officer, task_id = launchers[i % 8], officers[i % 4], tasks[i]
        calls.append(
            lambda m=launcher: http.post(
                "/api/v1/cases", json=factories.launch_case(), headers=m.headers
            )
        )
        calls.append(
            lambda m=officer, t=task_id: http.post(
                f"/api/v1/tasks/{t}/complete", json=body, headers=m.headers
            )
        )
    cases_before = count(settings, Case)

    answers = all_at_once(calls)

    statuses = Counter(r.status_code for r, _ in answers)
    seconds = sorted(s for _, s in answers)
    print(
        f"\n32 writers: {dict(statuses)}, median {seconds[16]:.2f} s, slowest {seconds[-1]:.2f} s"
    )
    assert statuses == {201: 16, 200: 16}, [r.text for r, _ in answers if r.status_code >= 300]
    assert count(settings, Case) == cases_before + 16
    assert count(settings, Event, Event.kind == "task_completed") == 16
    no_server_errors(server)

"""The Idempotency-Key header: a repeated request gets the first answer, once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import col, func, select, update

from core.clock import utcnow
from core.db import engine_for, session_scope
from core.settings import Settings
from domain.idempotency import prune_expired_keys
from models import AuditEntry, Case, Event, IdempotencyKey
from models.enums import TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member


def _launch(client: TestClient, member: Member, key: str | None, **body: Any) -> Any:
    headers = {**member.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post("/api/v1/cases", json=factories.launch_case(**body), headers=headers)


def _complete(
    client: TestClient, member: Member, task_id: str, body: dict[str, Any], key: str | None
) -> Any:
    headers = {**member.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/api/v1/tasks/{task_id}/complete", json=body, headers=headers)


def _count(settings: Settings, model: Any, *where: Any) -> int:
    with session_scope(settings.resolved_database_url) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def test_a_repeated_launch_returns_the_first_answer_and_launches_once(
    client: TestClient, corridor: Corridor, settings: Settings, woken: list[uuid.UUID]
) -> None:
    key = str(uuid.uuid4())

    first = _launch(client, corridor.ngo, key)
    again = _launch(client, corridor.ngo, key)

    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.content == first.content
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(settings, Case) == 1
    assert woken == [uuid.UUID(first.json()["id"])]
    # The replay showed the survivor's data again: the case's audit trail says so.
    assert _count(settings, AuditEntry, AuditEntry.action == "replay_answer") == 1


def test_the_same_key_with_another_body_is_refused(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    key = "launch-1"
    assert _launch(client, corridor.ngo, key).status_code == 201

    detail = expect.error(_launch(client, corridor.ngo, key, given_name="Salma"), 422)

    assert "Idempotency-Key" in detail and "another request" in detail
    assert "Salma" not in detail
    assert _count(settings, Case) == 1


def test_keys_belong_to_one_user(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    key = "shared-key"

    mine = _launch(client, corridor.ngo, key)
    theirs = _launch(client, corridor.other_ngo, key)

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert _count(settings, Case) == 2


def test_a_repeated_completion_returns_the_first_answer_and_completes_once(
    client: TestClient, corridor: Corridor, settings: Settings, woken: list[uuid.UUID]
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    task = factories.walk_to(client, corridor, case_id, TaskKind.verify_nationality)
    body = factories.approved()

    first = _complete(client, corridor.consulate, task["id"], body, "complete-1")
    again = _complete(client, corridor.consulate, task["id"], body, "complete-1")
    without_key = _complete(client, corridor.consulate, task["id"], body, None)
    other_key = _complete(client, corridor.consulate, task["id"], body, "complete-2")

    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    expect.error(without_key, 409)
    expect.error(other_key, 409)
    completed = Event.kind == "task_completed"
    assert _count(settings, Event, completed, Event.case_id == uuid.UUID(case_id)) == 1
    assert woken.count(uuid.UUID(case_id)) == 2  # the launch and the one completion


def test_a_completion_key_reused_for_another_task_is_refused(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    tasks = []
    for _ in range(2):
        case_id = factories.launch(client, corridor.ngo)["id"]
        tasks.append(factories.walk_to(client, corridor, case_id, TaskKind.verify_nationality))
    body = factories.approved()
    assert _complete(client, corridor.consulate, tasks[0]["id"], body, "k").status_code == 200

    expect.error(_complete(client, corridor.consulate, tasks[1]["id"], body, "k"), 422)

    assert factories.open_task(
        client, corridor.consulate, tasks[1]["case_id"], TaskKind.verify_nationality
    )


def test_a_failed_request_leaves_its_key_unused(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    task = factories.walk_to(client, corridor, case_id, TaskKind.verify_nationality)
    expired = factories.approved(expires_in_days=-1)

    expect.error(_complete(client, corridor.consulate, task["id"], expired, "retry-me"), 422)
    fixed = _complete(client, corridor.consulate, task["id"], factories.approved(), "retry-me")

    assert fixed.status_code == 200, fixed.text
    assert _count(settings, IdempotencyKey) == 1


def test_an_invalid_key_is_refused(client: TestClient, corridor: Corridor) -> None:
    expect.error(_launch(client, corridor.ngo, "x" * 256), 422)
    expect.error(_launch(client, corridor.ngo, "tab\tinside"), 422)


def test_an_expired_key_starts_a_new_request_and_is_pruned(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    first = _launch(client, corridor.ngo, "old-key")
    with session_scope(settings.resolved_database_url) as session:
        session.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(minutes=1)))

    second = _launch(client, corridor.ngo, "old-key")

    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]
    assert _count(settings, Case) == 2
    # Expire the taken-over key too: pruning removes it, and only expired keys.
    assert _launch(client, corridor.ngo, "fresh-key").status_code == 201
    with session_scope(settings.resolved_database_url) as session:
        session.execute(
            update(IdempotencyKey)
            .where(col(IdempotencyKey.key) == "old-key")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with session_scope(settings.resolved_database_url) as session:
        assert prune_expired_keys(session, now=utcnow()) == 1
    with session_scope(settings.resolved_database_url) as session:
        assert session.exec(select(IdempotencyKey.key)).all() == ["fresh-key"]


def test_stored_answers_are_encrypted(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    assert _launch(client, corridor.ngo, "secret-answer").status_code == 201

    with engine_for(settings.resolved_database_url).connect() as connection:
        stored = connection.execute(sa.text("SELECT response FROM idempotency_key")).scalar_one()

    assert stored.startswith("v1:")
    assert factories.GIVEN_NAME not in stored and factories.FAMILY_NAME not in stored

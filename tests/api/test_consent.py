"""Consent per purpose: withdrawal halts the case, consent again resumes it."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from core.db import session_scope
from core.settings import Settings
from models import ConsentRecord, Notification
from models.enums import Role, TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member


def _consent(client: TestClient, member: Member, case_id: str, **answers: Any) -> Any:
    return client.post(f"/api/v1/cases/{case_id}/consent", json=answers, headers=member.headers)


def _case(client: TestClient, member: Member, case_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case_id}", headers=member.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _outbox(settings: Settings, case_id: str) -> list[tuple[uuid.UUID, str]]:
    with session_scope(settings.resolved_database_url) as session:
        rows = session.exec(
            select(Notification).where(Notification.case_id == uuid.UUID(case_id))
        ).all()
        return [(n.agency_id, n.kind) for n in rows]


def test_withdrawn_data_sharing_halts_the_case_and_consent_again_resumes_it(
    client: TestClient, corridor: Corridor, settings: Settings, woken: list[uuid.UUID]
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    verify = factories.walk_to(client, corridor, case_id, TaskKind.verify_nationality)

    response = _consent(client, corridor.ngo, case_id, data_sharing=False)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "halted"
    assert uuid.UUID(case_id) in woken
    factories.advance(settings, case_id)

    halted = _case(client, corridor.ngo, case_id)
    assert (halted["status"], halted["blocked_reason"]) == ("halted", "consent_withdrawn")
    assert factories.tasks_of(client, corridor.consulate, case_id) == []
    cancelled = factories.tasks_of(client, corridor.consulate, case_id, status="cancelled")
    assert [t["id"] for t in cancelled] == [verify["id"]]
    gone = client.get(f"/api/v1/cases/{case_id}", headers=corridor.consulate.headers)
    expect.error(gone, 404)
    assert (corridor.consulate.agency_id, "case_halted") in _outbox(settings, case_id)
    late = factories.complete(client, corridor.consulate, verify["id"], factories.approved())
    expect.error(late, 409)

    response = _consent(client, corridor.ngo, case_id, data_sharing=True)
    assert response.json()["status"] == "open"
    factories.advance(settings, case_id)
    reopened = factories.open_task(
        client, corridor.consulate, case_id, TaskKind.verify_nationality, 2
    )
    assert reopened["stage"] == "consular_verification"
    assert _case(client, corridor.ngo, case_id)["blocked_reason"] is None

    with session_scope(settings.resolved_database_url) as session:
        records = session.exec(
            select(ConsentRecord).where(ConsentRecord.case_id == uuid.UUID(case_id))
        ).all()
    assert [(r.purpose, r.granted, r.recorded_by_user_id) for r in records] == [
        ("data_sharing", False, corridor.ngo.user_id),
        ("data_sharing", True, corridor.ngo.user_id),
    ]
    timeline = client.get(f"/api/v1/cases/{case_id}/timeline", headers=corridor.ngo.headers)
    kinds = [e["kind"] for e in timeline.json()]
    for kind in (
        "consent_withdrawn",
        "case_halted",
        "task_cancelled",
        "consent_given",
        "case_resumed",
    ):
        assert kind in kinds


def test_halt_during_transport_is_planned_again_without_a_false_decline(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.accept_placement)

    assert _consent(client, corridor.ngo, case_id, repatriation=False).status_code == 200
    factories.advance(settings, case_id)
    expect.error(client.get(f"/api/v1/cases/{case_id}", headers=corridor.shelter.headers), 404)
    assert _consent(client, corridor.ngo, case_id, repatriation=True).status_code == 200
    factories.advance(settings, case_id)

    factories.open_task(client, corridor.ngo, case_id, TaskKind.plan_transport, 2)
    assert (corridor.ngo.agency_id, "placement_declined") not in _outbox(settings, case_id)
    assert (corridor.shelter.agency_id, "case_halted") in _outbox(settings, case_id)


def test_withdrawn_follow_up_consent_closes_the_case(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.record_follow_up)

    assert _consent(client, corridor.ngo, case_id, follow_up=False).status_code == 200
    factories.advance(settings, case_id)

    closed = _case(client, corridor.ngo, case_id)
    assert (closed["status"], closed["stage"]) == ("closed", "closed")
    assert factories.tasks_of(client, corridor.shelter, case_id) == []
    assert (corridor.shelter.agency_id, "case_halted") not in _outbox(settings, case_id)
    expect.error(_consent(client, corridor.ngo, case_id, follow_up=True), 409)


def test_only_the_coordinating_ngo_records_consent(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.verify_nationality)
    worker = corridor.add_user(corridor.ngo, username="ngo-case-worker", role=Role.case_worker)

    expect.error(_consent(client, corridor.consulate, case_id, data_sharing=False), 403)
    expect.error(_consent(client, worker, case_id, data_sharing=False), 403)
    expect.error(_consent(client, corridor.other_ngo, case_id, data_sharing=False), 404)
    expect.error(client.post(f"/api/v1/cases/{case_id}/consent", json={"data_sharing": False}), 401)
    assert _case(client, corridor.ngo, case_id)["status"] == "open"


def test_consent_payload_errors_are_422(client: TestClient, corridor: Corridor) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]

    assert "at least one" in expect.error(_consent(client, corridor.ngo, case_id), 422)
    expect.error(_consent(client, corridor.ngo, case_id, marketing=True), 422)
    expect.error(_consent(client, corridor.ngo, case_id, follow_up="maybe"), 422)


def test_repeating_the_current_answer_changes_nothing(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]

    response = _consent(client, corridor.ngo, case_id, repatriation=True, data_sharing=True)
    assert response.status_code == 200 and response.json()["status"] == "open"
    with session_scope(settings.resolved_database_url) as session:
        assert session.exec(select(ConsentRecord)).all() == []

"""Whole cases through the API, with the flow's work done by hand between decisions."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlmodel import select

from core.db import session_scope
from core.settings import Settings
from domain.workflow import NO_CONSULATE
from models import Notification, Task
from models.enums import Role, TaskKind, TaskStatus
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member


def _case(client: TestClient, member: Member, case_id: str) -> dict[str, object]:
    response = client.get(f"/api/v1/cases/{case_id}", headers=member.headers)
    assert response.status_code == 200, response.text
    case: dict[str, object] = response.json()
    return case


def _notices(settings: Settings, case_id: str) -> list[tuple[uuid.UUID, str]]:
    """The case's outbox: (agency, kind) in the order written."""
    with session_scope(settings.resolved_database_url) as session:
        rows = session.exec(
            select(Notification)
            .where(Notification.case_id == uuid.UUID(case_id))
            .order_by(Notification.created_at)
        ).all()
        return [(row.agency_id, row.kind) for row in rows]


def _open_tasks_in_db(settings: Settings, case_id: str) -> list[Task]:
    with session_scope(settings.resolved_database_url) as session:
        return list(
            session.exec(
                select(Task).where(
                    Task.case_id == uuid.UUID(case_id), Task.status == TaskStatus.open
                )
            ).all()
        )


def test_rejected_verification_ends_the_case_and_tells_only_the_coordinator(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    task = factories.walk_to(client, corridor, case_id, TaskKind.verify_nationality)
    rejection = {"decision": "rejected", "reason": "no record in the national register"}

    response = factories.complete(client, corridor.consulate, task["id"], rejection)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "rejected"
    before = _notices(settings, case_id)
    assert factories.advance(settings, case_id).ended

    case = _case(client, corridor.ngo, case_id)
    assert case["status"] == "rejected"
    assert case["stage"] == "consular_verification"
    assert case["closed_at"] is not None
    assert _open_tasks_in_db(settings, case_id) == []
    for member in corridor.members.values():
        if member is not corridor.admin:
            assert factories.tasks_of(client, member, case_id) == []
    assert _notices(settings, case_id)[len(before) :] == [
        (corridor.ngo.agency_id, "verification_rejected")
    ]
    # Waking the case again changes nothing.
    factories.advance(settings, case_id)
    assert _open_tasks_in_db(settings, case_id) == []
    assert len(_notices(settings, case_id)) == len(before) + 1


def test_declined_placement_opens_a_second_transport_plan(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    placement = factories.walk_to(client, corridor, case_id, TaskKind.accept_placement)

    declined = factories.complete(
        client, corridor.shelter, placement["id"], {"decision": "declined", "reason": "full"}
    )
    assert declined.status_code == 200, declined.text
    factories.advance(settings, case_id)

    second = factories.open_task(client, corridor.ngo, case_id, TaskKind.plan_transport, 2)
    assert second["stage"] == "safe_transport"
    assert factories.tasks_of(client, corridor.shelter, case_id) == []
    assert (corridor.ngo.agency_id, "placement_declined") in _notices(settings, case_id)
    assert _case(client, corridor.ngo, case_id)["stage"] == "safe_transport"

    plan = factories.transport_plan(corridor, shelter=corridor.other_shelter)
    replanned = factories.complete(client, corridor.ngo, second["id"], plan)
    assert replanned.status_code == 200, replanned.text
    factories.advance(settings, case_id)

    request = factories.open_task(
        client, corridor.other_shelter, case_id, TaskKind.accept_placement, 2
    )
    assert request["round"] == 2
    assert factories.tasks_of(client, corridor.shelter, case_id) == []
    travel = _case(client, corridor.ngo, case_id)["travel"]
    assert isinstance(travel, dict)
    assert travel["receiving_shelter_id"] == str(corridor.other_shelter.agency_id)


def test_a_shelter_that_declined_no_longer_sees_the_case(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    placement = factories.walk_to(client, corridor, case_id, TaskKind.accept_placement)
    assert _case(client, corridor.shelter, case_id)["survivor"] is not None

    factories.complete(
        client, corridor.shelter, placement["id"], {"decision": "declined", "reason": "full"}
    )
    factories.advance(settings, case_id)

    response = client.get(f"/api/v1/cases/{case_id}", headers=corridor.shelter.headers)
    assert response.status_code == 404
    listed = client.get("/api/v1/cases", headers=corridor.shelter.headers)
    assert case_id not in {c["id"] for c in listed.json()}


def test_case_waits_for_a_consulate_and_moves_on_once_one_is_registered(
    client: TestClient, corridor: Corridor, settings: Settings, woken: list[uuid.UUID]
) -> None:
    case_id = factories.launch(client, corridor.ngo, nationality="NP")["id"]
    factories.advance(settings, case_id)

    case = _case(client, corridor.ngo, case_id)
    assert case["stage"] == "identification"
    assert case["status"] == "open"
    assert case["blocked_reason"] == NO_CONSULATE
    assert factories.tasks_of(client, corridor.consulate, case_id) == []

    # A Nepali consulate elsewhere, or a consulate for another nationality, changes nothing.
    for elsewhere in (
        {"name": "Nepal Embassy Dubai", "country": "AE", "nationality_served": "NP"},
        {"name": "Sri Lanka High Commission", "country": "IN", "nationality_served": "LK"},
    ):
        response = client.post(
            "/api/v1/agencies",
            json={**elsewhere, "kind": "consulate"},
            headers=corridor.admin.headers,
        )
        assert response.status_code == 201, response.text
    assert woken == [uuid.UUID(case_id)]

    response = client.post(
        "/api/v1/agencies",
        json={
            "name": "Embassy of Nepal New Delhi",
            "kind": "consulate",
            "country": "IN",
            "nationality_served": "NP",
        },
        headers=corridor.admin.headers,
    )
    assert response.status_code == 201, response.text
    assert woken == [uuid.UUID(case_id)] * 2

    factories.advance(settings, case_id)

    case = _case(client, corridor.ngo, case_id)
    assert case["stage"] == "consular_verification"
    assert case["blocked_reason"] is None
    nepal = uuid.UUID(response.json()["id"])
    officer_id = factories.make_user(
        settings, username="nepal-officer", agency_id=nepal, role=Role.consular_officer
    )
    officer = Member(
        nepal, officer_id, "nepal-officer", factories.headers_for(settings, officer_id)
    )
    factories.open_task(client, officer, case_id, TaskKind.verify_nationality)
    assert factories.tasks_of(client, corridor.consulate, case_id) == []
    timeline = client.get(f"/api/v1/cases/{case_id}/timeline", headers=corridor.ngo.headers)
    kinds = [e["kind"] for e in timeline.json()]
    assert kinds.index("case_blocked") < kinds.index("stage_changed")
    assert "case_unblocked" in kinds


def test_failed_requests_do_not_wake_the_flow(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    expect.error(
        client.post(
            "/api/v1/cases",
            json=factories.launch_case(birth_date=None),
            headers=corridor.ngo.headers,
        ),
        422,
    )
    case_id = factories.launch(client, corridor.ngo)["id"]
    task = factories.walk_to(client, corridor, case_id, TaskKind.verify_nationality)
    expect.error(factories.complete(client, corridor.consulate, task["id"], {}), 422)
    expect.error(factories.complete(client, corridor.shelter, task["id"], {}), 404)

    assert woken == [uuid.UUID(case_id)]


def test_a_case_runs_from_launch_to_closed(
    client: TestClient, corridor: Corridor, settings: Settings, woken: list[uuid.UUID]
) -> None:
    case = factories.launch(client, corridor.ngo)
    case_id = case["id"]
    expected_wakes = [uuid.UUID(case_id)]
    assert woken == expected_wakes

    stages = []
    for kind, member, body in factories.happy_path(corridor):
        factories.advance(settings, case_id)
        stages.append(_case(client, corridor.ngo, case_id)["stage"])
        task = factories.open_task(client, member, case_id, kind)

        response = factories.complete(client, member, task["id"], body)

        assert response.status_code == 200, f"{kind}: {response.text}"
        assert response.json()["status"] == "done"
        expected_wakes.append(uuid.UUID(case_id))
        assert woken == expected_wakes
    assert stages == [
        "consular_verification",
        "safe_transport",
        "safe_transport",
        "safe_transport",
        "shelter_handover",
        "reintegration_followup",
    ]

    # follow_up_days (0, 0): both follow-ups opened at once; the first is done.
    second = factories.open_task(client, corridor.shelter, case_id, TaskKind.record_follow_up, 2)
    assert not factories.advance(settings, case_id).ended
    response = factories.complete(client, corridor.shelter, second["id"], factories.follow_up())
    assert response.status_code == 200, response.text
    assert factories.advance(settings, case_id).ended

    closed = _case(client, corridor.ngo, case_id)
    assert closed["stage"] == "closed"
    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None
    assert _open_tasks_in_db(settings, case_id) == []
    coordinator_notices = [
        kind for agency, kind in _notices(settings, case_id) if agency == corridor.ngo.agency_id
    ]
    assert "handover_confirmed" in coordinator_notices
    assert coordinator_notices[-1] == "case_closed"
    timeline = client.get(f"/api/v1/cases/{case_id}/timeline", headers=corridor.ngo.headers)
    assert timeline.json()[-1]["kind"] == "case_closed"
    again = factories.complete(client, corridor.shelter, second["id"], factories.follow_up())
    expect.error(again, 409)
    # Every agency that took part was told through its own inbox, never another's.
    with session_scope(settings.resolved_database_url) as session:
        assigned = session.exec(
            select(Notification.agency_id, Task.agency_id)
            .join(Task, Task.id == Notification.task_id)
            .where(Notification.case_id == uuid.UUID(case_id))
        ).all()
    assert len(assigned) == 7
    assert all(told == owner for told, owner in assigned)

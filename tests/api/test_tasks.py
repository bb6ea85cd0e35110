"""Inboxes, and who may complete which task."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlmodel import select

from core.db import session_scope
from core.settings import Settings
from models import Task
from models.enums import Role, TaskKind, TaskStatus
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member


def _inbox(client: TestClient, member: Member) -> list[dict[str, object]]:
    response = client.get("/api/v1/tasks?status=open", headers=member.headers)
    assert response.status_code == 200, response.text
    tasks: list[dict[str, object]] = response.json()
    return tasks


def _open_task_ids_in_db(settings: Settings, agency_id: uuid.UUID) -> set[str]:
    with session_scope(settings.resolved_database_url) as session:
        return {
            str(task_id)
            for task_id in session.exec(
                select(Task.id).where(Task.agency_id == agency_id, Task.status == TaskStatus.open)
            )
        }


def test_open_tasks_are_exactly_the_agencys_inbox(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    ours = factories.launch(client, corridor.ngo)
    # Another survivor: the same one launched twice would be flagged as a likely duplicate.
    theirs = factories.launch(client, corridor.other_ngo, given_name="Rupa", family_name="Das")
    factories.advance(settings, ours["id"])
    factories.advance(settings, theirs["id"])

    inbox = _inbox(client, corridor.consulate)

    assert {t["id"] for t in inbox} == _open_task_ids_in_db(settings, corridor.consulate.agency_id)
    assert {(t["case_id"], t["kind"]) for t in inbox} == {
        (ours["id"], "verify_nationality"),
        (theirs["id"], "verify_nationality"),
    }
    task = next(t for t in inbox if t["case_id"] == ours["id"])
    assert task["case_reference"] == ours["reference"]
    assert task["stage"] == "consular_verification"
    assert task["status"] == "open"
    assert task["round"] == 1
    assert task["outcome"] is None
    for member in (corridor.ngo, corridor.other_ngo, corridor.shelter, corridor.escort):
        assert _inbox(client, member) == []

    done = factories.complete(client, corridor.consulate, str(task["id"]), factories.approved())
    assert done.status_code == 200, done.text
    factories.advance(settings, ours["id"])

    inbox = _inbox(client, corridor.consulate)
    assert [t["case_id"] for t in inbox] == [theirs["id"]]
    assert {t["id"] for t in inbox} == _open_task_ids_in_db(settings, corridor.consulate.agency_id)
    finished = client.get("/api/v1/tasks?status=done", headers=corridor.consulate.headers)
    assert [(t["id"], t["outcome"]) for t in finished.json()] == [(task["id"], "approved")]
    every = client.get("/api/v1/tasks", headers=corridor.consulate.headers)
    assert len(every.json()) == 2
    ngo_inbox = _inbox(client, corridor.ngo)
    assert [(t["case_id"], t["kind"]) for t in ngo_inbox] == [(ours["id"], "plan_transport")]
    assert _inbox(client, corridor.other_ngo) == []


def test_task_lists_refuse_an_unknown_status_and_admins(
    client: TestClient, corridor: Corridor
) -> None:
    expect.error(client.get("/api/v1/tasks?status=late", headers=corridor.ngo.headers), 422)
    expect.error(client.get("/api/v1/tasks?status=open", headers=corridor.admin.headers), 403)


def test_completing_a_task_returns_it_done_and_wakes_the_flow(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)

    response = factories.complete(client, corridor.consulate, task["id"], factories.approved())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == task["id"]
    assert body["status"] == "done"
    assert body["outcome"] == "approved"
    assert body["completed_at"] is not None
    assert body["result"]["travel_document_number"] == "TP-0012345"
    assert woken == [uuid.UUID(case["id"])] * 2


def test_another_agencys_task_is_not_found_just_like_an_unknown_one(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    case = factories.launch(client, corridor.ngo)
    verify = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)
    missing = factories.complete(client, corridor.consulate, str(uuid.uuid4()), {})
    expect.error(missing, 404)

    for member in (corridor.shelter, corridor.ngo, corridor.other_ngo, corridor.admin):
        response = factories.complete(client, member, verify["id"], factories.approved())

        expect.error(response, 404)
        assert response.json() == missing.json()

    plan = factories.walk_to(client, corridor, case["id"], TaskKind.plan_transport)
    response = factories.complete(
        client, corridor.other_ngo, plan["id"], factories.transport_plan(corridor)
    )
    expect.error(response, 404)
    assert factories.open_task(client, corridor.ngo, case["id"], TaskKind.plan_transport)
    assert len(woken) == 2  # the launch and the verification, nothing else


def test_a_role_that_cannot_do_a_task_in_its_own_agency_is_forbidden(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    case = factories.launch(client, corridor.ngo)
    plan = factories.walk_to(client, corridor, case["id"], TaskKind.plan_transport)
    case_worker = corridor.add_user(corridor.ngo, username="case-worker", role=Role.case_worker)
    before = len(woken)

    response = factories.complete(
        client, case_worker, plan["id"], factories.transport_plan(corridor)
    )

    expect.error(response, 403)
    assert len(woken) == before
    assert factories.open_task(client, corridor.ngo, case["id"], TaskKind.plan_transport)
    supervisor = corridor.add_user(corridor.ngo, username="supervisor", role=Role.supervisor)
    allowed = factories.complete(client, supervisor, plan["id"], factories.transport_plan(corridor))
    assert allowed.status_code == 200, allowed.text


def test_completing_a_done_task_again_is_a_conflict(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)
    first = factories.complete(client, corridor.consulate, task["id"], factories.approved())
    assert first.status_code == 200, first.text

    again = factories.complete(
        client, corridor.consulate, task["id"], {"decision": "rejected", "reason": "changed"}
    )

    expect.error(again, 409)
    done = factories.tasks_of(client, corridor.consulate, case["id"], status="done")
    assert [t["outcome"] for t in done] == ["approved"]
    assert len(woken) == 2


def test_linking_a_duplicate_wakes_both_cases(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    earlier = factories.launch(client, corridor.ngo)
    later = factories.launch(client, corridor.other_ngo)  # the same survivor, another NGO
    ours = factories.open_task(client, corridor.ngo, earlier["id"], TaskKind.resolve_duplicate)
    woken.clear()

    response = factories.complete(client, corridor.ngo, ours["id"], {"decision": "linked"})

    assert response.status_code == 200, response.text
    # The later case closed as a duplicate: its flow run must end now, not at the next sweep.
    assert woken == [uuid.UUID(earlier["id"]), uuid.UUID(later["id"])]
    closed = client.get(f"/api/v1/cases/{later['id']}", headers=corridor.other_ngo.headers)
    assert (closed.json()["status"], closed.json()["closed_reason"]) == ("closed", "duplicate")

"""Overdue tasks: marked once, the assignee reminded, the coordinator told, and the
corridor's focal point told when a task is overdue by half its allowance again.

The sweeper's two domain calls are driven here with chosen times against a real database;
the inbox and case filters are read through the API.
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from core.clock import utcnow
from core.db import session_scope
from core.settings import Settings
from domain.escalation import escalate_task, tasks_to_escalate
from domain.policy import Policy, policy_for
from domain.workflow import Escalation
from models import Event, Notification, Task
from models.enums import AgencyKind, TaskKind
from tests import factories
from tests.factories import Corridor, Member

FOCAL_POINT = "Bangladesh-India Task Force on RRRI (test)"
VERIFY_ALLOWANCE = timedelta(seconds=2)

CORRIDORS = f"""
corridors:
  - from: IN
    to: BD
    name: India to Bangladesh (test)
    escalation_agency: {FOCAL_POINT}
    deadlines:
      verify_nationality: 2s
      plan_transport: 14d
"""

NO_FOCAL_POINT = """
corridors:
  - from: IN
    to: BD
    escalation_agency: null
    deadlines:
      verify_nationality: 2s
"""


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The API's settings with a corridors file of its own: a two-second verification."""
    corridors = tmp_path / "corridors.yaml"
    corridors.write_text(CORRIDORS, encoding="utf-8")
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        follow_up_days=(0, 0),
        jwt_secret=secrets.token_urlsafe(36),
        corridors_file=corridors,
    )


def _focal_point(c: Corridor) -> uuid.UUID:
    return factories.make_agency(
        c.settings, name=FOCAL_POINT, kind=AgencyKind.government, country="BD"
    )


def _task(settings: Settings, task_id: str) -> Task:
    with session_scope(settings.resolved_database_url) as session:
        return session.get_one(Task, uuid.UUID(task_id))


def _sweep(settings: Settings, now: datetime, policy: Policy | None = None) -> list[Escalation]:
    """What the sweeper does, at `now`: every task it finds, each in its own transaction."""
    url = settings.resolved_database_url
    with session_scope(url) as session:
        task_ids = tasks_to_escalate(session, now=now)
    announced: list[Escalation] = []
    for task_id in task_ids:
        with session_scope(url) as session:
            announced += escalate_task(
                session, task_id=task_id, policy=policy or policy_for(settings), now=now
            )
    return announced


def _events(settings: Settings, case_id: str, kind: str) -> list[dict[str, Any]]:
    with session_scope(settings.resolved_database_url) as session:
        return [
            e.data
            for e in session.exec(
                select(Event)
                .where(Event.case_id == uuid.UUID(case_id), Event.kind == kind)
                .order_by(col(Event.seq))
            ).all()
        ]


def _rows(settings: Settings, case_id: str, *kinds: str) -> list[tuple[uuid.UUID, str]]:
    return [(n.agency_id, n.kind) for n in factories.outbox(settings, case_id) if n.kind in kinds]


DEADLINE_KINDS = ("task_overdue", "task_overdue_alert", "task_escalated")


def _verifying(client: TestClient, c: Corridor) -> tuple[str, dict[str, Any]]:
    case_id: str = factories.launch(client, c.ngo)["id"]
    factories.advance(c.settings, case_id)
    return case_id, factories.open_task(client, c.consulate, case_id, TaskKind.verify_nationality)


def test_an_overdue_task_is_announced_once_then_escalated_once(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    focal = _focal_point(c)
    case_id, verify = _verifying(client, c)
    task = _task(settings, verify["id"])
    assert task.due_at - task.opened_at == VERIFY_ALLOWANCE

    # Not yet due: nothing to do.
    assert _sweep(settings, task.due_at - timedelta(milliseconds=1)) == []
    assert _rows(settings, case_id, *DEADLINE_KINDS) == []

    # Due: the consulate is reminded and the coordinator told, once.
    overdue_at = task.due_at + timedelta(milliseconds=10)
    assert _sweep(settings, overdue_at) == [Escalation.overdue]
    for later in (overdue_at, overdue_at + timedelta(milliseconds=500)):
        assert _sweep(settings, later) == []
        with session_scope(settings.resolved_database_url) as session:
            assert (
                escalate_task(session, task_id=task.id, policy=policy_for(settings), now=later)
                == []
            )
    assert _rows(settings, case_id, *DEADLINE_KINDS) == [
        (c.consulate.agency_id, "task_overdue"),
        (c.ngo.agency_id, "task_overdue_alert"),
    ]
    [event] = _events(settings, case_id, "task_overdue")
    assert event["task_id"] == verify["id"] and event["task_kind"] == "verify_nationality"
    assert _task(settings, verify["id"]).overdue_at is not None
    assert _task(settings, verify["id"]).escalated_at is None

    # Overdue by half its allowance again: the corridor's focal point is told, once.
    escalation_at = task.due_at + VERIFY_ALLOWANCE / 2
    assert _sweep(settings, escalation_at - timedelta(milliseconds=1)) == []
    assert _sweep(settings, escalation_at) == [Escalation.escalated]
    assert _sweep(settings, escalation_at + timedelta(days=30)) == []
    assert _rows(settings, case_id, *DEADLINE_KINDS) == [
        (c.consulate.agency_id, "task_overdue"),
        (c.ngo.agency_id, "task_overdue_alert"),
        (focal, "task_escalated"),
    ]
    [escalated] = _events(settings, case_id, "task_escalated")
    assert escalated["focal_point_agency_id"] == str(focal)
    assert escalated["focal_point"] == FOCAL_POINT
    assert len(_events(settings, case_id, "task_overdue")) == 1
    # The timeline shows both, to the coordinator.
    kinds = factories.timeline_kinds(client, c.ngo, case_id)
    assert kinds.count("task_overdue") == 1 and kinds.count("task_escalated") == 1
    # The focal point is told, but takes no part in the case.
    assert _task(settings, verify["id"]).status == "open"


def test_a_task_found_late_is_announced_at_both_levels_in_one_sweep(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    focal = _focal_point(c)
    case_id, verify = _verifying(client, c)
    task = _task(settings, verify["id"])
    late = task.due_at + timedelta(days=1)
    assert _sweep(settings, late) == [Escalation.overdue, Escalation.escalated]
    assert _sweep(settings, late) == []
    assert _rows(settings, case_id, *DEADLINE_KINDS) == [
        (c.consulate.agency_id, "task_overdue"),
        (c.ngo.agency_id, "task_overdue_alert"),
        (focal, "task_escalated"),
    ]


def test_a_coordinators_own_overdue_task_sends_one_message(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    case_id, verify = _verifying(client, c)
    assert (
        factories.complete(client, c.consulate, verify["id"], factories.approved()).status_code
        == 200
    )
    factories.advance(settings, case_id)
    plan = _task(
        settings, factories.open_task(client, c.ngo, case_id, TaskKind.plan_transport)["id"]
    )
    assert plan.due_at - plan.opened_at == timedelta(days=14)
    assert _sweep(settings, plan.due_at) == [Escalation.overdue]
    assert _rows(settings, case_id, *DEADLINE_KINDS) == [(c.ngo.agency_id, "task_overdue")]


@pytest.mark.parametrize("file", ["unregistered", "none"])
def test_without_a_focal_point_the_escalation_is_recorded_and_nobody_else_told(
    client: TestClient, corridor: Corridor, settings: Settings, tmp_path: Path, file: str
) -> None:
    c = corridor
    policy = policy_for(settings)  # names a focal point nobody registered
    if file == "none":
        other = tmp_path / "no-focal-point.yaml"
        other.write_text(NO_FOCAL_POINT, encoding="utf-8")
        policy = policy_for(settings.model_copy(update={"corridors_file": other}))
    case_id, verify = _verifying(client, c)
    task = _task(settings, verify["id"])

    late = task.due_at + timedelta(days=1)
    assert _sweep(settings, late, policy) == [Escalation.overdue, Escalation.escalated]
    assert _sweep(settings, late, policy) == []
    [escalated] = _events(settings, case_id, "task_escalated")
    assert escalated["focal_point_agency_id"] is None
    assert escalated["focal_point"] == (FOCAL_POINT if file == "unregistered" else None)
    assert _rows(settings, case_id, "task_escalated") == []
    assert _task(settings, verify["id"]).escalated_at is not None
    with session_scope(settings.resolved_database_url) as session:
        assert (
            session.exec(select(Notification).where(Notification.kind == "task_escalated")).all()
            == []
        )


def test_a_done_task_never_escalates(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    _focal_point(c)
    case_id, verify = _verifying(client, c)
    response = factories.complete(client, c.consulate, verify["id"], factories.approved())
    assert response.status_code == 200
    task = _task(settings, verify["id"])
    far = task.due_at + timedelta(days=400)
    with session_scope(settings.resolved_database_url) as session:
        assert task.id not in tasks_to_escalate(session, now=far)
        assert escalate_task(session, task_id=task.id, policy=policy_for(settings), now=far) == []
    assert _rows(settings, case_id, *DEADLINE_KINDS) == []
    assert _events(settings, case_id, "task_overdue") == []
    assert _task(settings, verify["id"]).overdue_at is None


def test_a_departure_on_hold_is_not_chased_until_the_hold_lifts(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    focal = _focal_point(c)
    case_id: str = factories.launch(client, c.ngo)["id"]
    departure = factories.walk_to(client, c, case_id, TaskKind.confirm_departure)
    hold = {"court_case_reference": "SC-KOL-2031-0457", "reason": "witness_in_trial"}
    placed = client.post(f"/api/v1/cases/{case_id}/holds", json=hold, headers=c.ngo.headers)
    assert placed.status_code == 201, placed.text
    factories.advance(settings, case_id)
    far = _task(settings, departure["id"]).due_at + timedelta(days=30)

    # Past its deadline, but the escort cannot act on it: no reminder, no escalation.
    with session_scope(settings.resolved_database_url) as session:
        assert uuid.UUID(departure["id"]) not in tasks_to_escalate(session, now=far)
        assert (
            escalate_task(
                session,
                task_id=uuid.UUID(departure["id"]),
                policy=policy_for(settings),
                now=far,
            )
            == []
        )
    assert _sweep(settings, far) == []
    assert _rows(settings, case_id, *DEADLINE_KINDS) == []
    assert _task(settings, departure["id"]).overdue_at is None

    released = client.post(
        f"/api/v1/cases/{case_id}/holds/{placed.json()['id']}/release",
        json={"basis": "remote_testimony_arranged"},
        headers=c.ngo.headers,
    )
    assert released.status_code == 200, released.text
    factories.advance(settings, case_id)
    assert _sweep(settings, far) == [Escalation.overdue, Escalation.escalated]
    assert _rows(settings, case_id, *DEADLINE_KINDS) == [
        (c.escort.agency_id, "task_overdue"),
        (c.ngo.agency_id, "task_overdue_alert"),
        (focal, "task_escalated"),
    ]


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


def test_the_overdue_filters_list_exactly_the_overdue_ones(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    late_case, late = _verifying(client, c)
    # A second survivor, whose verification is done in time: planning is not due for 14 days.
    on_time_case = factories.launch(
        client, c.ngo, given_name="Nasrin", family_name="Sultana", birth_date="1990-11-02"
    )["id"]
    factories.advance(settings, on_time_case)
    verify = factories.open_task(client, c.consulate, on_time_case, TaskKind.verify_nationality)
    assert (
        factories.complete(client, c.consulate, verify["id"], factories.approved()).status_code
        == 200
    )
    factories.advance(settings, on_time_case)
    plan = factories.open_task(client, c.ngo, on_time_case, TaskKind.plan_transport)

    # Wait (at most a few seconds) for the first verification's deadline to pass.
    due = datetime.fromisoformat(late["due_at"])
    deadline = time.monotonic() + 5
    while utcnow() <= due and time.monotonic() < deadline:
        time.sleep(0.2)
    assert utcnow() > due

    def tasks(member: Member, **params: Any) -> list[str]:
        return _ids(client.get("/api/v1/tasks", params=params, headers=member.headers))

    def cases(member: Member, **params: Any) -> list[str]:
        return _ids(client.get("/api/v1/cases", params=params, headers=member.headers))

    assert tasks(c.consulate, overdue="true") == [late["id"]]
    assert sorted(tasks(c.consulate, overdue="false")) == sorted([verify["id"]])
    assert tasks(c.consulate, overdue="true", status="open") == [late["id"]]
    assert tasks(c.ngo, overdue="true") == []
    assert tasks(c.ngo, overdue="false") == [plan["id"]]
    inbox = client.get("/api/v1/tasks", params={"status": "open"}, headers=c.consulate.headers)
    assert {t["id"]: t["overdue"] for t in inbox.json()} == {late["id"]: True}

    assert cases(c.ngo, overdue="true") == [late_case]
    assert cases(c.ngo, overdue="false") == [on_time_case]
    assert cases(c.consulate, overdue="true") == [late_case]
    assert sorted(cases(c.ngo)) == sorted([late_case, on_time_case])
    # Other agencies see none of them, overdue or not.
    assert cases(c.other_ngo, overdue="true") == []
    assert tasks(c.other_shelter, overdue="true") == []

"""Overdue tasks: marked once, and announced once per level, whoever runs the sweep.

When a task's deadline passes, the assigned agency is reminded and the coordinating agency
told (one message if they are the same); when it is overdue by half its allowance again,
the corridor's focal point (a task-force agency registered under the name the corridors
file gives) is told. Each level is a guarded update of the task in the same transaction as
its timeline event and outbox rows, so a sweep that runs twice, or restarts half-way,
announces nothing twice. A departure on hold is not the escort's to act on: it is neither
reminded nor escalated until the hold lifts.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from domain.departure import all_departures_on_hold, departures_on_hold
from domain.events import enqueue_notification, record_event
from domain.policy import Policy
from domain.workflow import Escalation, escalation_due
from models import Agency, Case, Survivor, Task
from models.enums import CaseStatus, TaskStatus

# A sweep handles at most this many tasks; the next sweep takes the rest.
BATCH = 500


def tasks_to_escalate(session: Session, *, now: datetime) -> list[uuid.UUID]:
    """Open tasks of open cases past their deadline with a level still unannounced, but
    for departures on hold."""
    query = (
        select(Task.id)
        .join(Case, col(Case.id) == col(Task.case_id))
        .where(
            Task.status == TaskStatus.open,
            Case.status == CaseStatus.open,
            col(Task.due_at) <= now,
            or_(col(Task.overdue_at).is_(None), col(Task.escalated_at).is_(None)),
        )
        .order_by(col(Task.due_at))
        .limit(BATCH)
    )
    # Left out before the batch is cut, so that held departures never crowd out the rest.
    on_hold = all_departures_on_hold(session)
    if on_hold:
        query = query.where(col(Task.id).not_in(on_hold))
    return list(session.exec(query).all())


def escalate_task(
    session: Session, *, task_id: uuid.UUID, policy: Policy, now: datetime
) -> list[Escalation]:
    """Announce the levels the task has reached and not yet announced; flushes."""
    task = session.get(Task, task_id)
    if task is None or task.status != TaskStatus.open:
        return []
    case = session.get_one(Case, task.case_id)
    if case.status != CaseStatus.open or task.id in departures_on_hold(session, case_id=case.id):
        return []
    level = escalation_due(task.opened_at, task.due_at, now)
    announced = []
    if level is not None and _mark(session, task, "overdue_at", now):
        _announce_overdue(session, case, task, now)
        announced.append(Escalation.overdue)
    if level == Escalation.escalated and _mark(session, task, "escalated_at", now):
        _announce_escalation(session, case, task, policy, now)
        announced.append(Escalation.escalated)
    session.flush()
    return announced


def _mark(session: Session, task: Task, column: str, now: datetime) -> bool:
    """Set the task's mark if nobody has; True for the one caller that did."""
    marked = session.execute(
        update(Task)
        .where(col(Task.id) == task.id, getattr(Task, column).is_(None))
        .values({column: now})
    )
    return bool(marked.rowcount == 1)  # type: ignore[attr-defined]


def _announce_overdue(session: Session, case: Case, task: Task, now: datetime) -> None:
    record_event(
        session,
        case,
        "task_overdue",
        at=now,
        task_id=str(task.id),
        task_kind=task.kind,
        agency_id=str(task.agency_id),
        due_at=task.due_at.isoformat(),
    )
    enqueue_notification(
        session,
        case,
        agency_id=task.agency_id,
        kind="task_overdue",
        dedupe_key=f"task_overdue:{task.id}",
        at=now,
        task_id=task.id,
        task_kind=task.kind,
        due_at=task.due_at,
    )
    if task.agency_id != case.coordinator_agency_id:
        enqueue_notification(
            session,
            case,
            agency_id=case.coordinator_agency_id,
            kind="task_overdue_alert",
            dedupe_key=f"task_overdue_alert:{task.id}",
            at=now,
            task_id=task.id,
            task_kind=task.kind,
            due_at=task.due_at,
        )


def _announce_escalation(
    session: Session, case: Case, task: Task, policy: Policy, now: datetime
) -> None:
    survivor = session.get_one(Survivor, case.survivor_id)
    corridor = policy.corridor_of(case, survivor)
    focal = _focal_point(session, corridor.escalation_agency)
    # Recorded even without a focal point, so that the timeline shows the escalation and
    # why nobody outside the case was told.
    record_event(
        session,
        case,
        "task_escalated",
        at=now,
        task_id=str(task.id),
        task_kind=task.kind,
        focal_point_agency_id=str(focal.id) if focal else None,
        focal_point=corridor.escalation_agency,
    )
    if focal is not None:
        enqueue_notification(
            session,
            case,
            agency_id=focal.id,
            kind="task_escalated",
            dedupe_key=f"task_escalated:{task.id}",
            at=now,
            task_id=task.id,
            task_kind=task.kind,
            due_at=task.due_at,
        )


def _focal_point(session: Session, name: str | None) -> Agency | None:
    if name is None:
        return None
    return session.exec(select(Agency).where(Agency.name == name)).first()

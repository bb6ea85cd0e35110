"""An agency's inbox, and recording the decisions it takes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import Session, col, select

from core.errors import Conflict, Forbidden, Invalid, NotFound, describe_validation_errors
from domain import payloads
from domain.access import COMPLETERS
from domain.audit import Action, record_audit
from domain.events import record_event
from domain.workflow import TASKS, outcome_of
from models import Agency, Case, Task, User
from models.enums import AgencyKind, CaseStatus, Role, TaskKind, TaskStatus


def list_tasks_for(
    session: Session,
    *,
    user: User,
    now: datetime,
    status: TaskStatus | None = None,
    address: str | None = None,
) -> list[tuple[Task, Case]]:
    """The user's agency's tasks (its inbox when status is open), oldest due first."""
    if user.role == Role.admin:
        raise Forbidden("administrators have no inbox")
    query = (
        select(Task, Case)
        .join(Case, col(Case.id) == col(Task.case_id))
        .where(Task.agency_id == user.agency_id)
        .order_by(col(Task.due_at), col(Task.opened_at))
    )
    if status is not None:
        query = query.where(Task.status == status)
    rows = [(task, case) for task, case in session.exec(query).all()]
    _audit_inbox_read(session, rows, user=user, status=status, now=now, address=address)
    return rows


def _audit_inbox_read(
    session: Session,
    rows: list[tuple[Task, Case]],
    *,
    user: User,
    status: TaskStatus | None,
    now: datetime,
    address: str | None,
) -> None:
    """One entry per case whose tasks were read, so that each case's trail shows who read
    its decisions (their results may hold a travel document number or a note); one entry
    without a case when there was nothing to read."""
    kinds_by_case: dict[uuid.UUID, list[str]] = {}
    for task, case in rows:
        kinds_by_case.setdefault(case.id, []).append(task.kind)
    reads: list[tuple[uuid.UUID | None, list[str]]] = list(kinds_by_case.items()) or [(None, [])]
    for case_id, kinds in reads:
        record_audit(
            session,
            action=Action.read_tasks,
            at=now,
            user=user,
            case_id=case_id,
            address=address,
            status=status,
            count=len(kinds),
            kinds=sorted(set(kinds)),
        )
    session.flush()


def get_task_for(session: Session, *, user: User, task_id: uuid.UUID) -> tuple[Task, Case]:
    row = session.exec(
        select(Task, Case)
        .join(Case, col(Case.id) == col(Task.case_id))
        .where(Task.id == task_id, Task.agency_id == user.agency_id)
    ).first()
    if row is None:
        raise NotFound("no such task")
    return row[0], row[1]


def complete_task(
    session: Session,
    *,
    user: User,
    task_id: uuid.UUID,
    body: dict[str, Any],
    now: datetime,
    address: str | None = None,
) -> tuple[Task, Case]:
    """Record an agency's decision on its task and ask the case's flow to move on."""
    task, case = get_task_for(session, user=user, task_id=task_id)
    if user.role not in COMPLETERS[TaskKind(task.kind)]:
        raise Forbidden(f"a {user.role} cannot complete a {task.kind} task")
    if task.status != TaskStatus.open:
        raise Conflict(f"this task is already {task.status}; it cannot be completed again")
    if case.status != CaseStatus.open:
        raise Conflict(f"the case is {case.status}; its tasks can no longer be completed")
    try:
        payload = TASKS[TaskKind(task.kind)].payload.validate_python(body)
    except ValidationError as error:
        raise Invalid(describe_validation_errors(error.errors(include_input=False))) from None
    _check_and_apply(session, case, payload, now)
    outcome = outcome_of(TaskKind(task.kind), payload)
    # Guarded update: of two concurrent completions, exactly one changes the row.
    done = session.execute(
        update(Task)
        .where(col(Task.id) == task.id, col(Task.status) == TaskStatus.open)
        .values(
            status=TaskStatus.done,
            completed_at=now,
            completed_by_user_id=user.id,
            outcome=outcome,
            payload=payload.model_dump(mode="json"),
        )
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this task was completed by someone else a moment ago")
    case.wake_requested_at = now
    case.updated_at = now
    session.add(case)
    record_event(
        session,
        case,
        "task_completed",
        at=now,
        actor_user_id=user.id,
        actor_agency_id=user.agency_id,
        task_id=str(task.id),
        task_kind=task.kind,
        round=task.round,
        outcome=outcome,
    )
    # The outcome word only: the payload's free text (a reason, a note) stays out of the log.
    record_audit(
        session,
        action=Action.complete_task,
        at=now,
        user=user,
        case_id=case.id,
        address=address,
        task_id=str(task.id),
        task_kind=task.kind,
        round=task.round,
        outcome=outcome,
    )
    session.flush()
    session.refresh(task)
    return task, case


def _check_and_apply(session: Session, case: Case, payload: Any, now: datetime) -> None:
    """Rules that need the database, then the facts the decision adds to the case."""
    today = now.date()
    match payload:
        case payloads.NationalityApproved():
            if payload.travel_document_expires_on <= today:
                raise Invalid("travel_document_expires_on: the travel document has already expired")
            case.travel_document_number = payload.travel_document_number
            case.travel_document_expires_on = payload.travel_document_expires_on
        case payloads.TransportPlan():
            if payload.travel_date < today:
                raise Invalid("travel_date: the travel date is in the past")
            _require_agency(
                session, payload.escort_agency_id, AgencyKind.escort, "escort_agency_id"
            )
            shelter = _require_agency(
                session, payload.receiving_shelter_id, AgencyKind.shelter, "receiving_shelter_id"
            )
            if payload.follow_up_agency_id is not None:
                ngo = _require_agency(
                    session, payload.follow_up_agency_id, AgencyKind.ngo, "follow_up_agency_id"
                )
                if ngo.country != shelter.country:
                    raise Invalid(
                        "follow_up_agency_id: the follow-up NGO must work in the home country, "
                        f"where the receiving shelter is ({shelter.country})"
                    )
            case.travel_date = payload.travel_date
            case.travel_mode = payload.mode
            case.crossing_point = payload.crossing_point
            case.escort_agency_id = payload.escort_agency_id
            case.shelter_agency_id = payload.receiving_shelter_id
            case.follow_up_agency_id = payload.follow_up_agency_id
        case payloads.Departure():
            if payload.departed_at > now + timedelta(minutes=10):
                raise Invalid("departed_at: the departure time is in the future")
            case.departed_at = payload.departed_at
        case payloads.Handover():
            if payload.received_at > now + timedelta(minutes=10):
                raise Invalid("received_at: the handover time is in the future")
            if case.departed_at is not None and payload.received_at < case.departed_at:
                raise Invalid("received_at: the handover is recorded as before the departure")
            case.handed_over_at = payload.received_at


def _require_agency(session: Session, agency_id: uuid.UUID, kind: AgencyKind, field: str) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None or agency.kind != kind:
        raise Invalid(f"{field}: {agency_id} is not a registered {kind} agency")
    return agency

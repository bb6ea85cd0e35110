"""Moving a case on: applying the workflow's steps, one pass at a time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, overload

from sqlalchemy import update
from sqlmodel import Session, col, select

from domain.departure import hold_departure, lift_departure_hold
from domain.events import enqueue_notification, record_event
from domain.facts import case_facts, find_consulate
from domain.opening import open_task
from domain.policy import (
    Policy,
)
from domain.transitions import ENDING, change_status
from domain.workflow import (
    TASKS,
    Ended,
    Finish,
    HoldDeparture,
    LiftDepartureHold,
    MoveTo,
    Notice,
    OpenTask,
    Party,
    Step,
    Wait,
    Withdraw,
    allowance_left,
    decide,
    due_at,
)
from models import Case, Survivor, Task
from models.enums import Stage, TaskKind, TaskStatus

# A pass applies at most this many steps; a well-formed workflow needs far fewer.
MAX_STEPS = 50


@dataclass(frozen=True)
class Advanced:
    """Where a pass over a case stopped."""

    step: Step
    reference: str

    @property
    def ended(self) -> bool:
        return isinstance(self.step, Ended)


def advance_case(
    session: Session, *, case_id: uuid.UUID, policy: Policy, now: datetime
) -> Advanced:
    """Apply every automatic step the case is ready for. Idempotent; flushes, never commits."""
    case = session.exec(select(Case).where(Case.id == case_id).with_for_update()).one()
    case.wake_requested_at = None
    for _ in range(MAX_STEPS):
        step = decide(case_facts(session, case, policy, now), now)
        match step:
            case Wait() | Ended():
                _set_blocked(session, case, step, now)
                session.add(case)
                session.flush()
                return Advanced(step, case.reference)
            case OpenTask():
                _open_task(session, case, step, policy, now)
            case MoveTo():
                _move(session, case, step, now)
            case Finish():
                _finish(session, case, step, now)
            case Withdraw():
                _withdraw(session, case, step, now)
            case HoldDeparture():
                departure = _task(session, case, TaskKind.confirm_departure, step.round)
                hold_departure(session, case, departure, now=now)
            case LiftDepartureHold():
                departure = _task(session, case, TaskKind.confirm_departure, step.round)
                lift_departure_hold(session, case, departure, now=now)
        case.updated_at = now
        session.add(case)
        session.flush()
    raise RuntimeError(f"case {case.reference} did not settle after {MAX_STEPS} steps")


def _agency_for(case: Case, party: Party) -> uuid.UUID:
    agency = {
        Party.coordinator: case.coordinator_agency_id,
        Party.consulate: case.consulate_agency_id,
        Party.escort: case.escort_agency_id,
        Party.shelter: case.shelter_agency_id,
        Party.follow_up: case.follow_up_agency_id or case.shelter_agency_id,
    }[party]
    if agency is None:
        raise RuntimeError(f"case {case.reference} has no {party} to assign a task to")
    return agency


def _open_task(session: Session, case: Case, step: OpenTask, policy: Policy, now: datetime) -> None:
    existing = session.exec(
        select(Task).where(
            Task.case_id == case.id, Task.kind == step.kind, Task.round == step.round
        )
    ).first()
    if existing is not None:  # decide() never asks twice; guard against a broken invariant
        raise RuntimeError(f"{step.kind} round {step.round} of {case.reference} already exists")
    spec = TASKS[step.kind]
    survivor = session.exec(select(Survivor).where(Survivor.id == case.survivor_id)).one()
    corridor = policy.corridor_of(case, survivor)
    context, allowance = _context_for(session, case, step, now)
    agency_id = _agency_for(case, spec.party)
    due = due_at(
        step.kind,
        now,
        travel_date=case.travel_date,
        departed_at=case.departed_at,
        deadlines=corridor.deadlines,
        allowance=allowance,
    )
    document: dict[str, Any] = {"document": step.subject} if step.subject else {}
    task = open_task(
        session,
        case,
        kind=step.kind,
        round=step.round,
        agency_id=agency_id,
        due_at=due,
        now=now,
        context=context,
        about={
            "task_kind": step.kind,
            "round": step.round,
            "agency_id": str(agency_id),
            "due_at": due.isoformat(),
            **document,
        },
    )
    if step.notice is not None:
        _notify_coordinator(session, case, step.notice, now, key=f"{step.notice}:{task.id}")


def _context_for(
    session: Session, case: Case, step: OpenTask, now: datetime
) -> tuple[dict[str, Any] | None, timedelta | None]:
    """What the new task's agency needs to act, and the allowance it inherits, if any."""
    if step.kind == TaskKind.record_document:
        return {"document": step.subject}, None
    if step.kind == TaskKind.provide_information:
        asked = _task(session, case, TaskKind.verify_nationality, step.round)
        return {"question": (asked.payload or {}).get("question")}, None
    if step.kind == TaskKind.verify_nationality and step.round > 1:
        previous = _task(session, case, TaskKind.verify_nationality, step.round - 1)
        answer = _task(session, case, TaskKind.provide_information, step.round - 1, missing=True)
        if previous.outcome != "information_requested" or previous.completed_at is None:
            return None, None  # withdrawn by a halt: a fresh verification
        # The clock stopped while the question was with the coordinator.
        allowance = allowance_left(previous.due_at, previous.completed_at)
        answered = answer is not None and answer.status == TaskStatus.done
        if answered and answer is not None and answer.completed_at is not None:
            # It runs again from the answer, not from this pass (which may come later).
            allowance = max(allowance - (now - answer.completed_at), timedelta(0))
        return {
            "question": (previous.payload or {}).get("question"),
            "answer": (answer.payload or {}).get("answer") if answered and answer else None,
        }, allowance
    if step.kind == TaskKind.reissue_travel_document:
        return {
            "expires_on": _iso(case.travel_document_expires_on),
            "travel_date": _iso(case.travel_date),
        }, None
    return None, None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


@overload
def _task(
    session: Session, case: Case, kind: TaskKind, round_: int, *, missing: Literal[False] = ...
) -> Task: ...
@overload
def _task(
    session: Session, case: Case, kind: TaskKind, round_: int, *, missing: Literal[True]
) -> Task | None: ...
def _task(
    session: Session, case: Case, kind: TaskKind, round_: int, *, missing: bool = False
) -> Task | None:
    task = session.exec(
        select(Task).where(Task.case_id == case.id, Task.kind == kind, Task.round == round_)
    ).first()
    if task is None and not missing:
        raise RuntimeError(f"{kind} round {round_} of {case.reference} is missing")
    return task


def _withdraw(session: Session, case: Case, step: Withdraw, now: datetime) -> None:
    task = _task(session, case, step.kind, step.round)
    withdraw_open_tasks(session, case, now, tell="task_withdrawn", only=task.id)


def _move(session: Session, case: Case, step: MoveTo, now: datetime) -> None:
    if step.stage == Stage.consular_verification:
        consulate = find_consulate(session, case)
        if consulate is None:
            raise RuntimeError("moving to verification without a consulate")
        case.consulate_agency_id = consulate.id
    previous = case.stage
    case.stage = step.stage
    record_event(session, case, "stage_changed", at=now, from_stage=previous, to_stage=step.stage)
    if step.notice is not None:
        _notify_coordinator(session, case, step.notice, now, key=f"{step.notice}:{case.id}")


def _finish(session: Session, case: Case, step: Finish, now: datetime) -> None:
    # Work the workflow does not wait for (a transfer still pending, a duplicate check)
    # is moot once the case ends: withdrawn, so no inbox keeps a task nobody can complete.
    withdraw_open_tasks(session, case, now, tell="task_withdrawn")
    change_status(case, ENDING[step.status])
    if step.stage is not None:
        case.stage = step.stage
    case.closed_at = now
    record_event(session, case, f"case_{step.status}", at=now, stage=case.stage)
    _notify_coordinator(session, case, step.notice, now, key=f"{step.notice}:{case.id}")


def _notify_coordinator(
    session: Session, case: Case, notice: Notice, now: datetime, *, key: str
) -> None:
    enqueue_notification(
        session,
        case,
        agency_id=case.coordinator_agency_id,
        kind=notice,
        dedupe_key=key,
        at=now,
    )


def _set_blocked(session: Session, case: Case, step: Wait | Ended, now: datetime) -> None:
    blocked = step.blocked if isinstance(step, Wait) else None
    if blocked == case.blocked_reason:
        return
    case.blocked_reason = blocked
    record_event(
        session, case, "case_blocked" if blocked else "case_unblocked", at=now, reason=blocked
    )


def withdraw_open_tasks(
    session: Session,
    case: Case,
    now: datetime,
    *,
    kinds: tuple[TaskKind, ...] = tuple(TaskKind),
    tell: str | None,
    only: uuid.UUID | None = None,
) -> list[Task]:
    """Cancel the case's open tasks of these kinds (or the one task `only`); tell the
    agencies that held them with a message of kind `tell` (never the coordinator itself)."""
    query = select(Task).where(
        Task.case_id == case.id,
        Task.status == TaskStatus.open,
        col(Task.kind).in_([str(k) for k in kinds]),
    )
    if only is not None:
        query = query.where(Task.id == only)
    withdrawn = []
    for task in session.exec(query).all():
        cancelled = session.execute(
            update(Task)
            .where(col(Task.id) == task.id, col(Task.status) == TaskStatus.open)
            .values(status=TaskStatus.cancelled, completed_at=now)
        )
        if cancelled.rowcount != 1:  # type: ignore[attr-defined]
            continue
        withdrawn.append(task)
        record_event(
            session,
            case,
            "task_cancelled",
            at=now,
            task_id=str(task.id),
            task_kind=task.kind,
            round=task.round,
        )
        if tell is not None and task.agency_id != case.coordinator_agency_id:
            enqueue_notification(
                session,
                case,
                agency_id=task.agency_id,
                kind=tell,
                dedupe_key=f"{tell}:{task.id}",
                at=now,
                task_id=task.id,
            )
    return withdrawn

"""Likely duplicate registrations: one survivor launched twice, often by two NGOs.

At launch a case is compared with the open cases of the same nationality and sex whose
birth dates or age estimates lie within two years and whose names match after
transliteration-aware folding (domain.names). Each likely pair gets a `resolve_duplicate`
task for both coordinating agencies; neither sees the other's survivor data, only the
other case's reference and agency, so that they can call each other. Either may link the
cases (the later one closes as a duplicate of the earlier) or dismiss the match.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Session, col, select

from core.errors import Conflict
from domain.events import enqueue_notification, record_event
from domain.names import names_match
from domain.opening import next_round, open_task
from domain.policy import Policy, age_of
from domain.progress import withdraw_open_tasks
from domain.transitions import StatusChange, change_status
from domain.wakes import request_wake
from domain.workflow import due_at
from models import Agency, Case, Survivor, Task
from models.enums import CaseStatus, TaskKind, TaskStatus

AGE_TOLERANCE_YEARS = 2


def flag_likely_duplicates(
    session: Session, case: Case, survivor: Survivor, *, policy: Policy, now: datetime
) -> list[Case]:
    """Open a resolve_duplicate task on both sides of every likely duplicate of `case`."""
    candidates = session.exec(
        select(Case, Survivor)
        .join(Survivor, col(Survivor.id) == col(Case.survivor_id))
        .where(
            Case.id != case.id,
            col(Case.status).in_([CaseStatus.open, CaseStatus.halted]),
            col(Case.purged_at).is_(None),
            Survivor.nationality == survivor.nationality,
            Survivor.sex == survivor.sex,
        )
        .order_by(col(Case.id))  # a fixed order of row locks: no deadlock between launches
    ).all()
    today = now.date()
    found = []
    for other, person in candidates:
        if not _ages_close(survivor, case, person, other, today):
            continue
        if not names_match(
            survivor.given_name, survivor.family_name, person.given_name, person.family_name
        ):
            continue
        pair = str(uuid.uuid4())
        _open_check(session, case, other, pair=pair, policy=policy, survivor=survivor, now=now)
        _open_check(session, other, case, pair=pair, policy=policy, survivor=person, now=now)
        found.append(other)
    return found


def _ages_close(a: Survivor, case_a: Case, b: Survivor, case_b: Case, today: date) -> bool:
    if a.birth_date is not None and b.birth_date is not None:
        return abs((a.birth_date - b.birth_date).days) <= AGE_TOLERANCE_YEARS * 366
    age_a, age_b = age_of(a, case_a, today), age_of(b, case_b, today)
    return age_a is not None and age_b is not None and abs(age_a - age_b) <= AGE_TOLERANCE_YEARS


def _open_check(
    session: Session,
    case: Case,
    other: Case,
    *,
    pair: str,
    policy: Policy,
    survivor: Survivor,
    now: datetime,
) -> None:
    other_agency = session.get_one(Agency, other.coordinator_agency_id)
    # Locked: two launches flagging the same case at once must not draw the same round.
    session.exec(select(Case.id).where(Case.id == case.id).with_for_update()).one()
    corridor = policy.corridor_of(case, survivor)
    open_task(
        session,
        case,
        kind=TaskKind.resolve_duplicate,
        round=next_round(session, case, TaskKind.resolve_duplicate),
        agency_id=case.coordinator_agency_id,
        due_at=due_at(TaskKind.resolve_duplicate, now, deadlines=corridor.deadlines),
        now=now,
        # The other case's reference and agency only: never its survivor's data.
        context={
            "pair": pair,
            "other_case_id": str(other.id),
            "other_reference": other.reference,
            "other_agency": other_agency.name,
        },
        event="duplicate_suspected",
        about={"other_reference": other.reference},
    )


def apply_duplicate_answer(
    session: Session, case: Case, task: Task, *, linked: bool, now: datetime
) -> Case | None:
    """Settle both sides of the pair; on a link the later case closes as a duplicate of
    the earlier. Returns the other case, which the caller must wake."""
    context = task.context or {}
    other = session.exec(
        select(Case).where(Case.id == uuid.UUID(context["other_case_id"])).with_for_update()
    ).first()
    if other is None:
        return None
    outcome = "linked" if linked else "dismissed"
    for partner in session.exec(
        select(Task).where(
            Task.case_id == other.id,
            Task.kind == TaskKind.resolve_duplicate,
            Task.status == TaskStatus.open,
        )
    ).all():
        if (partner.context or {}).get("pair") != context.get("pair"):
            continue
        partner.status = TaskStatus.done
        partner.outcome = outcome
        partner.completed_at = now
        partner.payload = {"decision": outcome, "decided_by_other_agency": True}
        session.add(partner)
        record_event(
            session,
            other,
            "task_completed",
            at=now,
            task_id=str(partner.id),
            task_kind=partner.kind,
            round=partner.round,
            outcome=outcome,
            by_other_agency=True,
        )
    for side, counterpart in ((case, other), (other, case)):
        record_event(
            session,
            side,
            "duplicate_linked" if linked else "duplicate_dismissed",
            at=now,
            other_reference=counterpart.reference,
        )
    if linked:
        earlier, later = sorted((case, other), key=lambda c: (c.created_at, c.reference))
        _close_as_duplicate(session, later, of=earlier, keep=task.id, now=now)
    request_wake(session, other, now)
    return other


def _close_as_duplicate(
    session: Session, case: Case, *, of: Case, keep: uuid.UUID, now: datetime
) -> None:
    if case.status not in (CaseStatus.open, CaseStatus.halted):
        raise Conflict(f"case {case.reference} is already {case.status}")
    open_tasks = session.exec(
        select(Task.id).where(Task.case_id == case.id, Task.status == TaskStatus.open)
    ).all()
    for task_id in open_tasks:
        if task_id != keep:
            withdraw_open_tasks(session, case, now, tell="task_withdrawn", only=task_id)
    change_status(case, StatusChange.close_as_duplicate)
    case.closed_reason = "duplicate"
    case.duplicate_of_case_id = of.id
    case.closed_at = now
    case.updated_at = now
    session.add(case)
    record_event(
        session, case, "case_closed", at=now, stage=case.stage, reason="duplicate", of=of.reference
    )
    enqueue_notification(
        session,
        case,
        agency_id=case.coordinator_agency_id,
        kind="case_duplicate",
        dedupe_key=f"case_duplicate:{case.id}",
        at=now,
    )

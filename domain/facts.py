"""What the workflow knows of a case, read from the database: the facts `decide` reads,
and the questions the services ask of a case (an active legal hold, its consulate)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Session, col, select

from domain.departure import departures_on_hold
from domain.policy import (
    Policy,
    documents_needed,
    is_minor_on,
    recorded_document_valid,
    travel_document_valid,
)
from domain.workflow import CaseFacts, TaskFact
from models import Agency, Case, LegalHold, Survivor, Task
from models.enums import AgencyKind, CaseStatus, ClosureReview, Stage, TaskKind, TaskStatus


def case_facts(session: Session, case: Case, policy: Policy, now: datetime) -> CaseFacts:
    """What the workflow knows of the case now: what `decide` reads."""
    tasks = session.exec(select(Task).where(Task.case_id == case.id)).all()
    on_hold = departures_on_hold(session, case_id=case.id)
    survivor = session.exec(select(Survivor).where(Survivor.id == case.survivor_id)).one()
    corridor = policy.corridor_of(case, survivor)
    consulate = case.consulate_agency_id is not None or (
        case.stage == Stage.identification and find_consulate(session, case) is not None
    )
    minor = is_minor_on(survivor, case, case.travel_date or now.date())
    return CaseFacts(
        stage=Stage(case.stage),
        status=CaseStatus(case.status),
        tasks=tuple(
            TaskFact(
                TaskKind(t.kind),
                t.round,
                _status_of(t, case, now.date()),
                t.outcome,
                (t.context or {}).get("document"),
                on_hold=t.id in on_hold,
            )
            for t in tasks
        ),
        consulate_available=consulate,
        handed_over_at=case.handed_over_at,
        follow_up_days=policy.follow_ups(corridor),
        follow_up_consent=case.consent_follow_up,
        documents_needed=documents_needed(corridor, minor=minor),
        placement_required=corridor.placement_required,
        travel_document_valid=travel_document_valid(case, now.date()),
        travel_document_recorded=case.travel_document_expires_on is not None,
        legal_hold=active_hold(session, case.id) is not None,
        extra_follow_ups=case.extra_follow_ups,
        closure_review=ClosureReview(case.closure_review) if case.closure_review else None,
    )


def _status_of(task: Task, case: Case, today: date) -> TaskStatus:
    """A recorded document that ends before the journey counts as withdrawn: the workflow
    asks the coordinator for one that covers it."""
    if (
        task.kind == TaskKind.record_document
        and task.status == TaskStatus.done
        and not recorded_document_valid(task.payload, case, today)
    ):
        return TaskStatus.cancelled
    return TaskStatus(task.status)


def active_hold(session: Session, case_id: uuid.UUID) -> LegalHold | None:
    return session.exec(
        select(LegalHold).where(LegalHold.case_id == case_id, col(LegalHold.released_at).is_(None))
    ).first()


def find_consulate(session: Session, case: Case) -> Agency | None:
    """The consulate serving the survivor's nationality in the country where they are."""
    nationality = session.exec(
        select(Survivor.nationality).where(Survivor.id == case.survivor_id)
    ).one()
    return session.exec(
        select(Agency)
        .where(
            Agency.kind == AgencyKind.consulate,
            Agency.country == case.current_country,
            Agency.nationality_served == nationality,
        )
        .order_by(col(Agency.created_at))
    ).first()

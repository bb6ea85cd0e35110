"""What the sweeper looks for: the cases a pass should visit without anyone's decision."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import exists, or_
from sqlmodel import Session, col, select

from models import Case, Task
from models.enums import CaseStatus, Stage, TaskKind, TaskStatus


def cases_awaiting_follow_up(session: Session) -> list[uuid.UUID]:
    """Open cases in follow-up: a pass over them opens the follow-ups that fell due."""
    return list(
        session.exec(
            select(Case.id).where(
                Case.status == CaseStatus.open, Case.stage == Stage.reintegration_followup
            )
        ).all()
    )


def cases_with_lapsed_documents(session: Session, *, today: date) -> list[uuid.UUID]:
    """Open cases not yet departed whose travel document has run out or runs out before
    the travel date, and that have no re-issue pending: a pass sends them back."""
    reissuing = exists().where(
        col(Task.case_id) == col(Case.id),
        col(Task.kind) == TaskKind.reissue_travel_document,
        col(Task.status) == TaskStatus.open,
    )
    expires = col(Case.travel_document_expires_on)
    return list(
        session.exec(
            select(Case.id).where(
                Case.status == CaseStatus.open,
                Case.stage == Stage.safe_transport,
                expires.is_not(None),
                or_(expires < today, expires < col(Case.travel_date)),
                ~reissuing,
            )
        ).all()
    )


def cases_needing_wake(session: Session, *, now: datetime, grace: timedelta) -> list[Case]:
    """Open cases whose decision has waited longer than `grace` for its flow run."""
    return list(
        session.exec(
            select(Case).where(
                col(Case.wake_requested_at).is_not(None),
                col(Case.wake_requested_at) < now - grace,
            )
        ).all()
    )

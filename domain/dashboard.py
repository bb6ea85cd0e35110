"""A coordinating NGO's counts of its own cases: where they are and what holds them up.

Operational counts for the agency that answers for these cases (not published figures:
those are suppressed below k, in the figures module); each is one aggregate query over
the NGO's cases, never the rows themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, distinct, exists, func
from sqlmodel import Session, col, select

from core.errors import Forbidden
from models import Case, Task, User
from models.case import LegalHold
from models.enums import CaseStatus, NotificationStatus, Role, Stage, TaskStatus
from models.notification import Notification

# Who sees the dashboard: those who answer for the NGO's cases.
DASHBOARD_READERS = frozenset({Role.coordinator, Role.supervisor})


@dataclass(frozen=True)
class Caseload:
    open_by_stage: dict[Stage, int]
    overdue: int  # open cases with an open task past its deadline
    blocked: int  # open cases the workflow cannot move on (e.g. no consulate registered)
    legal_hold: int  # open cases under an active legal hold
    halted: int
    travel_document_expired: int  # open, not yet handed over, document past its date
    undelivered_notifications: int  # failed notifications of the NGO's cases


def reads_dashboard(user: User) -> bool:
    return user.role in DASHBOARD_READERS


def caseload_for(session: Session, *, user: User, now: datetime) -> Caseload:
    if not reads_dashboard(user):
        raise Forbidden("the dashboard is for the coordinators and supervisors of an NGO")
    ours = col(Case.coordinator_agency_id) == user.agency_id
    still_open = col(Case.status) == CaseStatus.open

    def count(*where: ColumnElement[bool]) -> int:
        return int(session.exec(select(func.count()).select_from(Case).where(ours, *where)).one())

    by_stage = dict(
        session.exec(
            select(Case.stage, func.count()).where(ours, still_open).group_by(col(Case.stage))
        ).all()
    )
    late = exists().where(
        col(Task.case_id) == col(Case.id),
        col(Task.status) == TaskStatus.open,
        col(Task.due_at) < now,
    )
    held = exists().where(
        col(LegalHold.case_id) == col(Case.id), col(LegalHold.released_at).is_(None)
    )
    undelivered = session.exec(
        select(func.count(distinct(col(Notification.id))))
        .join(Case, col(Case.id) == col(Notification.case_id))
        .where(ours, col(Notification.status) == NotificationStatus.failed)
    ).one()
    return Caseload(
        open_by_stage={
            stage: int(by_stage.get(stage, 0)) for stage in Stage if stage != Stage.closed
        },
        overdue=count(still_open, late),
        blocked=count(still_open, col(Case.blocked_reason).is_not(None)),
        legal_hold=count(still_open, held),
        halted=count(col(Case.status) == CaseStatus.halted),
        travel_document_expired=count(
            still_open,
            col(Case.stage).in_([Stage.consular_verification, Stage.safe_transport]),
            col(Case.travel_document_expires_on) < now.date(),
        ),
        undelivered_notifications=int(undelivered),
    )

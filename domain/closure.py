"""Taking a closed case up again: news of re-trafficking or lost contact after closure.

A reopened case goes back to reintegration follow-up with one follow-up due at once, and
it closes again only on a supervisor's decision.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session, select

from core.errors import Conflict, Forbidden
from domain.access import reopens_case
from domain.audit import Action
from domain.cases import get_case_for
from domain.decisions import record_decision
from domain.payloads import Reopening
from domain.transitions import StatusChange, change_status
from models import Case, User
from models.enums import CaseStatus, ClosureReview, Stage


def reopen_case(
    session: Session,
    *,
    user: User,
    case_id: uuid.UUID,
    data: Reopening,
    now: datetime,
    address: str | None = None,
) -> Case:
    visible = get_case_for(session, user=user, case_id=case_id)
    if not reopens_case(visible, user):
        raise Forbidden("only the coordinating NGO's coordinators and supervisors reopen a case")
    case = session.exec(select(Case).where(Case.id == visible.id).with_for_update()).one()
    if case.status != CaseStatus.closed:
        raise Conflict(f"the case is {case.status}; only a closed case can be reopened")
    if case.closed_reason == "duplicate":
        raise Conflict("the case was closed as a duplicate; follow the case it duplicates")
    if case.handed_over_at is None:
        raise Conflict("the case closed before the survivor's return; launch a new case")
    if case.purged_at is not None:
        raise Conflict("the case's personal data has been purged; launch a new case")
    if not case.consent_follow_up:
        raise Conflict(
            "the survivor withdrew consent to follow-up contact; record consent again first"
        )
    change_status(case, StatusChange.reopen)
    case.stage = Stage.reintegration_followup
    case.closed_at = None
    case.extra_follow_ups += 1
    case.closure_review = ClosureReview.required
    case.reopen_note = data.note
    case.updated_at = now
    session.add(case)
    record_decision(
        session,
        case,
        user=user,
        event="case_reopened",
        action=Action.reopen_case,
        now=now,
        address=address,
        reason=data.reason,
    )
    return case

"""Legal holds: a survivor who is a witness in a trial cannot leave until the court allows.

The coordinating NGO places a hold (the court case reference and why) and releases it with
the court's permission or once remote testimony is arranged. While a hold is active the
departure is refused, the escort is not asked to confirm it (an escort already asked is
told it is on hold: domain/departure.py) and the case shows the hold as the reason it waits.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session, col, select

from core.errors import Conflict, Forbidden, NotFound
from domain.access import places_holds
from domain.audit import Action, record_audit
from domain.cases import get_case_for
from domain.decisions import record_decision
from domain.facts import active_hold
from domain.payloads import HoldReleaseIn, NewHold
from models import Case, LegalHold, User
from models.enums import CaseStatus, Stage

# After departure a hold has nothing left to block.
_BEFORE_DEPARTURE = (Stage.identification, Stage.consular_verification, Stage.safe_transport)


def place_hold(
    session: Session,
    *,
    user: User,
    case_id: uuid.UUID,
    data: NewHold,
    now: datetime,
    address: str | None = None,
) -> tuple[LegalHold, Case]:
    case = _kept_case(session, user, case_id)
    if case.status != CaseStatus.open or case.stage not in _BEFORE_DEPARTURE:
        raise Conflict("a legal hold blocks departure: this case has already left or ended")
    if active_hold(session, case.id) is not None:
        raise Conflict("the case already has an active legal hold; release it first")
    hold = LegalHold(
        case_id=case.id,
        court_case_reference=data.court_case_reference,
        reason=data.reason,
        placed_by_user_id=user.id,
        placed_at=now,
    )
    session.add(hold)
    session.flush()
    # The reason category only: the court case reference stays in the hold record.
    record_decision(
        session,
        case,
        user=user,
        event="legal_hold_placed",
        action=Action.place_hold,
        now=now,
        address=address,
        hold_id=str(hold.id),
        reason=data.reason,
    )
    return hold, case


def release_hold(
    session: Session,
    *,
    user: User,
    case_id: uuid.UUID,
    hold_id: uuid.UUID,
    data: HoldReleaseIn,
    now: datetime,
    address: str | None = None,
) -> tuple[LegalHold, Case]:
    case = _kept_case(session, user, case_id)
    hold = session.exec(
        select(LegalHold)
        .where(LegalHold.id == hold_id, LegalHold.case_id == case.id)
        .with_for_update()
    ).first()
    if hold is None:
        raise NotFound("no such legal hold on this case")
    if hold.released_at is not None:
        raise Conflict("this legal hold is already released")
    hold.released_at = now
    hold.released_by_user_id = user.id
    hold.release_basis = data.basis
    hold.permission_reference = data.permission_reference
    session.add(hold)
    record_decision(
        session,
        case,
        user=user,
        event="legal_hold_released",
        action=Action.release_hold,
        now=now,
        address=address,
        hold_id=str(hold.id),
        basis=data.basis,
    )
    return hold, case


def holds_of(
    session: Session,
    *,
    user: User,
    case_id: uuid.UUID,
    now: datetime,
    address: str | None = None,
) -> list[LegalHold]:
    """The case's holds, newest first, for its coordinating NGO; the read is audited."""
    case = _kept_case(session, user, case_id)
    holds = list(
        session.exec(
            select(LegalHold)
            .where(LegalHold.case_id == case.id)
            .order_by(col(LegalHold.placed_at).desc())
        ).all()
    )
    record_audit(
        session,
        action=Action.read_holds,
        at=now,
        user=user,
        case_id=case.id,
        address=address,
        count=len(holds),
    )
    session.flush()
    return holds


def _kept_case(session: Session, user: User, case_id: uuid.UUID) -> Case:
    case = get_case_for(session, user=user, case_id=case_id)
    if not places_holds(case, user):
        raise Forbidden("only the coordinating NGO's coordinators and supervisors manage holds")
    return case

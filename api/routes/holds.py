from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.deps import CaseId, ClientAddress, CurrentUser, SessionDep
from api.schemas import LegalHoldPublic
from core.clock import utcnow
from domain.holds import holds_of, place_hold, release_hold
from domain.payloads import HoldReleaseIn, NewHold

router = APIRouter(prefix="/cases/{case_id}/holds", tags=["legal holds"])


@router.get("")
def holds(
    case_id: CaseId, user: CurrentUser, session: SessionDep, address: ClientAddress
) -> list[LegalHoldPublic]:
    """The case's legal holds, newest first (its coordinating NGO)."""
    found = holds_of(session, user=user, case_id=case_id, now=utcnow(), address=address)
    session.commit()
    return [LegalHoldPublic.model_validate(h) for h in found]


@router.post("", status_code=status.HTTP_201_CREATED)
def place(
    case_id: CaseId,
    data: NewHold,
    user: CurrentUser,
    session: SessionDep,
    address: ClientAddress,
) -> LegalHoldPublic:
    """Place a legal hold (the survivor is needed as a witness, a court ordered it):
    departure is refused until the hold is released. The escort is not asked to confirm the
    departure meanwhile; an escort already asked is told it is on hold, without the reason.
    Coordinators and supervisors of the coordinating NGO; audited and shown in the
    timeline."""
    hold, _ = place_hold(
        session, user=user, case_id=case_id, data=data, now=utcnow(), address=address
    )
    session.commit()
    return LegalHoldPublic.model_validate(hold)


@router.post("/{hold_id}/release")
def release(
    case_id: CaseId,
    hold_id: uuid.UUID,
    data: HoldReleaseIn,
    user: CurrentUser,
    session: SessionDep,
    address: ClientAddress,
) -> LegalHoldPublic:
    """Release a hold with the court's permission (its reference) or because remote
    testimony is arranged; the case may then depart."""
    hold, _ = release_hold(
        session,
        user=user,
        case_id=case_id,
        hold_id=hold_id,
        data=data,
        now=utcnow(),
        address=address,
    )
    session.commit()
    return LegalHoldPublic.model_validate(hold)

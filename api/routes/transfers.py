from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CaseId, ClientAddress, CurrentUser, SessionDep, SettingsDep
from api.schemas import TaskPublic
from core.clock import utcnow
from domain.payloads import NewTransfer
from domain.policy import policy_for
from domain.transfers import request_transfer, revoke_transfer
from models import Case

router = APIRouter(prefix="/cases/{case_id}/transfer", tags=["transfers"])


@router.post("", status_code=status.HTTP_201_CREATED)
def request(
    case_id: CaseId,
    data: NewTransfer,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> TaskPublic:
    """Ask another shelter to take in a survivor in your shelter's care (after the
    handover). The receiving shelter gets an `accept_transfer` task; the case and its
    follow-ups move only when it accepts. Returns that task."""
    now = utcnow()
    task = request_transfer(
        session,
        user=user,
        case_id=case_id,
        data=data,
        policy=policy_for(settings),
        now=now,
        address=address,
    )
    session.commit()
    return TaskPublic.of(task, session.get_one(Case, task.case_id), now=now)


@router.post("/revoke")
def revoke(
    case_id: CaseId,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> TaskPublic:
    """Withdraw your shelter's pending transfer request; the receiving shelter is told."""
    now = utcnow()
    task = revoke_transfer(session, user=user, case_id=case_id, now=now, address=address)
    session.commit()
    return TaskPublic.of(task, session.get_one(Case, task.case_id), now=now)

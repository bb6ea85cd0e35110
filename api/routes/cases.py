from __future__ import annotations

import uuid

from fastapi import APIRouter, BackgroundTasks, status

from api.deps import CurrentUser, SessionDep, SettingsDep, WakerDep
from api.schemas import CasePublic, CaseSummary, EventPublic
from core.clock import utcnow
from domain.cases import case_detail, launch_case, list_cases_for, timeline_for
from domain.payloads import NewCase

router = APIRouter(prefix="/cases", tags=["cases"])


@router.post("", status_code=status.HTTP_201_CREATED)
def launch(
    data: NewCase,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    wake: WakerDep,
    background: BackgroundTasks,
) -> CasePublic:
    """Launch a case (coordinators). Needs the survivor's consent to repatriation and to
    data sharing. The case then moves on by itself: poll `GET /cases/{id}`."""
    now = utcnow()
    case = launch_case(session, user=user, data=data, now=now)
    session.commit()
    background.add_task(wake, settings, case.id)
    return CasePublic.of_detail(case_detail(session, user=user, case_id=case.id, now=now))


@router.get("")
def cases(user: CurrentUser, session: SessionDep) -> list[CaseSummary]:
    """The cases your agency takes part in, newest first."""
    return [CaseSummary.of(c) for c in list_cases_for(session, user=user)]


@router.get("/{case_id}")
def case(case_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> CasePublic:
    """One case, with the survivor fields your agency's part in it needs."""
    return CasePublic.of_detail(case_detail(session, user=user, case_id=case_id, now=utcnow()))


@router.get("/{case_id}/timeline")
def timeline(case_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> list[EventPublic]:
    """What happened to the case, in order. Events carry no personal data."""
    return [EventPublic.of(e) for e in timeline_for(session, user=user, case_id=case_id)]

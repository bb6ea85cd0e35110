from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from api.deps import CaseId, ClientAddress, CurrentUser, SessionDep, SettingsDep
from api.idempotency import IdempotencyDep
from api.paging import DEFAULT, PAGED, Cursor, Limit, link_next_page
from api.schemas import AuditEntryPublic, CasePublic, CaseSummary, EventPublic
from core.clock import utcnow
from domain.cases import (
    REFERENCE_EXAMPLE,
    audit_for,
    case_detail,
    launch_case,
    list_cases_for,
    timeline_for,
)
from domain.closure import reopen_case
from domain.payloads import NewCase, Reopening
from domain.policy import policy_for
from models.enums import CaseStatus, Stage

router = APIRouter(prefix="/cases", tags=["cases"])

# Every route below reads or changes survivor data and leaves an audit entry: each one
# commits, read routes included, so that the entry is written with the work it records.


@router.post("", status_code=status.HTTP_201_CREATED)
def launch(
    data: NewCase,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
    idempotency: IdempotencyDep,
) -> CasePublic:
    """Launch a case (coordinators). Needs the survivor's consent to repatriation and to
    data sharing. The case then moves on by itself: poll `GET /cases/{id}`.

    Send an `Idempotency-Key` header to retry safely: a repeat with the same key returns
    the first answer (201 with the same case) and launches nothing; the same key with
    another body is refused with 422; 409 while the first request is still running."""
    detail = launch_case(
        session,
        user=user,
        data=data,
        policy=policy_for(settings),
        now=utcnow(),
        address=address,
    )
    answer = CasePublic.of_detail(detail)
    idempotency.remember(session, status.HTTP_201_CREATED, answer, case_id=detail.case.id)
    session.commit()
    return answer


@router.get("", responses={status.HTTP_200_OK: PAGED})
def cases(
    request: Request,
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    address: ClientAddress,
    overdue: bool | None = None,
    reference: Annotated[
        str | None,
        Query(
            description=(
                "Keep only the case with this reference (any letter case), if your agency "
                "takes part in it: a list of one, or an empty list."
            ),
            examples=[REFERENCE_EXAMPLE],
        ),
    ] = None,
    stage: Annotated[Stage | None, Query(description="Keep the cases at this stage.")] = None,
    case_status: Annotated[
        CaseStatus | None, Query(alias="status", description="Keep the cases with this status.")
    ] = None,
    blocked: Annotated[
        bool | None,
        Query(
            description="Keep the cases the workflow cannot move on (`blocked_reason` set), "
            "or with false those it can."
        ),
    ] = None,
    corridor: Annotated[
        str | None,
        Query(
            description="Keep the cases of one corridor: where the survivor is, then the "
            "home country, as ISO 3166 codes.",
            examples=["IN-BD"],
        ),
    ] = None,
    limit: Limit = DEFAULT,
    cursor: Cursor = None,
) -> list[CaseSummary]:
    """The cases your agency takes part in, newest first; `overdue=true` keeps those with
    an open task past its deadline, `reference=HW-...` the case a notification named,
    `stage` and `status` the cases where they are. Filters combine.

    The answer is one page, a JSON array of at most `limit` cases (default 50, at most
    200). When there are more, the `Link` header names the next page,
    `Link: </api/v1/cases?...&cursor=...>; rel="next"`: follow it as it is, until an answer
    comes without it. Every page keeps to the cases your agency takes part in; paging never
    repeats a case nor skips one that stays in the list (a case launched meanwhile is at the
    top, for the next walk). A `limit` out of bounds or a `cursor` the list did not give
    gets 422."""
    page = list_cases_for(
        session,
        user=user,
        overdue=overdue,
        reference=reference,
        stage=stage,
        status=case_status,
        blocked=blocked,
        corridor=corridor,
        limit=limit,
        cursor=cursor,
        now=utcnow(),
        address=address,
    )
    session.commit()
    link_next_page(request, response, page.next_cursor)
    return [CaseSummary.of(c) for c in page.items]


@router.get("/{case_id}")
def case(
    case_id: CaseId, user: CurrentUser, session: SessionDep, address: ClientAddress
) -> CasePublic:
    """One case, with the survivor fields your agency's part in it needs."""
    detail = case_detail(session, user=user, case_id=case_id, now=utcnow(), address=address)
    session.commit()
    return CasePublic.of_detail(detail)


@router.get("/{case_id}/timeline")
def timeline(
    case_id: CaseId, user: CurrentUser, session: SessionDep, address: ClientAddress
) -> list[EventPublic]:
    """What happened to the case, in order. Events carry no personal data."""
    events = timeline_for(session, user=user, case_id=case_id, now=utcnow(), address=address)
    session.commit()
    return [EventPublic.of(e) for e in events]


@router.get("/{case_id}/audit")
def audit(
    case_id: CaseId, user: CurrentUser, session: SessionDep, address: ClientAddress
) -> list[AuditEntryPublic]:
    """Who read or changed the case, when and from which address, oldest first: for the
    coordinators and supervisors of the NGO that coordinates it. Entries name the fields
    and decisions touched, never their values. Reading the audit is audited too."""
    entries = audit_for(session, user=user, case_id=case_id, now=utcnow(), address=address)
    session.commit()
    return [AuditEntryPublic.model_validate(e) for e in entries]


@router.post("/{case_id}/reopen")
def reopen(
    case_id: CaseId,
    data: Reopening,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> CasePublic:
    """Reopen a closed case (coordinators and supervisors of its NGO), e.g. on news of
    re-trafficking: a follow-up is due at once, and closing it again needs a supervisor."""
    now = utcnow()
    reopened = reopen_case(session, user=user, case_id=case_id, data=data, now=now, address=address)
    detail = case_detail(session, user=user, case_id=reopened.id, now=now, address=address)
    session.commit()
    return CasePublic.of_detail(detail)

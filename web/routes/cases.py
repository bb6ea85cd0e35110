"""Cases: the list with its filters, the launch form, and each case's page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pycountry
from fastapi import APIRouter, Request, Response, status
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from api.deps import ClientAddress, SessionDep, SettingsDep
from api.schemas import AuditEntryPublic, CasePublic, CaseSummary, EventPublic
from core.clock import utcnow
from core.errors import Invalid
from core.validation import validation_problems
from domain.access import (
    places_holds,
    reads_audit,
    records_consent,
    reopens_case,
    transfers_survivor,
)
from domain.cases import (
    audit_for,
    case_detail,
    documents_of,
    launch_case,
    list_cases_for,
    timeline_for,
)
from domain.idempotency import StoredAnswer
from domain.payloads import NewCase
from domain.policy import policy_for
from domain.tasks import waiting_on
from models.enums import CaseStatus, Sex, Stage, TraffickingStatus
from web.forms import problems_by_field
from web.once import claim_form, new_key, remember_location, replayed_location
from web.paths import case_in_path
from web.render import page
from web.session import VisitorDep, submitted_form
from web.words import STAGES

router = APIRouter(include_in_schema=False)

LIST_PAGE = 50

# The countries of the region's corridors first, then every other by name.
_REGION = ("IN", "BD", "NP", "PK", "LK", "BT", "MV", "AF", "MM")
COUNTRIES: tuple[tuple[str, str], ...] = tuple(
    [(code, pycountry.countries.lookup(code).name) for code in _REGION]
    + sorted(
        ((c.alpha_2, c.name) for c in pycountry.countries if c.alpha_2 not in _REGION),
        key=lambda pair: pair[1],
    )
)

# The launch form's fields, by the path the domain names them with in its problems.
LAUNCH_FIELDS = (
    "survivor.given_name",
    "survivor.family_name",
    "survivor.sex",
    "survivor.birth_date",
    "survivor.age_estimate",
    "survivor.nationality",
    "survivor.languages",
    "current_country",
    "trafficking_status",
    "consent.repatriation",
    "consent.data_sharing",
    "consent.follow_up",
)
_CHECKBOXES = frozenset({"consent.repatriation", "consent.data_sharing", "consent.follow_up"})


@router.get("/cases")
def case_list(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    address: ClientAddress,
    stage: Stage | None = None,
    case_status: CaseStatus | None = None,
    overdue: bool | None = None,
    blocked: bool | None = None,
    corridor: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
) -> Response:
    reference = (q or "").strip() or None
    found = list_cases_for(
        session,
        user=visitor.user,
        now=utcnow(),
        overdue=overdue,
        reference=reference,
        stage=stage,
        status=case_status,
        blocked=blocked,
        corridor=corridor or None,
        limit=LIST_PAGE,
        cursor=cursor or None,
        address=address,
    )
    session.commit()
    filters = {
        "stage": stage.value if stage else "",
        "case_status": case_status.value if case_status else "",
        "overdue": "true" if overdue else "",
        "blocked": "true" if blocked else "",
        "corridor": corridor or "",
        "q": reference or "",
    }
    return page(
        request,
        "cases.html",
        {
            "cases": [CaseSummary.of(c) for c in found.items],
            "next_cursor": found.next_cursor,
            "filters": filters,
            "active": {k: v for k, v in filters.items() if v},
            "stages": [*STAGES, Stage.closed],
            "statuses": list(CaseStatus),
            "launches": visitor.launches_cases,
        },
    )


@router.get("/cases/new")
def launch_page(request: Request, visitor: VisitorDep) -> Response:
    return _launch_page(request, {}, [])


def _launch_page(
    request: Request,
    submitted: Mapping[str, str],
    problems: list[str],
    *,
    status_code: int = 200,
) -> Response:
    beside, general = problems_by_field(problems, set(LAUNCH_FIELDS))
    return page(
        request,
        "launch.html",
        {
            "values": submitted,
            "beside": beside,
            "general": general,
            "countries": COUNTRIES,
            "sexes": list(Sex),
            "statuses": list(TraffickingStatus),
            "key": submitted.get("idempotency_key") or new_key(),
        },
        status_code=status_code,
    )


def new_case_body(form: Mapping[str, str]) -> dict[str, Any]:
    """The JSON body of `POST /api/v1/cases` a launch form stands for (empty fields left
    out, languages as a list, each consent true only when its box is ticked)."""
    body: dict[str, Any] = {"survivor": {}, "consent": {}}
    for name in LAUNCH_FIELDS:
        value = (form.get(name) or "").strip()
        group, _, field = name.rpartition(".")
        target = body[group] if group else body
        if name in _CHECKBOXES:
            target[field] = value == "yes"
        elif name == "survivor.languages":
            target[field] = [
                code.strip() for code in value.replace(";", ",").split(",") if code.strip()
            ]
        elif value:
            target[field] = value
    return body


@router.post("/cases/new")
async def launch_from_page(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> Response:
    submitted = await submitted_form(request, visitor)
    try:
        data = NewCase.model_validate(new_case_body(submitted))
    except ValidationError as error:
        problems = validation_problems(error.errors(include_input=False))
        return _launch_page(request, submitted, problems, status_code=422)
    try:
        claim = claim_form(
            session,
            settings,
            user_id=visitor.user.id,
            route="/cases/new",
            path=request.url.path,
            form=submitted,
        )
        if isinstance(claim, StoredAnswer):
            return RedirectResponse(replayed_location(claim), status_code=status.HTTP_303_SEE_OTHER)
        detail = launch_case(
            session,
            user=visitor.user,
            data=data,
            policy=policy_for(settings),
            now=utcnow(),
            address=address,
        )
        location = f"/cases/{detail.case.reference}?launched=1"
        remember_location(session, claim, location, detail.case.id)
        session.commit()
    except Invalid as refusal:
        session.rollback()
        return _launch_page(request, submitted, refusal.problems, status_code=422)
    return RedirectResponse(location, status_code=status.HTTP_303_SEE_OTHER)


@router.get("/cases/{key}")
def case_page(
    request: Request,
    key: str,
    visitor: VisitorDep,
    session: SessionDep,
    address: ClientAddress,
) -> Response:
    now = utcnow()
    case_id = case_in_path(session, key)
    detail = case_detail(session, user=visitor.user, case_id=case_id, now=now, address=address)
    timeline = timeline_for(session, user=visitor.user, case_id=case_id, now=now, address=address)
    audit = (
        audit_for(session, user=visitor.user, case_id=case_id, now=now, address=address)
        if reads_audit(detail.case, visitor.user)
        else None
    )
    waiting = waiting_on(session, user=visitor.user, case=detail.case, view=detail.view)
    session.commit()
    shown = CasePublic.of_detail(detail)
    return page(
        request,
        "case.html",
        {
            "case": shown,
            "stages": STAGES,
            "stage_index": STAGES.index(shown.stage) if shown.stage in STAGES else len(STAGES),
            "waiting": waiting,
            "documents": documents_of(session, detail=detail),
            "timeline": [EventPublic.of(e) for e in timeline],
            "audit": [AuditEntryPublic.model_validate(e) for e in audit] if audit else None,
            "launched": request.query_params.get("launched") == "1",
            "done": request.query_params.get("done"),
            # Which of the actions that are not tasks to offer (the domain decides again).
            "actions": {
                "holds": places_holds(detail.case, visitor.user),
                "consent": records_consent(detail.case, visitor.user),
                "reopen": reopens_case(detail.case, visitor.user),
                "transfer": transfers_survivor(detail.case, visitor.user),
            },
            "now": now,
        },
    )

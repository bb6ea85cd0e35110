"""Everyone's work: the inbox of the agency's open tasks, and each task's page and form."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import RedirectResponse

from api.deps import ClientAddress, SessionDep, SettingsDep, WakerDep, wake_now
from api.schemas import AgencyPublic, CasePublic, TaskPublic
from core.clock import utcnow
from core.countries import time_zone
from core.errors import Conflict, Invalid, NotFound
from domain.access import reads_cases
from domain.agencies import get_agency, list_agencies
from domain.cases import case_detail
from domain.idempotency import StoredAnswer
from domain.policy import policy_for
from domain.shelters import occupancy
from domain.tasks import (
    complete_task,
    get_task_for,
    latest_task_of_kind,
    list_tasks_for,
)
from models.enums import AgencyKind, TaskKind, TaskStatus
from web.forms import DECISION, FORMS, Input, completion_body, problems_by_field
from web.once import claim_form, new_key, remember_location, replayed_location
from web.paths import case_in_path
from web.render import page
from web.session import Visitor, VisitorDep, submitted_form

router = APIRouter(include_in_schema=False)

INBOX_PAGE = 50


@router.get("/inbox")
def inbox(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    address: ClientAddress,
    cursor: str | None = None,
) -> Response:
    if visitor.administers:  # administrators have no inbox: their work is elsewhere
        return RedirectResponse("/admin", status_code=status.HTTP_303_SEE_OTHER)
    now = utcnow()
    found = list_tasks_for(
        session,
        user=visitor.user,
        status=TaskStatus.open,
        kind=None,
        overdue=None,
        limit=INBOX_PAGE,
        cursor=cursor or None,
        now=now,
        address=address,
    )
    session.commit()
    return page(
        request,
        "inbox.html",
        {
            "agency": get_agency(session, visitor.user.agency_id),
            "tasks": [TaskPublic.of(t, c, now=now) for t, c in found.items],
            "next_cursor": found.next_cursor,
            "reads_cases": reads_cases(visitor.user),
        },
    )


@router.get("/tasks/{task_id}")
def task_page(
    request: Request,
    task_id: uuid.UUID,
    visitor: VisitorDep,
    session: SessionDep,
    address: ClientAddress,
) -> Response:
    return _task_page(request, session, visitor, task_id, address)


def _task_page(
    request: Request,
    session: SessionDep,
    visitor: Visitor,
    task_id: uuid.UUID,
    address: str | None,
    *,
    submitted: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    task, case = get_task_for(session, user=visitor.user, task_id=task_id)
    detail = case_detail(session, user=visitor.user, case_id=case.id, now=now, address=address)
    session.commit()
    kind = TaskKind(task.kind)
    form = FORMS[kind]
    agency = get_agency(session, visitor.user.agency_id)
    zone = time_zone(agency.country)
    names = {f.name for f in form.fields} | {DECISION}
    beside, general = problems_by_field(problems or [], names)
    values = dict(submitted or {})
    for spec in form.fields:
        if spec.input == Input.moment and not values.get(spec.name):
            values[spec.name] = now.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    return page(
        request,
        "task.html",
        {
            "task": TaskPublic.of(task, case, now=now),
            "case": CasePublic.of_detail(detail),
            "form": form,
            "values": values,
            "beside": beside,
            "general": general,
            "zone": zone.key,
            "choices": _agency_choices(session, form) if task.status == TaskStatus.open else {},
            "own_shelter": _own_shelter(session, agency, kind),
            "key": values.get("idempotency_key") or new_key(),
            "done": request.query_params.get("done") == "1",
        },
        status_code=status_code,
    )


def _agency_choices(session: SessionDep, form: Any) -> dict[str, list[AgencyPublic]]:
    """The agencies a plan may name, by field; shelters with their places taken."""
    kinds = {f.name: f.agency_kind for f in form.fields if f.input == Input.agency}
    if not kinds:
        return {}
    agencies = list_agencies(session)
    taken = occupancy(session, [a.id for a in agencies if a.kind == AgencyKind.shelter])
    return {
        name: [AgencyPublic.of(a, occupancy=taken.get(a.id)) for a in agencies if a.kind == kind]
        for name, kind in kinds.items()
    }


def _own_shelter(session: SessionDep, agency: Any, kind: TaskKind) -> AgencyPublic | None:
    """A shelter deciding on a placement or transfer sees its own places and capacity."""
    if kind not in (TaskKind.accept_placement, TaskKind.accept_transfer):
        return None
    return AgencyPublic.of(agency, occupancy=occupancy(session, [agency.id])[agency.id])


@router.get("/cases/{key}/tasks/{kind}")
def task_named_in_a_notification(
    key: str, kind: str, visitor: VisitorDep, session: SessionDep
) -> Response:
    """A notification's link: the agency's task of this kind on the case."""
    case_id = case_in_path(session, key)
    try:
        task = latest_task_of_kind(session, user=visitor.user, case_id=case_id, kind=TaskKind(kind))
    except ValueError:  # not a task kind
        raise NotFound("no such task") from None
    return RedirectResponse(f"/tasks/{task.id}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/tasks/{task_id}")
async def complete_from_page(
    request: Request,
    task_id: uuid.UUID,
    visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    wake: WakerDep,
    address: ClientAddress,
) -> Response:
    submitted = await submitted_form(request, visitor)
    location = f"/tasks/{task_id}?done=1"
    try:
        claim = claim_form(
            session,
            settings,
            user_id=visitor.user.id,
            route="/tasks/{task_id}",
            path=request.url.path,
            form=submitted,
        )
        if isinstance(claim, StoredAnswer):
            return RedirectResponse(replayed_location(claim), status_code=status.HTTP_303_SEE_OTHER)
        task, case = get_task_for(session, user=visitor.user, task_id=task_id)
        agency = get_agency(session, visitor.user.agency_id)
        body = completion_body(FORMS[TaskKind(task.kind)], submitted, time_zone(agency.country))
        task, case = complete_task(
            session,
            user=visitor.user,
            task_id=task_id,
            body=body,
            policy=policy_for(settings),
            now=utcnow(),
            address=address,
        )
        remember_location(session, claim, location, case.id)
        session.commit()
    except Invalid as refusal:
        session.rollback()
        return _task_page(
            request,
            session,
            visitor,
            task_id,
            address,
            submitted=submitted,
            problems=refusal.problems,
            status_code=422,
        )
    except Conflict as conflict:
        session.rollback()
        return _conflict_page(request, session, visitor, task_id, conflict)
    wake_now(session, settings, wake, case.id)
    return RedirectResponse(location, status_code=status.HTTP_303_SEE_OTHER)


def _conflict_page(
    request: Request,
    session: SessionDep,
    visitor: Visitor,
    task_id: uuid.UUID,
    conflict: Conflict,
) -> Response:
    """Someone else decided first, or the case moved on: say so, and link to where it
    stands now."""
    task, case = get_task_for(session, user=visitor.user, task_id=task_id)
    return page(
        request,
        "conflict.html",
        {"detail": conflict.detail, "task": task, "case_reference": case.reference},
        status_code=status.HTTP_409_CONFLICT,
    )

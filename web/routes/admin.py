"""The administrator's pages: agencies, user accounts, failed notifications, corridors.

Each page calls the domain function the JSON API's route calls (and the admin check is the
API's own, `domain.access.require_admin`); nothing here decides who may do what. An
agency's notification URLs are write-only: a page says whether it has any, never which,
and a refused form gives them back empty, as it does a password."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from api.deps import ClientAddress, SessionDep, SettingsDep
from api.schemas import AgencyPublic, UserPublic
from core.clock import utcnow
from core.errors import Conflict, Invalid
from core.validation import validation_problems
from domain.access import require_admin
from domain.agencies import (
    NewAgency,
    NewUser,
    create_agency,
    create_user,
    deactivate_user,
    list_agencies,
    list_users,
)
from domain.corridors import Corridor, corridors_for
from domain.idempotency import StoredAnswer
from domain.notifications import list_notifications, retry_notification
from domain.shelters import occupancy
from models.enums import AgencyKind, NotificationStatus, Role
from web.forms import problems_by_field
from web.once import claim_form, new_key, remember_location, replayed_location
from web.render import page
from web.routes.cases import COUNTRIES
from web.session import Visitor, VisitorDep, submitted_form

router = APIRouter(prefix="/admin", include_in_schema=False)


def admin_visitor(visitor: VisitorDep) -> Visitor:
    require_admin(visitor.user)
    return visitor


AdminDep = Annotated[Visitor, Depends(admin_visitor)]

AGENCY_FIELDS = (
    "name",
    "kind",
    "country",
    "nationality_served",
    "capacity",
    "language",
    "notify_urls",
    "escorts_children",
    "female_escorts",
    "accepts_children",
)
_AGENCY_CHECKBOXES = frozenset({"escorts_children", "female_escorts", "accepts_children"})
USER_FIELDS = ("username", "password", "agency_id", "role")
# Never typed back into a page: they hold credentials.
_WRITE_ONLY = frozenset({"notify_urls", "password"})

# The success notices a list page shows after a redirect, by the `done` query parameter.
_DONE = frozenset({"agency", "user", "deactivated", "retried"})


def _kept(submitted: Mapping[str, str]) -> dict[str, str]:
    """What a refused form shows again: everything typed but the write-only fields."""
    return {k: v for k, v in submitted.items() if k not in _WRITE_ONLY}


def _done(request: Request) -> str | None:
    done = request.query_params.get("done")
    return done if done in _DONE else None


def _redirect(location: str) -> Response:
    return RedirectResponse(location, status_code=status.HTTP_303_SEE_OTHER)


@router.get("")
def overview(request: Request, visitor: AdminDep) -> Response:
    return page(request, "admin_overview.html")


# Agencies


def new_agency_body(form: Mapping[str, str]) -> dict[str, Any]:
    """The JSON body of `POST /api/v1/agencies` a form stands for: empty fields left out,
    one notification URL a line, each box true only when ticked."""
    body: dict[str, Any] = {}
    for name in AGENCY_FIELDS:
        value = (form.get(name) or "").strip()
        if name in _AGENCY_CHECKBOXES:
            body[name] = value == "yes"
        elif name == "notify_urls":
            body[name] = [line.strip() for line in value.splitlines() if line.strip()]
        elif value:
            body[name] = value
    return body


def _agencies_page(
    request: Request,
    session: SessionDep,
    submitted: Mapping[str, str],
    problems: list[str],
    *,
    status_code: int = 200,
) -> Response:
    found = list_agencies(session)
    taken = occupancy(session, [a.id for a in found if a.kind == AgencyKind.shelter])
    beside, general = problems_by_field(problems, set(AGENCY_FIELDS))
    return page(
        request,
        "admin_agencies.html",
        {
            "agencies": [AgencyPublic.of(a, occupancy=taken.get(a.id)) for a in found],
            "values": _kept(submitted),
            "urls_dropped": bool((submitted.get("notify_urls") or "").strip()),
            "beside": beside,
            "general": general,
            "kinds": list(AgencyKind),
            "countries": COUNTRIES,
            "key": submitted.get("idempotency_key") or new_key(),
            "done": _done(request),
        },
        status_code=status_code,
    )


@router.get("/agencies")
def agencies_page(request: Request, visitor: AdminDep, session: SessionDep) -> Response:
    return _agencies_page(request, session, {}, [])


@router.post("/agencies")
async def register_agency(
    request: Request,
    visitor: AdminDep,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> Response:
    submitted = await submitted_form(request, visitor)
    try:
        data = NewAgency.model_validate(new_agency_body(submitted))
    except ValidationError as error:
        problems = validation_problems(error.errors(include_input=False))
        return _agencies_page(request, session, submitted, problems, status_code=422)
    try:
        claim = claim_form(
            session,
            settings,
            user_id=visitor.user.id,
            route="/admin/agencies",
            path=request.url.path,
            form=submitted,
        )
        if isinstance(claim, StoredAnswer):
            return _redirect(replayed_location(claim))
        create_agency(session, data=data, now=utcnow(), actor=visitor.user, address=address)
        location = "/admin/agencies?done=agency"
        remember_location(session, claim, location, None)
        session.commit()
    except Invalid as refusal:
        session.rollback()
        return _agencies_page(request, session, submitted, refusal.problems, status_code=422)
    return _redirect(location)


# Users


def _agency_filter(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _users_page(
    request: Request,
    session: SessionDep,
    submitted: Mapping[str, str],
    problems: list[str],
    *,
    status_code: int = 200,
) -> Response:
    agencies = list_agencies(session)
    shown_agency = _agency_filter(request.query_params.get("agency"))
    users = list_users(session, agency_id=shown_agency)
    beside, general = problems_by_field(problems, set(USER_FIELDS))
    values = _kept(submitted)
    if shown_agency is not None and "agency_id" not in values:
        values["agency_id"] = str(shown_agency)
    return page(
        request,
        "admin_users.html",
        {
            "users": [UserPublic.of(u) for u in users],
            "agencies": [AgencyPublic.of(a) for a in agencies],
            "agency_names": {a.id: a.name for a in agencies},
            "shown_agency": shown_agency,
            "roles": list(Role),
            "values": values,
            "beside": beside,
            "general": general,
            "key": submitted.get("idempotency_key") or new_key(),
            "done": _done(request),
        },
        status_code=status_code,
    )


@router.get("/users")
def users_page(request: Request, visitor: AdminDep, session: SessionDep) -> Response:
    return _users_page(request, session, {}, [])


@router.post("/users")
async def register_user(
    request: Request, visitor: AdminDep, session: SessionDep, settings: SettingsDep
) -> Response:
    submitted = await submitted_form(request, visitor)
    body = {name: submitted[name] for name in USER_FIELDS if submitted.get(name)}
    try:
        data = NewUser.model_validate(body)
    except ValidationError as error:
        problems = validation_problems(error.errors(include_input=False))
        return _users_page(request, session, submitted, problems, status_code=422)
    try:
        claim = claim_form(
            session,
            settings,
            user_id=visitor.user.id,
            route="/admin/users",
            path=request.url.path,
            form=submitted,
        )
        if isinstance(claim, StoredAnswer):
            return _redirect(replayed_location(claim))
        user = create_user(session, data=data, now=utcnow(), actor=visitor.user)
        location = f"/admin/users?agency={user.agency_id}&done=user"
        remember_location(session, claim, location, None)
        session.commit()
    except Invalid as refusal:
        session.rollback()
        return _users_page(request, session, submitted, refusal.problems, status_code=422)
    except Conflict as taken:
        session.rollback()
        return _users_page(
            request, session, submitted, [f"username: {taken.detail}"], status_code=409
        )
    return _redirect(location)


@router.post("/users/{user_id}/deactivate")
async def deactivate(
    request: Request, user_id: uuid.UUID, visitor: AdminDep, session: SessionDep
) -> Response:
    await submitted_form(request, visitor)
    user = deactivate_user(session, user_id=user_id, actor=visitor.user, now=utcnow())
    session.commit()
    return _redirect(f"/admin/users?agency={user.agency_id}&done=deactivated")


# Notifications


@router.get("/notifications")
def notifications_page(
    request: Request,
    visitor: AdminDep,
    session: SessionDep,
    notification_status: NotificationStatus | None = None,
) -> Response:
    found = list_notifications(session, user=visitor.user, status=notification_status)
    return page(
        request,
        "admin_notifications.html",
        {
            "notifications": found,
            "statuses": list(NotificationStatus),
            "shown_status": notification_status.value if notification_status else "",
            "done": _done(request),
        },
    )


@router.post("/notifications/{notification_id}/retry")
async def retry(
    request: Request,
    notification_id: uuid.UUID,
    visitor: AdminDep,
    session: SessionDep,
    address: ClientAddress,
) -> Response:
    await submitted_form(request, visitor)
    retry_notification(
        session,
        user=visitor.user,
        notification_id=notification_id,
        now=utcnow(),
        address=address,
    )
    session.commit()
    return _redirect("/admin/notifications?done=retried")


# Corridors


def allowance(value: timedelta) -> str:
    """A deadline as the corridor file writes it: 90d, 12h, 30m or 45s."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _corridor_row(corridor: Corridor) -> dict[str, Any]:
    return {
        "name": corridor.name,
        "origin": corridor.origin,
        "destination": corridor.destination,
        "deadlines": [(kind, allowance(d)) for kind, d in corridor.deadlines.items()],
        "follow_up_days": ", ".join(str(d) for d in corridor.follow_up_days),
        "placement_required": corridor.placement_required,
        "required_documents": [str(d) for d in corridor.required_documents],
        "female_escort_for_girls": corridor.female_escort_for_girls,
        "escalation_agency": corridor.escalation_agency,
    }


@router.get("/corridors")
def corridors_page(request: Request, visitor: AdminDep, settings: SettingsDep) -> Response:
    loaded = corridors_for(settings)
    routes = sorted(loaded.routes.values(), key=lambda c: (c.origin, c.destination))
    return page(
        request,
        "admin_corridors.html",
        {
            "source": loaded.source,
            "default": _corridor_row(loaded.default),
            "corridors": [_corridor_row(c) for c in routes],
        },
    )

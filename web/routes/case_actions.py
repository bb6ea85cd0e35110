"""What the coordinator and the shelters do on a case besides its tasks: legal holds,
consent, reopening a closed case, and shelter transfers.

Each form becomes the JSON API's body and goes to the same domain function as the API
route, which validates it and decides who may do it; the request's unit of work wakes the
case after the commit, as for the API. The pages only choose which forms to show, by the predicates
of domain.access that the domain functions ask too."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import ClientAddress, SessionDep, SettingsDep
from api.schemas import AgencyPublic, CasePublic, LegalHoldPublic
from core.clock import utcnow
from core.errors import Conflict, Invalid
from core.settings import Settings
from core.validation import validation_problems
from domain.access import records_consent, reopens_case, transfers_survivor
from domain.agencies import list_agencies
from domain.cases import CaseDetail, case_detail
from domain.closure import reopen_case
from domain.consent import ConsentChange, change_consent
from domain.holds import holds_of, place_hold, release_hold
from domain.idempotency import StoredAnswer
from domain.payloads import HoldReleaseIn, NewHold, NewTransfer, Reopening
from domain.policy import policy_for
from domain.shelters import occupancy
from domain.transfers import request_transfer, revoke_transfer
from models.enums import AgencyKind
from web.forms import Field, Input, problems_by_field
from web.once import claim_form, new_key, remember_location, replayed_location
from web.paths import case_in_path
from web.render import page
from web.session import Visitor, VisitorDep, submitted_form
from web.words import N_, WORDS

router = APIRouter(include_in_schema=False)

HOLD_FIELDS = (
    Field(
        "court_case_reference",
        N_("Court case reference"),
        help=N_("As the court or the police wrote it; kept in the hold record only."),
        max_length=64,
    ),
    Field("reason", N_("Why the survivor must stay"), Input.choice, choices=WORDS["hold_reason"]),
)
RELEASE_FIELDS = (
    Field("basis", N_("Why the hold ends"), Input.choice, choices=WORDS["hold_release"]),
    Field(
        "permission_reference",
        N_("The court's permission"),
        required=False,
        help=N_("Its order number; needed when the court gave permission."),
        max_length=64,
    ),
)
REOPEN_FIELDS = (
    Field(
        "reason", N_("Why the case is taken up again"), Input.choice, choices=WORDS["reopen_reason"]
    ),
    Field(
        "note",
        N_("Note"),
        Input.long_text,
        required=False,
        help=N_("Kept in the case record; never sent in a notification."),
        max_length=500,
    ),
)
TRANSFER_FIELDS = (
    Field(
        "to_shelter_id",
        N_("Shelter to take the survivor in"),
        Input.agency,
        agency_kind=AgencyKind.shelter,
        help=N_("Places taken and capacity are shown beside each shelter."),
    ),
    Field(
        "reason",
        N_("Why the survivor should move"),
        Input.long_text,
        help=N_("The receiving shelter reads it with its task."),
        max_length=500,
    ),
)
PURPOSES = (
    ("repatriation", N_("Repatriation: to go home")),
    ("data_sharing", N_("Sharing their details with the agencies that need them")),
    ("follow_up", N_("Follow-up visits after coming home")),
)
# A consent form's answer per purpose, as the API's body says it.
_ANSWERS = {"give": True, "withdraw": False}


def _body(fields: tuple[Field, ...], submitted: Mapping[str, str]) -> dict[str, str]:
    """The JSON body a form stands for: its filled-in fields (an empty one is left out, so
    that the domain names it if it is required)."""
    body = {}
    for spec in fields:
        value = (submitted.get(spec.name) or "").strip()
        if value:
            body[spec.name] = value
    return body


def _refusal(error: ValidationError) -> list[str]:
    return validation_problems(error.errors(include_input=False))


def _see(location: str) -> Response:
    return RedirectResponse(location, status_code=status.HTTP_303_SEE_OTHER)


def _detail(
    session: Session, visitor: Visitor, case_id: uuid.UUID, address: str | None
) -> CaseDetail:
    return case_detail(session, user=visitor.user, case_id=case_id, now=utcnow(), address=address)


def _act(
    request: Request,
    session: Session,
    settings: Settings,
    visitor: Visitor,
    *,
    route: str,
    submitted: dict[str, str],
    case_id: uuid.UUID,
    key: str,
    done: str,
    do: Callable[[], object],
    refused: Callable[[list[str]], Response],
) -> Response:
    """Claim the form's key, act through the domain, commit (the session's unit of work
    wakes the case) and go back to its page; a refusal re-renders the form (422), a
    conflict says what happened (409)."""
    location = f"/cases/{key}?done={done}"
    try:
        claim = claim_form(
            session,
            settings,
            user_id=visitor.user.id,
            route=route,
            path=request.url.path,
            form=submitted,
        )
        if isinstance(claim, StoredAnswer):
            return _see(replayed_location(claim))
        do()
        remember_location(session, claim, location, case_id)
        session.commit()
    except Invalid as refusal:
        session.rollback()
        return refused(refusal.problems)
    except Conflict as conflict:
        session.rollback()
        return page(
            request,
            "conflict.html",
            {"detail": conflict.detail, "case_reference": key},
            status_code=status.HTTP_409_CONFLICT,
        )
    return _see(location)


def _form_context(
    fields: tuple[Field, ...], submitted: Mapping[str, str] | None, problems: list[str] | None
) -> dict[str, Any]:
    values = dict(submitted or {})
    beside, general = problems_by_field(problems or [], {f.name for f in fields})
    return {
        "values": values,
        "beside": beside,
        "general": general,
        "key": values.get("idempotency_key") or new_key(),
    }


# --- legal holds ---------------------------------------------------------------------


@router.get("/cases/{key}/holds")
def holds_page(
    request: Request, key: str, visitor: VisitorDep, session: SessionDep, address: ClientAddress
) -> Response:
    return _holds_page(request, session, visitor, key, address)


def _holds_page(
    request: Request,
    session: Session,
    visitor: Visitor,
    key: str,
    address: str | None,
    *,
    form: str | None = None,
    submitted: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    """The case's holds, the form to place one and the form to release the active one;
    `form` names the one that was sent, to show its problems and what was typed."""
    case_id = case_in_path(session, key)
    detail = _detail(session, visitor, case_id, address)
    holds = holds_of(session, user=visitor.user, case_id=case_id, now=utcnow(), address=address)
    session.commit()
    place = _form_context(HOLD_FIELDS, submitted, problems) if form == "place" else None
    release = _form_context(RELEASE_FIELDS, submitted, problems) if form == "release" else None
    return page(
        request,
        "case_holds.html",
        {
            "case": CasePublic.of_detail(detail),
            "holds": [LegalHoldPublic.model_validate(h) for h in holds],
            "active": next((h for h in holds if h.released_at is None), None),
            "hold_fields": HOLD_FIELDS,
            "release_fields": RELEASE_FIELDS,
            "place": place or _form_context(HOLD_FIELDS, None, None),
            "release": release or _form_context(RELEASE_FIELDS, None, None),
        },
        status_code=status_code,
    )


@router.post("/cases/{key}/holds")
async def place_hold_from_page(
    request: Request,
    key: str,
    visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> Response:
    submitted = await submitted_form(request, visitor)
    case_id = case_in_path(session, key)

    def refused(problems: list[str]) -> Response:
        return _holds_page(
            request,
            session,
            visitor,
            key,
            address,
            form="place",
            submitted=submitted,
            problems=problems,
            status_code=422,
        )

    try:
        data = NewHold.model_validate(_body(HOLD_FIELDS, submitted))
    except ValidationError as error:
        return refused(_refusal(error))
    return _act(
        request,
        session,
        settings,
        visitor,
        route="/cases/{key}/holds",
        submitted=submitted,
        case_id=case_id,
        key=key,
        done="hold_placed",
        do=lambda: place_hold(
            session, user=visitor.user, case_id=case_id, data=data, now=utcnow(), address=address
        ),
        refused=refused,
    )


@router.post("/cases/{key}/holds/{hold_id}/release")
async def release_hold_from_page(
    request: Request,
    key: str,
    hold_id: uuid.UUID,
    visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> Response:
    submitted = await submitted_form(request, visitor)
    case_id = case_in_path(session, key)

    def refused(problems: list[str]) -> Response:
        return _holds_page(
            request,
            session,
            visitor,
            key,
            address,
            form="release",
            submitted=submitted,
            problems=problems,
            status_code=422,
        )

    try:
        data = HoldReleaseIn.model_validate(_body(RELEASE_FIELDS, submitted))
    except ValidationError as error:
        return refused(_refusal(error))
    return _act(
        request,
        session,
        settings,
        visitor,
        route="/cases/{key}/holds/{hold_id}/release",
        submitted=submitted,
        case_id=case_id,
        key=key,
        done="hold_released",
        do=lambda: release_hold(
            session,
            user=visitor.user,
            case_id=case_id,
            hold_id=hold_id,
            data=data,
            now=utcnow(),
            address=address,
        ),
        refused=refused,
    )


# --- consent -------------------------------------------------------------------------


@router.get("/cases/{key}/consent")
def consent_page(
    request: Request, key: str, visitor: VisitorDep, session: SessionDep, address: ClientAddress
) -> Response:
    return _consent_page(request, session, visitor, key, address)


def _consent_page(
    request: Request,
    session: Session,
    visitor: Visitor,
    key: str,
    address: str | None,
    *,
    submitted: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    detail = _detail(session, visitor, case_in_path(session, key), address)
    session.commit()
    names = {name for name, _ in PURPOSES}
    values = dict(submitted or {})
    beside, general = problems_by_field(problems or [], names)
    return page(
        request,
        "case_consent.html",
        {
            "case": CasePublic.of_detail(detail),
            "allowed": records_consent(detail.case, visitor.user),
            "purposes": PURPOSES,
            "values": values,
            "beside": beside,
            "general": general,
            "key": values.get("idempotency_key") or new_key(),
        },
        status_code=status_code,
    )


def consent_body(submitted: Mapping[str, str]) -> dict[str, object]:
    """The JSON body of `POST /api/v1/cases/{id}/consent` a consent form stands for: each
    purpose given (true) or withdrawn (false); a purpose left unchanged is left out."""
    body: dict[str, object] = {}
    for name, _ in PURPOSES:
        value = (submitted.get(name) or "").strip()
        if value:
            body[name] = _ANSWERS.get(value, value)
    return body


@router.post("/cases/{key}/consent")
async def consent_from_page(
    request: Request,
    key: str,
    visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> Response:
    submitted = await submitted_form(request, visitor)
    case_id = case_in_path(session, key)

    def refused(problems: list[str]) -> Response:
        return _consent_page(
            request,
            session,
            visitor,
            key,
            address,
            submitted=submitted,
            problems=problems,
            status_code=422,
        )

    try:
        change = ConsentChange.model_validate(consent_body(submitted))
    except ValidationError as error:
        return refused(_refusal(error))
    return _act(
        request,
        session,
        settings,
        visitor,
        route="/cases/{key}/consent",
        submitted=submitted,
        case_id=case_id,
        key=key,
        done="consent_recorded",
        do=lambda: change_consent(
            session,
            user=visitor.user,
            case_id=case_id,
            change=change,
            now=utcnow(),
            address=address,
        ),
        refused=refused,
    )


# --- reopening -----------------------------------------------------------------------


@router.get("/cases/{key}/reopen")
def reopen_page(
    request: Request, key: str, visitor: VisitorDep, session: SessionDep, address: ClientAddress
) -> Response:
    return _reopen_page(request, session, visitor, key, address)


def _reopen_page(
    request: Request,
    session: Session,
    visitor: Visitor,
    key: str,
    address: str | None,
    *,
    submitted: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    detail = _detail(session, visitor, case_in_path(session, key), address)
    session.commit()
    return page(
        request,
        "case_reopen.html",
        {
            "case": CasePublic.of_detail(detail),
            "allowed": reopens_case(detail.case, visitor.user),
            "fields": REOPEN_FIELDS,
            **_form_context(REOPEN_FIELDS, submitted, problems),
        },
        status_code=status_code,
    )


@router.post("/cases/{key}/reopen")
async def reopen_from_page(
    request: Request,
    key: str,
    visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> Response:
    submitted = await submitted_form(request, visitor)
    case_id = case_in_path(session, key)

    def refused(problems: list[str]) -> Response:
        return _reopen_page(
            request,
            session,
            visitor,
            key,
            address,
            submitted=submitted,
            problems=problems,
            status_code=422,
        )

    try:
        data = Reopening.model_validate(_body(REOPEN_FIELDS, submitted))
    except ValidationError as error:
        return refused(_refusal(error))
    return _act(
        request,
        session,
        settings,
        visitor,
        route="/cases/{key}/reopen",
        submitted=submitted,
        case_id=case_id,
        key=key,
        done="reopened",
        do=lambda: reopen_case(
            session, user=visitor.user, case_id=case_id, data=data, now=utcnow(), address=address
        ),
        refused=refused,
    )


# --- transfers -----------------------------------------------------------------------


@router.get("/cases/{key}/transfers/new")
def transfer_page(
    request: Request, key: str, visitor: VisitorDep, session: SessionDep, address: ClientAddress
) -> Response:
    return _transfer_page(request, session, visitor, key, address)


def _transfer_page(
    request: Request,
    session: Session,
    visitor: Visitor,
    key: str,
    address: str | None,
    *,
    submitted: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    detail = _detail(session, visitor, case_in_path(session, key), address)
    allowed = transfers_survivor(detail.case, visitor.user)
    shelters = (
        [a for a in list_agencies(session) if a.kind == AgencyKind.shelter] if allowed else []
    )
    taken = occupancy(session, [a.id for a in shelters]) if shelters else {}
    session.commit()
    choices = {
        "to_shelter_id": [
            AgencyPublic.of(a, occupancy=taken.get(a.id))
            for a in shelters
            if a.id != visitor.agency_id
        ]
    }
    return page(
        request,
        "case_transfer.html",
        {
            "case": CasePublic.of_detail(detail),
            "allowed": allowed,
            "fields": TRANSFER_FIELDS,
            "choices": choices,
            "revoke_key": new_key(),
            **_form_context(TRANSFER_FIELDS, submitted, problems),
        },
        status_code=status_code,
    )


@router.post("/cases/{key}/transfers")
async def transfer_from_page(
    request: Request,
    key: str,
    visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> Response:
    submitted = await submitted_form(request, visitor)
    case_id = case_in_path(session, key)

    def refused(problems: list[str]) -> Response:
        return _transfer_page(
            request,
            session,
            visitor,
            key,
            address,
            submitted=submitted,
            problems=problems,
            status_code=422,
        )

    try:
        data = NewTransfer.model_validate(_body(TRANSFER_FIELDS, submitted))
    except ValidationError as error:
        return refused(_refusal(error))
    return _act(
        request,
        session,
        settings,
        visitor,
        route="/cases/{key}/transfers",
        submitted=submitted,
        case_id=case_id,
        key=key,
        done="transfer_requested",
        do=lambda: request_transfer(
            session,
            user=visitor.user,
            case_id=case_id,
            data=data,
            policy=policy_for(settings),
            now=utcnow(),
            address=address,
        ),
        refused=refused,
    )


@router.post("/cases/{key}/transfers/revoke")
async def revoke_transfer_from_page(
    request: Request,
    key: str,
    visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> Response:
    submitted = await submitted_form(request, visitor)
    case_id = case_in_path(session, key)
    return _act(
        request,
        session,
        settings,
        visitor,
        route="/cases/{key}/transfers/revoke",
        submitted=submitted,
        case_id=case_id,
        key=key,
        done="transfer_revoked",
        do=lambda: revoke_transfer(
            session, user=visitor.user, case_id=case_id, now=utcnow(), address=address
        ),
        refused=lambda problems: _transfer_page(
            request, session, visitor, key, address, problems=problems, status_code=422
        ),
    )

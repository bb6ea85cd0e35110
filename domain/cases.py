"""Launching cases and reading them as a given agency may."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import exists
from sqlmodel import Session, col, select

from core.clock import age_on
from core.errors import Forbidden, Invalid, NotFound
from domain.access import (
    View,
    case_visible_to,
    launches_cases,
    reads_audit,
    reads_cases,
    survivor_fields,
    view_for,
)
from domain.audit import Action, audit_trail, record_audit
from domain.duplicates import flag_likely_duplicates
from domain.events import record_event
from domain.facts import active_hold
from domain.notifications import NotificationState, undelivered_for_case
from domain.paging import DEFAULT_LIMIT, Page, SortKey, after, decode_cursor, page_from, page_size
from domain.payloads import NewCase
from domain.policy import Policy
from domain.wakes import request_wake
from models import Agency, AuditEntry, Case, Event, Survivor, Task, User
from models.enums import (
    CaseStatus,
    DocumentKind,
    NotificationStatus,
    Role,
    Stage,
    TaskKind,
    TaskStatus,
)

# No 0/O, 1/I/L: references are read aloud on the phone between agencies.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference() -> str:
    code = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"HW-{code[:4]}-{code[4:]}"


# Looked up by shape, not by today's alphabet: no stored reference becomes unreachable
# should the alphabet change.
_REFERENCE_SHAPE = re.compile(r"HW-[A-Z0-9]{4}-[A-Z0-9]{4}")
REFERENCE_EXAMPLE = "HW-533K-VTNF"
_UUID = TypeAdapter(uuid.UUID)
# The id of no case: what a reference of no case resolves to.
NO_CASE = uuid.UUID(int=0)


def case_reference(text: str) -> str:
    """A case reference as stored (upper case), from one typed in any letter case."""
    reference = text.upper()
    if _REFERENCE_SHAPE.fullmatch(reference) is None:
        raise Invalid(f"reference: must be a case reference such as {REFERENCE_EXAMPLE}")
    return reference


def case_id_for(session: Session, key: str) -> uuid.UUID:
    """The id of the case that `key`, a case id or a reference in any letter case, names.

    This decides nothing about access: the caller applies its own rule to the id, exactly
    as to an id given directly. A reference of no case gives the id of no case, so that it
    is answered exactly as an unknown id is, never revealing which references exist."""
    try:
        return _UUID.validate_python(key)
    except ValidationError:
        pass
    reference = key.upper()
    if _REFERENCE_SHAPE.fullmatch(reference) is None:
        raise Invalid(
            "case_id: must be a UUID such as 123e4567-e89b-42d3-a456-426614174000 "
            f"or a case reference such as {REFERENCE_EXAMPLE}"
        )
    found = session.exec(select(Case.id).where(Case.reference == reference)).first()
    return found if found is not None else NO_CASE


# A decision normally reaches the case's flow run in about two seconds; one still waiting
# after this long is shown as waiting to resume (Prefect down or busy; the sweeper retries).
RESUME_EXPECTED_WITHIN = timedelta(seconds=5)


def waiting_to_resume(case: Case, now: datetime) -> bool:
    """Whether a recorded decision has waited longer than usual for the case's flow run."""
    requested = case.wake_requested_at
    return requested is not None and now - requested > RESUME_EXPECTED_WITHIN


def launch_case(
    session: Session,
    *,
    user: User,
    data: NewCase,
    policy: Policy,
    now: datetime,
    address: str | None = None,
) -> CaseDetail:
    """Record a new case for the user's NGO and return it as the launcher sees it; the flow
    run is started after commit."""
    if not launches_cases(user):
        raise Forbidden("only a coordinator can launch a case")
    person = data.survivor
    survivor = Survivor(**person.model_dump())
    session.add(survivor)
    session.flush()
    age = age_on(person.birth_date, now.date()) if person.birth_date else person.age_estimate
    case = Case(
        reference=_unused_reference(session),
        survivor_id=survivor.id,
        coordinator_agency_id=user.agency_id,
        created_by_user_id=user.id,
        current_country=data.current_country,
        trafficking_status=data.trafficking_status,
        consent_repatriation=data.consent.repatriation,
        consent_data_sharing=data.consent.data_sharing,
        consent_follow_up=data.consent.follow_up,
        is_minor=age is not None and age < 18,
        created_at=now,
        updated_at=now,
    )
    request_wake(session, case, now)  # the case's flow run starts after the commit
    session.flush()
    record_event(
        session,
        case,
        "case_launched",
        at=now,
        actor_user_id=user.id,
        actor_agency_id=user.agency_id,
    )
    flag_likely_duplicates(session, case, survivor, policy=policy, now=now)
    detail = _detail_of(session, case, user, now)
    _audit_survivor_read(session, Action.launch_case, detail, user=user, now=now, address=address)
    return detail


def _unused_reference(session: Session) -> str:
    for _ in range(10):
        reference = new_reference()
        if session.exec(select(Case.id).where(Case.reference == reference)).first() is None:
            return reference
    raise RuntimeError("could not draw an unused case reference")


def _readable(user: User) -> None:
    if not reads_cases(user):
        raise Forbidden("administrators manage agencies and users; they do not read cases")


_CORRIDOR = re.compile(r"^([A-Za-z]{2})\s*[->]\s*([A-Za-z]{2})$")


def corridor_codes(corridor: str) -> tuple[str, str]:
    """("IN", "BD") for "IN-BD" (or "in>bd"): where the survivor is, and home."""
    found = _CORRIDOR.match(corridor.strip())
    if found is None:
        raise Invalid(
            "corridor: give the country where the survivor is and the home country as two "
            "ISO 3166 codes, e.g. IN-BD"
        )
    return found.group(1).upper(), found.group(2).upper()


CASES_SORT = SortKey([col(Case.created_at), col(Case.id)], descending=True)


def list_cases_for(
    session: Session,
    *,
    user: User,
    now: datetime,
    overdue: bool | None = None,
    reference: str | None = None,
    stage: Stage | None = None,
    status: CaseStatus | None = None,
    blocked: bool | None = None,
    corridor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    address: str | None = None,
) -> Page[Case]:
    """A page of the cases the user's agency takes part in, newest first; `overdue` keeps
    those with (or without) an open task past its deadline, `reference` (any letter case)
    the one case it names, `stage` and `status` those where the case is, `blocked` those
    the workflow cannot move on (or can), `corridor` ("IN-BD") those from one country to one
    home country. `cursor` (from the previous page) starts the page after the last case that
    page returned."""
    _readable(user)
    size = page_size(limit)
    query = (
        select(Case)
        .where(case_visible_to(user.agency_id))
        .order_by(*(c.desc() for c in CASES_SORT.columns))
    )
    if reference is not None:
        query = query.where(Case.reference == case_reference(reference))
    if stage is not None:
        query = query.where(Case.stage == stage)
    if status is not None:
        query = query.where(Case.status == status)
    if blocked is not None:
        reason = col(Case.blocked_reason)
        query = query.where(reason.is_not(None) if blocked else reason.is_(None))
    if corridor is not None:
        origin, home = corridor_codes(corridor)
        query = query.where(
            Case.current_country == origin,
            exists().where(
                col(Survivor.id) == col(Case.survivor_id), col(Survivor.nationality) == home
            ),
        )
    if overdue is not None:
        late = exists().where(
            col(Task.case_id) == col(Case.id),
            col(Task.status) == TaskStatus.open,
            col(Task.due_at) < now,
        )
        query = query.where(late if overdue else ~late)
    if cursor is not None:
        query = query.where(
            after(CASES_SORT, decode_cursor("cases", cursor, [datetime, uuid.UUID]))
        )
    page = page_from(
        list(session.exec(query.limit(size + 1)).all()),
        limit=size,
        list_name="cases",
        key_of=lambda c: (c.created_at, c.id),
    )
    # One entry for the listing, not one per case: a list carries no survivor fields.
    record_audit(
        session,
        action=Action.list_cases,
        at=now,
        user=user,
        address=address,
        count=len(page.items),
    )
    session.flush()
    return page


def get_case_for(session: Session, *, user: User, case_id: uuid.UUID) -> Case:
    _readable(user)
    case = session.exec(
        select(Case).where(Case.id == case_id, case_visible_to(user.agency_id))
    ).first()
    if case is None:
        raise NotFound("no such case")
    return case


@dataclass(frozen=True)
class CaseDetail:
    case: Case
    view: View
    survivor: dict[str, Any] | None
    undelivered_notifications: int
    # Failed, or still being retried after a first attempt that missed a target.
    undelivered: list[NotificationState] = field(default_factory=list)
    legal_hold: bool = False
    waiting_to_resume: bool = False


def case_detail(
    session: Session,
    *,
    user: User,
    case_id: uuid.UUID,
    now: datetime,
    address: str | None = None,
) -> CaseDetail:
    """One case as the user's agency may see it; the read is audited."""
    case = get_case_for(session, user=user, case_id=case_id)
    detail = _detail_of(session, case, user, now)
    _audit_survivor_read(session, Action.read_case, detail, user=user, now=now, address=address)
    return detail


def _detail_of(session: Session, case: Case, user: User, now: datetime) -> CaseDetail:
    view = view_for(session, case, user)
    survivor = survivor_fields(
        session.get_one(Survivor, case.survivor_id),
        view,
        today=now.date(),
        purged=case.purged_at is not None,
    )
    full = view == View.full
    # Only the coordinating NGO (full view) follows which agencies were not reached.
    notices = undelivered_for_case(session, case_id=case.id) if full else []
    failed = sum(n.status == NotificationStatus.failed for n in notices)
    hold = full and active_hold(session, case.id) is not None
    return CaseDetail(case, view, survivor, failed, notices, hold, waiting_to_resume(case, now))


def _audit_survivor_read(
    session: Session,
    action: Action,
    detail: CaseDetail,
    *,
    user: User,
    now: datetime,
    address: str | None,
) -> None:
    """Record which survivor fields left with the case: their names, never their values."""
    disclosed = sorted(k for k, v in (detail.survivor or {}).items() if v is not None)
    record_audit(
        session,
        action=action,
        at=now,
        user=user,
        case_id=detail.case.id,
        address=address,
        view=detail.view,
        fields=disclosed,
    )
    session.flush()


@dataclass(frozen=True)
class TimelineEntry:
    """One event and who acted: the agency by name and the user by role. The user's name
    is shown only to the coordinating NGO, and only for its own users."""

    event: Event
    actor_agency_name: str | None
    actor_role: Role | None
    actor_username: str | None


def timeline_for(
    session: Session,
    *,
    user: User,
    case_id: uuid.UUID,
    now: datetime,
    address: str | None = None,
) -> list[TimelineEntry]:
    """The case's events in order, with their actors as the user may see them; the read is
    audited."""
    case = get_case_for(session, user=user, case_id=case_id)
    events = list(
        session.exec(select(Event).where(Event.case_id == case.id).order_by(col(Event.seq))).all()
    )
    entries = _with_actors(session, events, case=case, viewer=user)
    record_audit(
        session,
        action=Action.read_timeline,
        at=now,
        user=user,
        case_id=case.id,
        address=address,
        count=len(events),
    )
    session.flush()
    return entries


def _with_actors(
    session: Session, events: list[Event], *, case: Case, viewer: User
) -> list[TimelineEntry]:
    agency_ids = {e.actor_agency_id for e in events if e.actor_agency_id is not None}
    user_ids = {e.actor_user_id for e in events if e.actor_user_id is not None}
    agencies = {
        a.id: a.name for a in session.exec(select(Agency).where(col(Agency.id).in_(agency_ids)))
    }
    actors = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(user_ids)))}
    # Colleagues know each other's names; other agencies need only to know who to call.
    coordinating = viewer.agency_id == case.coordinator_agency_id
    entries = []
    for event in events:
        actor = actors.get(event.actor_user_id) if event.actor_user_id else None
        named = actor is not None and coordinating and actor.agency_id == viewer.agency_id
        entries.append(
            TimelineEntry(
                event,
                actor_agency_name=agencies.get(event.actor_agency_id)
                if event.actor_agency_id
                else None,
                actor_role=Role(actor.role) if actor is not None else None,
                actor_username=actor.username if named and actor is not None else None,
            )
        )
    return entries


def audit_for(
    session: Session,
    *,
    user: User,
    case_id: uuid.UUID,
    now: datetime,
    address: str | None = None,
) -> list[AuditEntry]:
    """The case's audit trail, oldest first, for its coordinating NGO's coordinators and
    supervisors. This read is itself audited, after the trail is taken."""
    case = get_case_for(session, user=user, case_id=case_id)
    if not reads_audit(case, user):
        raise Forbidden("only a coordinator or supervisor of the coordinating NGO reads the audit")
    entries = audit_trail(session, case_id=case.id)
    record_audit(
        session,
        action=Action.read_audit,
        at=now,
        user=user,
        case_id=case.id,
        address=address,
        count=len(entries),
    )
    session.flush()
    return entries


@dataclass(frozen=True)
class RecordedDocument:
    """A document the case has: which one, its reference, when issued, until when valid."""

    kind: str
    reference: str | None
    issued_on: str | None
    expires_on: str | None


def documents_of(session: Session, *, detail: CaseDetail) -> list[RecordedDocument]:
    """The travel document and every document recorded before departure, for the
    coordinating NGO (the only view that sees them); nothing for another view."""
    if detail.view != View.full:
        return []
    case = detail.case
    found = []
    if case.travel_document_number is not None:
        found.append(
            RecordedDocument(
                DocumentKind.travel_document,
                case.travel_document_number,
                None,
                _iso_day(case.travel_document_expires_on),
            )
        )
    recorded = session.exec(
        select(Task)
        .where(
            Task.case_id == case.id,
            Task.kind == TaskKind.record_document,
            Task.status == TaskStatus.done,
        )
        .order_by(col(Task.completed_at))
    ).all()
    for task in recorded:
        payload = task.payload or {}
        found.append(
            RecordedDocument(
                str((task.context or {}).get("document", "")),
                payload.get("reference"),
                payload.get("issued_on"),
                payload.get("expires_on"),
            )
        )
    return found


def _iso_day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None

"""Launching cases and reading them as a given agency may."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core.clock import age_on
from core.errors import Forbidden, NotFound
from domain.access import CASE_READERS, LAUNCHERS, View, case_visible_to, survivor_fields, view_for
from domain.events import record_event
from domain.payloads import NewCase
from models import Case, Event, Notification, Survivor, User
from models.enums import NotificationStatus

# No 0/O, 1/I/L: references are read aloud on the phone between agencies.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference() -> str:
    code = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"HW-{code[:4]}-{code[4:]}"


def launch_case(session: Session, *, user: User, data: NewCase, now: datetime) -> Case:
    """Record a new case for the user's NGO; the flow run is started after commit."""
    if user.role not in LAUNCHERS:
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
        wake_requested_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    record_event(
        session,
        case,
        "case_launched",
        at=now,
        actor_user_id=user.id,
        actor_agency_id=user.agency_id,
    )
    return case


def _unused_reference(session: Session) -> str:
    for _ in range(10):
        reference = new_reference()
        if session.exec(select(Case.id).where(Case.reference == reference)).first() is None:
            return reference
    raise RuntimeError("could not draw an unused case reference")


def _readable(user: User) -> None:
    if user.role not in CASE_READERS:
        raise Forbidden("administrators manage agencies and users; they do not read cases")


def list_cases_for(session: Session, *, user: User) -> list[Case]:
    _readable(user)
    query = (
        select(Case).where(case_visible_to(user.agency_id)).order_by(col(Case.created_at).desc())
    )
    return list(session.exec(query).all())


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


def case_detail(session: Session, *, user: User, case_id: uuid.UUID, now: datetime) -> CaseDetail:
    case = get_case_for(session, user=user, case_id=case_id)
    view = view_for(session, case, user)
    survivor = survivor_fields(session.get_one(Survivor, case.survivor_id), view, today=now.date())
    undelivered = 0
    if view == View.full:
        undelivered = len(
            session.exec(
                select(Notification.id).where(
                    Notification.case_id == case.id,
                    Notification.status == NotificationStatus.failed,
                )
            ).all()
        )
    return CaseDetail(case, view, survivor, undelivered)


def timeline_for(session: Session, *, user: User, case_id: uuid.UUID) -> list[Event]:
    case = get_case_for(session, user=user, case_id=case_id)
    return list(
        session.exec(select(Event).where(Event.case_id == case.id).order_by(col(Event.seq))).all()
    )

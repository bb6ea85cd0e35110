"""Agencies and user accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator
from sqlmodel import Session, col, select

from core.countries import CountryCode
from core.errors import Conflict, Invalid, NotFound, Unauthorized
from core.security import MIN_PASSWORD_LENGTH, hash_password, verify_password
from domain.payloads import Payload
from domain.workflow import NO_CONSULATE
from models import Agency, Case, Survivor, User
from models.enums import AgencyKind, CaseStatus, Role, Stage

NotifyUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


class NewAgency(Payload):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: AgencyKind
    country: CountryCode
    nationality_served: CountryCode | None = None
    capacity: Annotated[int, Field(ge=0, le=100_000)] | None = None
    notify_urls: Annotated[list[NotifyUrl], Field(max_length=10)] = []
    language: Annotated[str, StringConstraints(min_length=2, max_length=35)] | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> NewAgency:
        if self.kind == AgencyKind.consulate and self.nationality_served is None:
            raise ValueError("a consulate needs nationality_served: the nationality it verifies")
        if self.kind != AgencyKind.consulate and self.nationality_served is not None:
            raise ValueError("only a consulate has nationality_served")
        if self.kind == AgencyKind.shelter and self.capacity is None:
            raise ValueError("a shelter needs a capacity (number of places)")
        if self.kind != AgencyKind.shelter and self.capacity is not None:
            raise ValueError("only a shelter has a capacity")
        return self


class NewUser(Payload):
    username: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=3, max_length=80, pattern=r"^[A-Za-z0-9._@-]+$"
        ),
    ]
    password: Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=256)]
    agency_id: uuid.UUID
    role: Role


# Which roles an agency of each kind can hold (admins may sit in any agency).
ROLES_BY_KIND: dict[AgencyKind, frozenset[Role]] = {
    AgencyKind.ngo: frozenset({Role.coordinator, Role.case_worker, Role.supervisor}),
    AgencyKind.consulate: frozenset({Role.consular_officer}),
    AgencyKind.shelter: frozenset({Role.shelter_officer}),
    AgencyKind.escort: frozenset({Role.escort_officer}),
    AgencyKind.government: frozenset(),
}


def create_agency(
    session: Session, *, data: NewAgency, now: datetime
) -> tuple[Agency, list[uuid.UUID]]:
    """Register an agency; returns it and the cases a new consulate unblocks."""
    agency = Agency(**data.model_dump(), created_at=now)
    session.add(agency)
    session.flush()
    unblocked: list[uuid.UUID] = []
    if agency.kind == AgencyKind.consulate:
        unblocked = list(
            session.exec(
                select(Case.id)
                .join(Survivor, col(Survivor.id) == col(Case.survivor_id))
                .where(
                    Case.status == CaseStatus.open,
                    Case.stage == Stage.identification,
                    Case.blocked_reason == NO_CONSULATE,
                    Case.current_country == agency.country,
                    Survivor.nationality == agency.nationality_served,
                )
            ).all()
        )
        for case_id in unblocked:
            case = session.get_one(Case, case_id)
            case.wake_requested_at = now
            session.add(case)
    return agency, unblocked


def list_agencies(session: Session) -> list[Agency]:
    return list(session.exec(select(Agency).order_by(col(Agency.country), col(Agency.name))).all())


def get_agency(session: Session, agency_id: uuid.UUID) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound("no such agency")
    return agency


def create_user(session: Session, *, data: NewUser, now: datetime) -> User:
    agency = session.get(Agency, data.agency_id)
    if agency is None:
        raise Invalid(f"agency_id {data.agency_id} is not a registered agency")
    if data.role != Role.admin and data.role not in ROLES_BY_KIND[agency.kind]:
        allowed = ", ".join(sorted(ROLES_BY_KIND[agency.kind])) or "admin only"
        raise Invalid(f"a {agency.kind} agency cannot have a {data.role}; allowed: {allowed}")
    if session.exec(select(User.id).where(User.username == data.username)).first() is not None:
        raise Conflict(f"username {data.username!r} is taken")
    user = User(
        username=data.username,
        password_hash=hash_password(data.password),
        agency_id=data.agency_id,
        role=data.role,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, username: str, password: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    # Verify even for unknown users so that response time does not reveal which exist.
    ok = verify_password(password, user.password_hash if user else None)
    if user is None or not ok or not user.is_active:
        raise Unauthorized("wrong username or password")
    return user


def active_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("this account no longer exists or was deactivated")
    return user

"""Agencies and user accounts."""

from __future__ import annotations

import math
import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator
from sqlmodel import Session, col, select

from core.clock import as_utc
from core.countries import CountryCode
from core.errors import Conflict, HomewardError, Invalid, NotFound, Unauthorized
from core.languages import SPOKEN, spoken
from core.security import MIN_PASSWORD_LENGTH, hash_password, verify_password
from domain.audit import (
    LOGIN_FAILURES_ALLOWED,
    LOGIN_WINDOW,
    Action,
    failed_logins_since,
    record_audit,
)
from domain.payloads import Payload
from domain.wakes import request_wake
from domain.workflow import NO_CONSULATE
from models import Agency, Case, Survivor, User
from models.enums import AgencyKind, CaseStatus, Role, Stage

# The Apprise schemes an agency can be reached through. Anything else is refused, above
# all the schemes that act on the machine running Homeward (`windows://`, `dbus://`,
# `syslog://`, `macosx://`...). Each one is a plugin of the installed Apprise (a test says so).
NOTIFY_SCHEMES: dict[str, frozenset[str]] = {
    "mail": frozenset({"mailto", "mailtos"}),
    "SMS": frozenset(
        {
            "twilio",
            "vonage",
            "nexmo",
            "sns",
            "msg91",
            "clickatell",
            "bulksms",
            "d7sms",
            "plivo",
            "sinch",
            "smseagle",
            "smseagles",
            "httpsms",
            "signal",
            "signals",
        }
    ),
    "chat": frozenset(
        {
            "tgram",
            "slack",
            "matrix",
            "matrixs",
            "whatsapp",
            "discord",
            "mmost",
            "mmosts",
            "rocket",
            "rockets",
            "zulip",
            "ntfy",
            "ntfys",
            "gotify",
            "gotifys",
        }
    ),
    "webhook": frozenset({"json", "jsons", "form", "forms", "xml", "xmls"}),
}
_ALLOWED_SCHEMES = frozenset().union(*NOTIFY_SCHEMES.values())
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# Longer "schemes" are more likely pasted secrets than schemes: they are not quoted back.
_QUOTABLE_SCHEME_LENGTH = 20


def _allowed_notify_url(url: str) -> str:
    """The URL, if its scheme is allowed. Messages name the scheme at most, never the URL:
    it may hold credentials. (Whether the service accepts the rest of the URL shows at the
    first send, as a failed notification; the domain does not load Apprise to check.)"""
    match = _SCHEME.match(url)
    if match is None:
        raise ValueError("not an Apprise URL: it must start with a scheme, as in json://")
    scheme = match.group(1).lower()
    if scheme not in _ALLOWED_SCHEMES:
        named = f"scheme {scheme!r}" if len(scheme) <= _QUOTABLE_SCHEME_LENGTH else "this scheme"
        raise ValueError(
            f"{named} is not allowed; use one of mail, SMS, chat or json/form/xml webhooks"
        )
    if len(url) <= len(match.group(0)):
        raise ValueError("this URL names no target after its scheme")
    return url


NotifyUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=2000),
    AfterValidator(_allowed_notify_url),
]


class NewAgency(Payload):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: AgencyKind
    country: CountryCode
    nationality_served: CountryCode | None = None
    capacity: Annotated[int, Field(ge=0, le=100_000)] | None = None
    notify_urls: Annotated[list[NotifyUrl], Field(max_length=10)] = []
    language: Annotated[str, StringConstraints(min_length=2, max_length=35)] | None = None
    # What a minor's journey needs: escorts able to accompany children (and female escorts
    # for girls), shelters that take children.
    escorts_children: bool = False
    female_escorts: bool = False
    accepts_children: bool = False

    @model_validator(mode="after")
    def _kind_fields(self) -> NewAgency:
        if self.kind != AgencyKind.escort and (self.escorts_children or self.female_escorts):
            field = "escorts_children" if self.escorts_children else "female_escorts"
            raise ValueError(f"{field}: only an escort agency has it; remove it")
        if self.kind != AgencyKind.shelter and self.accepts_children:
            raise ValueError("accepts_children: only a shelter has it; remove it")
        if self.kind == AgencyKind.consulate and self.nationality_served is None:
            raise ValueError(
                "nationality_served: a consulate needs it, the nationality it verifies "
                "(an ISO 3166-1 alpha-2 code such as BD)"
            )
        if self.kind != AgencyKind.consulate and self.nationality_served is not None:
            raise ValueError("nationality_served: only a consulate has it; remove it")
        if self.kind == AgencyKind.shelter and self.capacity is None:
            raise ValueError("capacity: a shelter needs it, its number of places")
        if self.kind != AgencyKind.shelter and self.capacity is not None:
            raise ValueError("capacity: only a shelter has it; remove it")
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
    session: Session,
    *,
    data: NewAgency,
    now: datetime,
    actor: User | None = None,
    address: str | None = None,
) -> tuple[Agency, list[uuid.UUID]]:
    """Register an agency; returns it and the cases a new consulate unblocks. Audited with
    the agency's id and kind, never its notification URLs (they hold credentials)."""
    agency = Agency(**data.model_dump(), created_at=now)
    session.add(agency)
    session.flush()
    record_audit(
        session,
        action=Action.create_agency,
        at=now,
        user=actor,
        address=address,
        agency_id=str(agency.id),
        kind=agency.kind,
    )
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
            request_wake(session, session.get_one(Case, case_id), now)
    return agency, unblocked


def list_agencies(session: Session) -> list[Agency]:
    return list(session.exec(select(Agency).order_by(col(Agency.country), col(Agency.name))).all())


def list_users(session: Session, *, agency_id: uuid.UUID | None = None) -> list[User]:
    """The accounts, active or not, of one agency or of every agency, by username."""
    query = select(User).order_by(col(User.username))
    if agency_id is not None:
        query = query.where(User.agency_id == agency_id)
    return list(session.exec(query).all())


def get_agency(session: Session, agency_id: uuid.UUID) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound("no such agency")
    return agency


def set_language(
    session: Session, *, user: User, language: str | None, native_digits: bool
) -> User:
    """The language a user reads Homeward in (None: their agency's), and their digits."""
    if language is not None and spoken(language) is None:
        raise Invalid(f"language: Homeward speaks {', '.join(SPOKEN)}")
    user.language = spoken(language)
    user.native_digits = native_digits
    session.add(user)
    session.flush()
    return user


def create_user(
    session: Session, *, data: NewUser, now: datetime, actor: User | None = None
) -> User:
    """Create an account; `actor` is the administrator doing it (None from the command line)."""
    agency = session.get(Agency, data.agency_id)
    if agency is None:
        raise Invalid("agency_id: no agency is registered under this id")
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
    record_audit(
        session,
        action=Action.create_user,
        at=now,
        user=actor,
        created_user_id=str(user.id),
        role=str(user.role),
        in_agency_id=str(user.agency_id),
    )
    return user


def deactivate_user(session: Session, *, user_id: uuid.UUID, actor: User, now: datetime) -> User:
    """Refuse an account from now on: its tokens stop working at its next request."""
    if user_id == actor.id:
        raise Conflict("you cannot deactivate your own account; ask another administrator")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    if user.is_active:
        user.is_active = False
        session.add(user)
        record_audit(
            session,
            action=Action.deactivate_user,
            at=now,
            user=actor,
            deactivated_user_id=str(user.id),
        )
        session.flush()
    return user


class TooManyLogins(HomewardError):
    """Too many failed logins for a username or from an address within LOGIN_WINDOW."""

    status_code = 429
    kind = "TooManyRequests"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


# The audit columns' widths; a longer attempted name is counted under its first 80 characters.
_USERNAME_LENGTH = 80
_ADDRESS_LENGTH = 64


def authenticate(
    session: Session, *, username: str, password: str, address: str | None, now: datetime
) -> User | None:
    """The active user these credentials belong to, or None once the failure is recorded.

    Raises TooManyLogins, before looking at the password, when this username or this
    address has failed LOGIN_FAILURES_ALLOWED times within LOGIN_WINDOW. The caller commits
    either way, so that failures count.
    """
    attempted = username[:_USERNAME_LENGTH]
    address = address[:_ADDRESS_LENGTH] if address else None
    failures, oldest = failed_logins_since(
        session, username=attempted, address=address, since=now - LOGIN_WINDOW
    )
    if failures >= LOGIN_FAILURES_ALLOWED:
        reopens = (as_utc(oldest) if oldest else now) + LOGIN_WINDOW
        wait = max(1, math.ceil((reopens - now).total_seconds()))
        raise TooManyLogins(
            f"too many failed logins for this account or from this address; "
            f"try again in {wait} seconds",
            retry_after_seconds=wait,
        )
    user = session.exec(select(User).where(User.username == username)).first()
    # Verify even for unknown users so that response time does not reveal which exist.
    ok = verify_password(password, user.password_hash if user else None)
    if user is None or not ok or not user.is_active:
        record_audit(
            session, action=Action.login_failure, at=now, username=attempted, address=address
        )
        return None
    record_audit(session, action=Action.login_success, at=now, user=user, address=address)
    return user


def active_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("this account no longer exists or was deactivated")
    return user

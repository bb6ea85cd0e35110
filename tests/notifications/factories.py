"""Small builders for outbox rows and what they hang off."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime

from sqlmodel import Session

from models import Agency, Case, Notification, Survivor, User
from models.enums import AgencyKind, Role, Sex, TraffickingStatus

# Personal data a message must never carry, planted on the survivor behind every test case.
GIVEN_NAME = "Rupali"
FAMILY_NAME = "Khatun"
BIRTH_DATE = date(2007, 3, 14)
NATIONALITY = "BD"


def a_reference() -> str:
    code = secrets.token_hex(4).upper()
    return f"HW-{code[:4]}-{code[4:]}"


def a_notification(**fields: object) -> Notification:
    """An outbox row as the domain writes it; no database needed."""
    values: dict[str, object] = {
        "dedupe_key": f"test:{uuid.uuid4()}",
        "case_id": uuid.uuid4(),
        "case_reference": a_reference(),
        "agency_id": uuid.uuid4(),
        "kind": "task_assigned",
        "task_id": uuid.uuid4(),
        "task_kind": "verify_nationality",
        "due_at": datetime(2026, 12, 1, 14, 0, tzinfo=UTC),
        "next_attempt_at": datetime(2026, 11, 1, tzinfo=UTC),
    }
    values.update(fields)
    return Notification.model_validate(values)


def seed_case(session: Session, *, notify_urls: list[str]) -> tuple[Agency, Case]:
    """An agency notified at `notify_urls`, and a case it coordinates."""
    agency = Agency(
        name="NGO Kolkata", kind=AgencyKind.ngo, country="IN", notify_urls=list(notify_urls)
    )
    survivor = Survivor(
        given_name=GIVEN_NAME,
        family_name=FAMILY_NAME,
        sex=Sex.female,
        birth_date=BIRTH_DATE,
        nationality=NATIONALITY,
        languages=["bn"],
    )
    session.add(agency)
    session.add(survivor)
    session.flush()
    user = User(
        username=f"coordinator-{uuid.uuid4().hex[:8]}",
        password_hash="not-a-real-hash",
        agency_id=agency.id,
        role=Role.coordinator,
    )
    session.add(user)
    session.flush()
    case = Case(
        reference=a_reference(),
        survivor_id=survivor.id,
        coordinator_agency_id=agency.id,
        created_by_user_id=user.id,
        current_country="IN",
        trafficking_status=TraffickingStatus.actual,
        consent_repatriation=True,
        consent_data_sharing=True,
        consent_follow_up=True,
    )
    session.add(case)
    session.commit()
    return agency, case


def queue_notice(
    session: Session, agency: Agency, case: Case, *, at: datetime, kind: str = "case_closed"
) -> uuid.UUID:
    """One pending outbox row for `agency`, due at `at`."""
    notification = Notification(
        dedupe_key=f"{kind}:{uuid.uuid4()}",
        case_id=case.id,
        case_reference=case.reference,
        agency_id=agency.id,
        kind=kind,
        created_at=at,
        next_attempt_at=at,
    )
    session.add(notification)
    session.commit()
    return notification.id

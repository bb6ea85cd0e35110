"""Appending to a case's timeline and its outbox, inside the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from models import Case, Event, Notification


def record_event(
    session: Session,
    case: Case,
    kind: str,
    *,
    at: datetime,
    actor_user_id: uuid.UUID | None = None,
    actor_agency_id: uuid.UUID | None = None,
    **data: Any,
) -> Event:
    """Append one timeline event. `data` must hold no personal data."""
    last = session.exec(select(func.max(Event.seq)).where(Event.case_id == case.id)).one()
    event = Event(
        case_id=case.id,
        seq=(last or 0) + 1,
        at=at,
        kind=kind,
        actor_user_id=actor_user_id,
        actor_agency_id=actor_agency_id,
        data=data,
    )
    session.add(event)
    return event


def enqueue_notification(
    session: Session,
    case: Case,
    *,
    agency_id: uuid.UUID,
    kind: str,
    dedupe_key: str,
    at: datetime,
    task_id: uuid.UUID | None = None,
    task_kind: str | None = None,
    due_at: datetime | None = None,
) -> None:
    """Queue a message for an agency once; a second call with the same key does nothing."""
    exists = session.exec(
        select(Notification.id).where(Notification.dedupe_key == dedupe_key)
    ).first()
    if exists is not None:
        return
    session.add(
        Notification(
            dedupe_key=dedupe_key,
            case_id=case.id,
            case_reference=case.reference,
            agency_id=agency_id,
            task_id=task_id,
            kind=kind,
            task_kind=task_kind,
            due_at=due_at,
            created_at=at,
            next_attempt_at=at,
        )
    )

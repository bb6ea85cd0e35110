"""Notifications that reach no target, recorded as the outbox records a failed attempt."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.db import engine_for
from models import Notification
from notifications.outbox import claim, record_result
from tests import factories
from tests.factories import Corridor

ERROR = "JSON: connection error: refused"


def launched(client: TestClient, corridor: Corridor) -> tuple[str, uuid.UUID]:
    """A case whose flow has run once: the consulate's notification is queued."""
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.advance(corridor.settings, case_id)
    with Session(engine_for(corridor.settings.resolved_database_url)) as session:
        notification_id = session.exec(
            select(Notification.id).where(
                Notification.case_id == uuid.UUID(case_id),
                Notification.agency_id == corridor.consulate.agency_id,
            )
        ).one()
    return case_id, notification_id


def attempt_fails(database_url: str, notification_id: uuid.UUID, *, max_attempts: int) -> None:
    """One delivery attempt that reached no target, recorded as the outbox records it."""
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        now = session.get_one(Notification, notification_id).next_attempt_at
        assert claim(session, notification_id, now=now, claim_seconds=60) is not None
        record_result(
            session,
            notification_id,
            delivered=[],
            error=ERROR,
            now=now,
            max_attempts=max_attempts,
        )


def fail_for_good(database_url: str, notification_id: uuid.UUID) -> None:
    attempt_fails(database_url, notification_id, max_attempts=1)

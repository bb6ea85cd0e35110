"""Sending queued notifications from Prefect tasks, so retries are Prefect's."""

from __future__ import annotations

import uuid

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait

from core.clock import utcnow
from core.db import session_scope
from core.settings import get_settings
from notifications.outbox import deliver, due_notification_ids


@task(retries=2, retry_delay_seconds=[2, 5], cache_policy=NO_CACHE)
def send_notification(notification_id: uuid.UUID) -> str:
    """Deliver one outbox row; a failure is recorded on the row and retried later."""
    return str(deliver(notification_id, settings=get_settings()))


def deliver_notifications(case_id: uuid.UUID | None = None, limit: int = 100) -> int:
    """Send what is due, concurrently, so one slow target does not hold up the others."""
    settings = get_settings()
    with session_scope(settings.resolved_database_url) as session:
        ids = due_notification_ids(session, now=utcnow(), case_id=case_id, limit=limit)
    futures = [send_notification.submit(notification_id) for notification_id in ids]
    wait(futures)
    return len(futures)

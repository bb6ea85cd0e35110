"""Sending queued notifications from a flow run, each target bounded, none holding another."""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

from core.clock import utcnow
from core.db import session_scope
from core.settings import get_settings
from notifications.outbox import DeliveryResult, deliver, due_notification_ids

logger = logging.getLogger("homeward.notifications")

# Rows sent at once by one pass; each send is bounded (notifications.dispatcher), so a slow
# target holds one thread for at most its bound and never the others.
SENDERS = 8


def send_notification(notification_id: uuid.UUID) -> str:
    """Deliver one outbox row. A failed send is recorded on the row and retried later with
    backoff; an error before that (the database, say) leaves the row to the sweeper."""
    try:
        return str(deliver(notification_id, settings=get_settings()))
    except Exception as error:  # never the message: it may quote a URL
        logger.warning("notification %s not sent: %s", notification_id, type(error).__name__)
        return str(DeliveryResult.retry_later)


def deliver_notifications(case_id: uuid.UUID | None = None, limit: int = 100) -> int:
    """Send what is due, concurrently, so one slow target does not hold up the others."""
    settings = get_settings()
    with session_scope(settings.resolved_database_url) as session:
        ids = due_notification_ids(session, now=utcnow(), case_id=case_id, limit=limit)
    if not ids:
        return 0
    # Threads rather than Prefect tasks: a task run costs three state writes on the Prefect
    # server per notification, and the outbox already records and retries every send.
    with ThreadPoolExecutor(
        max_workers=min(SENDERS, len(ids)), thread_name_prefix="homeward-send"
    ) as pool:
        list(pool.map(send_notification, ids))
    return len(ids)

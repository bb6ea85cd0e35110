"""Draining the outbox: claim a row, send it, record what happened.

Called from background workers, never from a request: each function runs and commits its
own short transaction on the session it is given, so no transaction stays open while a
message is on the wire. A row is claimed with a guarded UPDATE, so two senders never
send the same row at once; a claim that is never released (a crashed worker) expires.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.db import engine_for
from core.settings import Settings
from models import Agency, Notification
from models.enums import NotificationStatus
from notifications.dispatcher import fingerprint, send
from notifications.messages import render

NO_ADDRESS = "the agency has no notification address"
MAX_ERROR_LENGTH = 500
# Not for secrets: spreads retries so that targets coming back are not hit all at once.
_jitter = random.SystemRandom()


@dataclass(frozen=True)
class Claimed:
    """A claimed row (detached), the agency's URLs, and those still without the message."""

    notification: Notification
    notify_urls: list[str]
    pending_urls: list[str]


class DeliveryResult(StrEnum):
    sent = "sent"
    retry_later = "retry_later"
    failed = "failed"
    skipped = "skipped"  # another sender holds it, or it is no longer due


def due_notification_ids(
    session: Session, *, now: datetime, case_id: uuid.UUID | None = None, limit: int = 100
) -> list[uuid.UUID]:
    """Pending rows whose time has come and that no live claim holds, oldest first."""
    query = (
        select(Notification.id)
        .where(
            Notification.status == NotificationStatus.pending,
            col(Notification.next_attempt_at) <= now,
            _claim_free(now),
        )
        .order_by(col(Notification.next_attempt_at), col(Notification.created_at))
        .limit(limit)
    )
    if case_id is not None:
        query = query.where(Notification.case_id == case_id)
    ids = list(session.exec(query).all())
    session.commit()
    return ids


def claim(
    session: Session, notification_id: uuid.UUID, *, now: datetime, claim_seconds: int
) -> Claimed | None:
    """Take the row for one send attempt; None when another sender has it or it is not due."""
    taken = session.exec(
        update(Notification)
        .where(
            col(Notification.id) == notification_id,
            col(Notification.status) == NotificationStatus.pending,
            # Also due: a sender that listed the row before another one rescheduled it
            # must not send it again ahead of its backoff.
            col(Notification.next_attempt_at) <= now,
            _claim_free(now),
        )
        .values(
            claimed_until=now + timedelta(seconds=claim_seconds),
            attempts=col(Notification.attempts) + 1,
        )
    )
    if taken.rowcount != 1:
        session.rollback()
        return None
    notification, urls = _load(session, notification_id)
    session.expunge(notification)
    session.commit()
    delivered = set(notification.delivered_targets)
    return Claimed(
        notification=notification,
        notify_urls=urls,
        pending_urls=[url for url in urls if fingerprint(url) not in delivered],
    )


def record_result(
    session: Session,
    notification_id: uuid.UUID,
    *,
    delivered: Sequence[str],
    error: str | None,
    now: datetime,
    max_attempts: int,
    base_delay_seconds: float = 30,
    max_delay_seconds: float = 3600,
    permanent: bool = False,
    keep_claim: bool = False,
) -> NotificationStatus:
    """Store one attempt's outcome and decide: sent, failed, or pending with a backoff.

    `delivered` are the fingerprints of the targets that took the message this time;
    `permanent` gives up at once (a row that can never be sent, whatever the attempt);
    `keep_claim` leaves the row claimed while a send left behind at the deadline may still
    succeed (`release_claim` ends it, or it expires).
    """
    notification, urls = _load(session, notification_id, for_update=True)
    already = list(notification.delivered_targets)
    merged = already + [fp for fp in dict.fromkeys(delivered) if fp not in already]
    notification.delivered_targets = merged
    wanted = {fingerprint(url) for url in urls}
    if not keep_claim or wanted <= set(merged):
        notification.claimed_until = None
    if notification.status == NotificationStatus.sent:
        pass  # a sender whose claim had expired finished after another one: keep that result
    elif not urls:
        notification.status = NotificationStatus.failed
        notification.last_error = NO_ADDRESS
    elif wanted <= set(merged):
        notification.status = NotificationStatus.sent
        notification.sent_at = now
        notification.last_error = None
    elif notification.status == NotificationStatus.pending:
        notification.last_error = _truncate(error or "delivery failed")
        if permanent or notification.attempts >= max_attempts:
            notification.status = NotificationStatus.failed
        else:
            notification.next_attempt_at = now + backoff(
                notification.attempts, base=base_delay_seconds, cap=max_delay_seconds
            )
    status = notification.status
    session.add(notification)
    session.commit()
    return status


def record_delivered(
    session: Session, notification_id: uuid.UUID, *, target: str, now: datetime
) -> NotificationStatus:
    """Store at once that one target took the message, so that a crash before the attempt
    is recorded does not send it there again; the row is sent when every target has it."""
    notification, urls = _load(session, notification_id, for_update=True)
    if target not in notification.delivered_targets:
        notification.delivered_targets = [*notification.delivered_targets, target]
    wanted = {fingerprint(url) for url in urls}
    if (
        notification.status != NotificationStatus.sent
        and urls
        and wanted <= set(notification.delivered_targets)
    ):
        notification.status = NotificationStatus.sent
        notification.sent_at = now
        notification.last_error = None
    status = notification.status
    session.add(notification)
    session.commit()
    return status


def release_claim(session: Session, notification_id: uuid.UUID, *, claimed_until: datetime) -> bool:
    """End this sender's claim; a claim that expired and was taken over is left alone."""
    released = session.exec(
        update(Notification)
        .where(
            col(Notification.id) == notification_id,
            col(Notification.claimed_until) == claimed_until,
        )
        .values(claimed_until=None)
    ).rowcount
    session.commit()
    return bool(released)


def backoff(attempts: int, *, base: float = 30, cap: float = 3600) -> timedelta:
    """Exponential delay after `attempts` tries, with jitter: half to all of min(cap, base·2ⁿ⁻¹)."""
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=ceiling * _jitter.uniform(0.5, 1.0))


def retry_failed(
    session: Session,
    *,
    now: datetime,
    notification_ids: Sequence[uuid.UUID] | None = None,
    case_id: uuid.UUID | None = None,
) -> int:
    """Put failed rows (these ids, or a case's) back in the queue with fresh attempts."""
    if (notification_ids is None) == (case_id is None):
        raise ValueError("give either notification_ids or case_id")
    statement = (
        update(Notification)
        .where(col(Notification.status) == NotificationStatus.failed)
        .values(
            status=NotificationStatus.pending,
            attempts=0,
            next_attempt_at=now,
            claimed_until=None,
        )
    )
    if notification_ids is not None:
        statement = statement.where(col(Notification.id).in_(list(notification_ids)))
    else:
        statement = statement.where(col(Notification.case_id) == case_id)
    count = session.exec(statement).rowcount
    session.commit()
    return count


def deliver(
    notification_id: uuid.UUID,
    *,
    settings: Settings,
    now_fn: Callable[[], datetime] = utcnow,
    database_url: str | None = None,
) -> DeliveryResult:
    """Claim one row, render it, send it to the targets still missing it, record the outcome.

    Returns within the send bound (`dispatcher.deadline_for`) plus two short transactions,
    whatever the targets do.
    """
    engine = engine_for(database_url or settings.resolved_database_url)
    with Session(engine, expire_on_commit=False) as session:
        claimed = claim(
            session,
            notification_id,
            now=now_fn(),
            claim_seconds=settings.notification_claim_seconds,
        )
    if claimed is None:
        return DeliveryResult.skipped
    attempt = _Attempt(engine, claimed, settings=settings, now_fn=now_fn)
    try:
        message = render(claimed.notification, public_url=settings.resolved_public_url)
    except ValueError as exc:
        return attempt.finish(error=str(exc), permanent=True)
    try:
        outcome = send(
            claimed.pending_urls,
            message,
            timeout_seconds=settings.notification_timeout_seconds,
            notification_id=notification_id,
            on_settled=attempt.settled,
        )
    except Exception as exc:
        # Recorded without the exception text, which may quote a URL; the claim would
        # otherwise hide the row until it expires.
        attempt.finish(error=f"sending failed: {type(exc).__name__}")
        raise
    return attempt.finish(
        delivered=outcome.delivered, error=outcome.error, unsettled=outcome.unsettled
    )


class _Attempt:
    """One claimed attempt: records each target as it takes the message (narrowing the
    window in which a crash would resend to it), then the attempt, then, if sends were left
    behind at the deadline, releases the claim once the last of them ends."""

    def __init__(
        self,
        engine: Engine,
        claimed: Claimed,
        *,
        settings: Settings,
        now_fn: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.notification_id = claimed.notification.id
        self.claimed_until = claimed.notification.claimed_until
        self.settings = settings
        self.now_fn = now_fn
        self.lock = threading.Lock()
        self.settled_targets: set[str] = set()
        self.left_behind: set[str] | None = None  # set once the attempt is recorded

    def settled(self, target: str, error: str | None) -> None:
        with self.lock:
            self.settled_targets.add(target)
            if error is None:
                with Session(self.engine, expire_on_commit=False) as session:
                    record_delivered(
                        session, self.notification_id, target=target, now=self.now_fn()
                    )
            if self.left_behind is not None and target in self.left_behind:
                self.left_behind.discard(target)
                if not self.left_behind:
                    self._release()

    def finish(
        self,
        *,
        delivered: Sequence[str] = (),
        error: str | None,
        unsettled: Sequence[str] = (),
        permanent: bool = False,
    ) -> DeliveryResult:
        with self.lock:
            # A send may have ended between the deadline and this lock.
            self.left_behind = set(unsettled) - self.settled_targets
            with Session(self.engine, expire_on_commit=False) as session:
                status = record_result(
                    session,
                    self.notification_id,
                    delivered=list(delivered),
                    error=error,
                    now=self.now_fn(),
                    max_attempts=self.settings.notification_max_attempts,
                    base_delay_seconds=self.settings.notification_retry_base_seconds,
                    max_delay_seconds=self.settings.notification_retry_max_seconds,
                    permanent=permanent,
                    keep_claim=bool(self.left_behind),
                )
        if status == NotificationStatus.sent:
            return DeliveryResult.sent
        if status == NotificationStatus.failed:
            return DeliveryResult.failed
        return DeliveryResult.retry_later

    def _release(self) -> None:
        if self.claimed_until is None:
            return
        with Session(self.engine, expire_on_commit=False) as session:
            release_claim(session, self.notification_id, claimed_until=self.claimed_until)


def _claim_free(now: datetime) -> ColumnElement[bool]:
    return or_(col(Notification.claimed_until).is_(None), col(Notification.claimed_until) < now)


def _load(
    session: Session, notification_id: uuid.UUID, *, for_update: bool = False
) -> tuple[Notification, list[str]]:
    query = (
        select(Notification, Agency.notify_urls)
        .join(Agency, col(Agency.id) == col(Notification.agency_id))
        .where(col(Notification.id) == notification_id)
        .execution_options(populate_existing=True)
    )
    if for_update:
        query = query.with_for_update(of=Notification)
    row = session.exec(query).one()
    notification, urls = row
    return notification, list(urls or [])


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"

"""Notifications that have not reached their agency: seeing them, and sending them again.

Outbox rows hold no personal data (a case reference, a kind, a due date), so listing them
needs no survivor view; they still belong to a case, so only its coordinating NGO's
coordinators, and administrators, may put one back in the queue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Session, col, select

from core.errors import Conflict, Forbidden, NotFound
from domain.access import case_visible_to
from domain.audit import Action, record_audit
from models import Agency, Case, Notification, User
from models.enums import NotificationStatus, Role

# Who may send a case's failed notification again, besides an administrator.
RETRIERS = frozenset({Role.coordinator})
MAX_LISTED = 500


@dataclass(frozen=True)
class NotificationState:
    """An outbox row as people follow it: never the agency's URLs, only why it failed."""

    id: uuid.UUID
    case_id: uuid.UUID
    case_reference: str
    kind: str
    task_kind: str | None
    agency_id: uuid.UUID
    agency_name: str
    status: NotificationStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None


def undelivered() -> ColumnElement[bool]:
    """Failed, or pending after at least one attempt that did not reach every target."""
    return or_(
        col(Notification.status) == NotificationStatus.failed,
        and_(
            col(Notification.status) == NotificationStatus.pending,
            col(Notification.attempts) > 0,
        ),
    )


def undelivered_for_case(session: Session, *, case_id: uuid.UUID) -> list[NotificationState]:
    """The case's notifications that have not reached their agency, oldest first."""
    return _states(session, col(Notification.case_id) == case_id, undelivered())


def list_notifications(
    session: Session,
    *,
    user: User,
    status: NotificationStatus | None = None,
    limit: int = MAX_LISTED,
) -> list[NotificationState]:
    """Every agency's notifications in this status (default: the undelivered ones), oldest
    first, for administrators."""
    if user.role != Role.admin:
        raise Forbidden("only an administrator lists every agency's notifications")
    where = undelivered() if status is None else col(Notification.status) == status
    return _states(session, where, limit=limit)


def retry_notification(
    session: Session,
    *,
    user: User,
    notification_id: uuid.UUID,
    now: datetime,
    address: str | None = None,
) -> NotificationState:
    """Put a failed notification back in the queue with fresh attempts; the next delivery
    pass sends it to the targets that have not had it. Audited."""
    notification = _retriable_by(session, user, notification_id)
    if notification.status == NotificationStatus.sent:
        raise Conflict("this notification was delivered")
    if notification.status != NotificationStatus.failed:
        raise Conflict("this notification is already waiting for its next attempt")
    # Guarded: a concurrent retry (or a late success) between the read and here wins.
    changed = session.exec(
        update(Notification)
        .where(
            col(Notification.id) == notification.id,
            col(Notification.status) == NotificationStatus.failed,
        )
        .values(
            status=NotificationStatus.pending,
            attempts=0,
            next_attempt_at=now,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict("this notification changed meanwhile; read it again")
    record_audit(
        session,
        action=Action.retry_notification,
        at=now,
        user=user,
        case_id=notification.case_id,
        address=address,
        notification_id=str(notification.id),
        kind=notification.kind,
        agency_id=str(notification.agency_id),
    )
    session.flush()
    [state] = _states(session, col(Notification.id) == notification.id)
    return state


def _retriable_by(session: Session, user: User, notification_id: uuid.UUID) -> Notification:
    if user.role == Role.admin:
        found = session.get(Notification, notification_id)
        if found is None:
            raise NotFound("no such notification")
        return found
    row = session.exec(
        select(Notification, Case.coordinator_agency_id)
        .join(Case, col(Case.id) == col(Notification.case_id))
        .where(col(Notification.id) == notification_id, case_visible_to(user.agency_id))
    ).first()
    if row is None:
        raise NotFound("no such notification")
    notification, coordinator_agency_id = row
    if user.role not in RETRIERS or coordinator_agency_id != user.agency_id:
        raise Forbidden("only the case's coordinators or an administrator send it again")
    return notification


def _states(
    session: Session, *where: ColumnElement[bool], limit: int = MAX_LISTED
) -> list[NotificationState]:
    rows = session.exec(
        select(Notification, Agency.name)
        .join(Agency, col(Agency.id) == col(Notification.agency_id))
        .where(*where)
        .order_by(col(Notification.created_at), col(Notification.id))
        .limit(limit)
        .execution_options(populate_existing=True)
    ).all()
    return [
        NotificationState(
            id=n.id,
            case_id=n.case_id,
            case_reference=n.case_reference,
            kind=n.kind,
            task_kind=n.task_kind,
            agency_id=n.agency_id,
            agency_name=name,
            status=n.status,
            attempts=n.attempts,
            last_error=n.last_error,
            next_attempt_at=(n.next_attempt_at if n.status == NotificationStatus.pending else None),
            created_at=n.created_at,
            sent_at=n.sent_at,
        )
        for n, name in rows
    ]

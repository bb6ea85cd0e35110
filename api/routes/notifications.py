from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.deps import ClientAddress, CurrentUser, SessionDep
from api.schemas import NotificationPublic
from core.clock import utcnow
from domain.notifications import list_notifications, retry_notification
from models.enums import NotificationStatus

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("")
def notifications(
    user: CurrentUser, session: SessionDep, status: NotificationStatus | None = None
) -> list[NotificationPublic]:
    """Every agency's notifications in `status` (without it: failed, or being retried after
    a missed attempt), oldest first (administrators). They carry a case reference, never
    survivor data, and an error summary, never an agency's address or credentials."""
    found = list_notifications(session, user=user, status=status)
    return [NotificationPublic.model_validate(n) for n in found]


@router.post("/{notification_id}/retry")
def retry(
    notification_id: uuid.UUID, user: CurrentUser, session: SessionDep, address: ClientAddress
) -> NotificationPublic:
    """Send a failed notification again (administrators, and the coordinators of the NGO
    coordinating its case): it goes back in the queue with fresh attempts, for the targets
    that have not had it. 409 if it was delivered or is already waiting."""
    state = retry_notification(
        session, user=user, notification_id=notification_id, now=utcnow(), address=address
    )
    session.commit()
    return NotificationPublic.model_validate(state)

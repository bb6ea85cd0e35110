"""A person's decision on a case, recorded one way.

Every decision (a task completed, a hold placed or released, a transfer asked or revoked,
consent changed, a case reopened) leaves the same three traces: the timeline event in the
name of its author, the audit entry, and the request that the case's flow run read it,
woken once after the commit (domain.wakes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from domain.audit import Action, record_audit
from domain.events import record_event
from domain.wakes import request_wake
from models import Case, User


def record_decision(
    session: Session,
    case: Case,
    *,
    user: User,
    event: str,
    action: Action,
    now: datetime,
    address: str | None,
    audit: Mapping[str, Any] | None = None,
    **details: Any,
) -> None:
    """Record `user`'s decision: the event `event` with `details`, the audit entry `action`
    with the same details (or with `audit`, where the log keeps other ones), and the wake.
    Neither may hold personal data: they name what was touched."""
    record_event(
        session,
        case,
        event,
        at=now,
        actor_user_id=user.id,
        actor_agency_id=user.agency_id,
        **details,
    )
    record_audit(
        session,
        action=action,
        at=now,
        user=user,
        case_id=case.id,
        address=address,
        **(details if audit is None else audit),
    )
    request_wake(session, case, now)
    session.flush()

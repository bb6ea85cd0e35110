"""Writing and reading the audit log, inside the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Text, and_, cast, func, or_
from sqlmodel import Session, col, select

from models import AuditEntry, User


class Action(StrEnum):
    read_case = "read_case"
    list_cases = "list_cases"
    read_timeline = "read_timeline"
    read_audit = "read_audit"
    read_tasks = "read_tasks"
    launch_case = "launch_case"
    complete_task = "complete_task"
    # An answer sent again for a repeated Idempotency-Key: it may disclose survivor data.
    replay_answer = "replay_answer"
    change_consent = "change_consent"
    request_transfer = "request_transfer"
    revoke_transfer = "revoke_transfer"
    place_hold = "place_hold"
    release_hold = "release_hold"
    reopen_case = "reopen_case"
    read_holds = "read_holds"
    export = "export"
    purge = "purge"
    create_agency = "create_agency"
    create_user = "create_user"
    deactivate_user = "deactivate_user"
    retry_notification = "retry_notification"
    login_success = "login_success"
    login_failure = "login_failure"
    logout = "logout"


def record_audit(
    session: Session,
    *,
    action: Action,
    at: datetime,
    user: User | None = None,
    username: str | None = None,
    case_id: uuid.UUID | None = None,
    address: str | None = None,
    **detail: Any,
) -> AuditEntry:
    """Append one audit entry. `detail` names what was touched, never personal values."""
    entry = AuditEntry(
        at=at,
        user_id=user.id if user else None,
        agency_id=user.agency_id if user else None,
        username=user.username if user else username,
        action=action,
        case_id=case_id,
        address=address,
        detail=detail,
    )
    session.add(entry)
    return entry


def failed_logins_since(
    session: Session, *, username: str, address: str | None, since: datetime
) -> tuple[int, datetime | None]:
    """Failed logins for this username or from this address since `since`, and the oldest."""
    match = col(AuditEntry.username) == username
    if address is not None:
        match = or_(match, col(AuditEntry.address) == address)
    count, oldest = session.exec(
        select(func.count(), func.min(AuditEntry.at)).where(
            AuditEntry.action == Action.login_failure, col(AuditEntry.at) >= since, match
        )
    ).one()
    return int(count), oldest


def audit_trail(session: Session, *, case_id: uuid.UUID) -> list[AuditEntry]:
    """The case's entries, oldest first, with the task-list reads that returned its tasks.

    A task-list read is one entry for the whole page, naming the tasks it returned by case;
    in this trail it shows only this case's part, so that one case's trail never names the
    other cases the reading agency works on."""
    key = str(case_id)
    # The JSON text holds the case id as a key of `tasks_by_case`; checked exactly below.
    mentions = and_(
        col(AuditEntry.action) == Action.read_tasks,
        cast(col(AuditEntry.detail), Text).like(f'%"{key}"%'),
    )
    entries = session.exec(
        select(AuditEntry)
        .where(or_(col(AuditEntry.case_id) == case_id, mentions))
        .order_by(col(AuditEntry.at))
    ).all()
    trail = []
    for entry in entries:
        if entry.case_id == case_id:
            trail.append(entry)
        elif key in (read := entry.detail.get("tasks_by_case") or {}):
            trail.append(_case_part(entry, case_id, read[key]))
    return trail


def _case_part(entry: AuditEntry, case_id: uuid.UUID, task_ids: list[str]) -> AuditEntry:
    """A copy of a task-list read as it concerns one case; never added to the session."""
    detail = {k: entry.detail.get(k) for k in ("status", "kind")}
    return AuditEntry(
        id=entry.id,
        at=entry.at,
        user_id=entry.user_id,
        agency_id=entry.agency_id,
        username=entry.username,
        action=entry.action,
        case_id=case_id,
        address=entry.address,
        detail=detail | {"count": len(task_ids), "task_ids": task_ids},
    )


LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_FAILURES_ALLOWED = 5

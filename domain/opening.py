"""Opening a task, one way: its row, the timeline event and the `task_assigned`
notification to the agency that must act. The workflow's own tasks, a transfer's and a
duplicate check's all open here."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, func, select

from domain.events import enqueue_notification, record_event
from models import Case, Task
from models.enums import TaskKind


def next_round(session: Session, case: Case, kind: TaskKind) -> int:
    """The round a new task of this kind takes on the case: one more than it has had."""
    held = session.exec(
        select(func.count()).select_from(Task).where(Task.case_id == case.id, Task.kind == kind)
    ).one()
    return 1 + int(held)


def open_task(
    session: Session,
    case: Case,
    *,
    kind: TaskKind,
    round: int,
    agency_id: uuid.UUID,
    due_at: datetime,
    now: datetime,
    context: dict[str, Any] | None = None,
    event: str | None = "task_opened",
    about: Mapping[str, Any] | None = None,
) -> Task:
    """Open the task and tell its agency. The event `event` (none where the caller records
    the opening as a person's decision) carries the task's id and `about`, which must hold
    no personal data."""
    task = Task(
        case_id=case.id,
        kind=kind,
        round=round,
        agency_id=agency_id,
        opened_at=now,
        due_at=due_at,
        context=context,
    )
    session.add(task)
    session.flush()
    if event is not None:
        record_event(session, case, event, at=now, task_id=str(task.id), **(about or {}))
    enqueue_notification(
        session,
        case,
        agency_id=agency_id,
        kind="task_assigned",
        dedupe_key=f"task:{task.id}",
        at=now,
        task_id=task.id,
        task_kind=kind,
        due_at=due_at,
    )
    return task

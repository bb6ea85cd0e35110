"""A departure on hold: the escort holds the task, and the survivor cannot leave for now.

The escort is asked to confirm a departure only once the survivor can leave. When a block
(a legal hold, a travel document that runs out, a document that lapses) appears while the
escort already holds the task, the escort is told once that the departure is on hold, and
once more when it may go ahead; never why.

Whether a departure is on hold is read from the case's timeline: the last of the task's
`departure_on_hold` and `departure_hold_lifted` events says. Each is written in the same
transaction as its outbox row, so a pass that runs again finds it and tells nobody twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from domain.events import enqueue_notification, record_event
from models import Case, Event, Task
from models.enums import CaseStatus, Stage

DEPARTURE_ON_HOLD = "departure_on_hold"
DEPARTURE_HOLD_LIFTED = "departure_hold_lifted"
_HOLD_EVENTS = (DEPARTURE_ON_HOLD, DEPARTURE_HOLD_LIFTED)


def departures_on_hold(session: Session, *, case_id: uuid.UUID) -> set[uuid.UUID]:
    """The case's tasks whose escort was last told that the departure is on hold."""
    return _on_hold(_hold_events(session, col(Event.case_id) == case_id))


def all_departures_on_hold(session: Session) -> set[uuid.UUID]:
    """Departure tasks on hold in every open case that has not left yet."""
    return _on_hold(
        _hold_events(
            session,
            col(Case.status) == CaseStatus.open,
            col(Case.stage) == Stage.safe_transport,
        )
    )


def hold_departure(session: Session, case: Case, task: Task, *, now: datetime) -> None:
    """Record that the escort's departure is on hold and tell the escort, once."""
    times = _times_held(session, case, task) + 1
    _tell(session, case, task, DEPARTURE_ON_HOLD, times, now)


def lift_departure_hold(session: Session, case: Case, task: Task, *, now: datetime) -> None:
    """Record that the departure on hold may go ahead and tell the escort, once."""
    _tell(session, case, task, DEPARTURE_HOLD_LIFTED, _times_held(session, case, task), now)


def _tell(session: Session, case: Case, task: Task, kind: str, times: int, now: datetime) -> None:
    record_event(
        session,
        case,
        kind,
        at=now,
        task_id=str(task.id),
        task_kind=task.kind,
        round=task.round,
    )
    # A hold may come and go more than once while the task is open: one message each time.
    enqueue_notification(
        session,
        case,
        agency_id=task.agency_id,
        kind=kind,
        dedupe_key=f"{kind}:{task.id}:{times}",
        at=now,
        task_id=task.id,
        task_kind=task.kind,
    )


def _times_held(session: Session, case: Case, task: Task) -> int:
    events = _hold_events(session, col(Event.case_id) == case.id)
    return sum(kind == DEPARTURE_ON_HOLD and task_id == task.id for task_id, kind in events)


def _hold_events(session: Session, *where: ColumnElement[bool]) -> list[tuple[uuid.UUID, str]]:
    """(task id, event kind) of the departure hold events matching `where`, in order."""
    rows = session.exec(
        select(Event.data, Event.kind)
        .join(Case, col(Case.id) == col(Event.case_id))
        .where(col(Event.kind).in_(_HOLD_EVENTS), *where)
        .order_by(col(Event.case_id), col(Event.seq))
    ).all()
    return [(uuid.UUID(str(data["task_id"])), kind) for data, kind in rows]


def _on_hold(events: list[tuple[uuid.UUID, str]]) -> set[uuid.UUID]:
    last: dict[uuid.UUID, str] = {}
    for task_id, kind in events:
        last[task_id] = kind
    return {task_id for task_id, kind in last.items() if kind == DEPARTURE_ON_HOLD}

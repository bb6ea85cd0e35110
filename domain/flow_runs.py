"""A case's flow run, as the database keeps it: which run serves the case, and the key
under which its next suspension waits (docs/flow-runs.md)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session, select

from domain.events import record_event
from models import Case


def record_flow_run(
    session: Session, *, case_id: uuid.UUID, flow_run_id: uuid.UUID, now: datetime
) -> None:
    case = session.exec(select(Case).where(Case.id == case_id).with_for_update()).one()
    if case.flow_run_id == flow_run_id:
        return
    case.flow_run_id = flow_run_id
    session.add(case)
    record_event(session, case, "flow_run_started", at=now, flow_run_id=str(flow_run_id))


def next_suspension_key(session: Session, *, case_id: uuid.UUID) -> str | None:
    """A fresh suspend key, or None if a decision arrived since the last pass."""
    case = session.exec(select(Case).where(Case.id == case_id).with_for_update()).one()
    if case.wake_requested_at is not None:
        return None
    case.suspensions += 1
    session.add(case)
    return f"{case.reference}-wait-{case.suspensions}"

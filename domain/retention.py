"""Purging personal data from cases that ended long ago.

A purged case keeps what statistics need (sex, age band at launch, nationality, corridor,
stage dates, outcomes) and loses what identifies the survivor: names, birth date, age,
languages, the travel document number and every free-text reason or note.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from domain.audit import Action, record_audit
from domain.events import record_event
from domain.statistics import survivor_age_band
from models import Case, Survivor, Task
from models.enums import CaseStatus

TOMBSTONE = "[purged]"
# Free text in task results: reasons and notes may say anything about anyone.
_FREE_TEXT = ("reason", "notes", "travel_document_number")
PURGER = "homeward purge"


def cases_to_purge(session: Session, *, closed_for: timedelta, now: datetime) -> list[uuid.UUID]:
    return list(
        session.exec(
            select(Case.id).where(
                col(Case.status).in_([CaseStatus.closed, CaseStatus.rejected]),
                col(Case.closed_at) < now - closed_for,
                col(Case.purged_at).is_(None),
            )
        ).all()
    )


def purge_case(session: Session, *, case_id: uuid.UUID, now: datetime) -> bool:
    """Replace one ended case's personal data with a tombstone; False if already purged."""
    case = session.exec(select(Case).where(Case.id == case_id).with_for_update()).one()
    if case.purged_at is not None:
        return False
    survivor = session.get_one(Survivor, case.survivor_id)
    survivor.age_band = survivor_age_band(survivor, at=case.created_at.date())
    survivor.given_name = TOMBSTONE
    survivor.family_name = TOMBSTONE
    survivor.birth_date = None
    survivor.age_estimate = None
    survivor.languages = []
    case.travel_document_number = None
    case.purged_at = now
    for task in session.exec(select(Task).where(Task.case_id == case.id)).all():
        if task.payload:
            task.payload = _without_free_text(task.payload)
            session.add(task)
    session.add_all([survivor, case])
    record_event(session, case, "case_purged", at=now)
    record_audit(session, action=Action.purge, at=now, username=PURGER, case_id=case.id)
    session.flush()
    return True


def _without_free_text(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: (TOMBSTONE if k in _FREE_TEXT else v) for k, v in payload.items()}

"""Which cases a unit of work moved, so that each is woken once, after the commit.

A decision asks for its case's flow run by `request_wake`: the case's `wake_requested_at`
(which the sweeper reads if the wake is lost) and the session's list of cases to wake. A
commit keeps the list; a rollback drops what it did not commit. Whoever owns the session
(the API's request) wakes what was committed, in one place, once the transaction is over.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from models import Case

_PENDING = "homeward.wakes.pending"
_COMMITTED = "homeward.wakes.committed"


def request_wake(session: Session, case: Case, now: datetime) -> None:
    """Ask that the case's flow run read what this session records, after its commit."""
    case.wake_requested_at = now
    session.add(case)
    session.info.setdefault(_PENDING, {})[case.id] = None  # a set that keeps its order


def take_committed_wakes(session: Session) -> list[uuid.UUID]:
    """The cases whose wake the session's commits requested, once: a second call is empty."""
    return list(session.info.pop(_COMMITTED, {}))


def forget_wake(session: Session, case_id: uuid.UUID) -> None:
    """The caller wakes this case itself (and reports whether the engine took it)."""
    session.info.get(_COMMITTED, {}).pop(case_id, None)


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    committed = session.info.setdefault(_COMMITTED, {})
    committed.update(session.info.pop(_PENDING, {}))


@event.listens_for(Session, "after_rollback")
def _drop_uncommitted(session: Session) -> None:
    session.info.pop(_PENDING, None)

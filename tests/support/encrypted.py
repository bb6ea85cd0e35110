"""Cases with every encrypted column filled, and what the models read back from them."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from core.clock import utcnow
from core.db import engine_for
from models import Agency, Survivor, Task
from models.enums import TaskKind, TaskStatus
from tests.notifications.factories import seed_case

CASES = 7  # with --batch-size 3, every column takes several batches


def seed(url: str) -> dict[str, Any]:
    """Cases with names, notes and notification URLs; what the models read back."""
    with Session(engine_for(url), expire_on_commit=False) as session:
        for n in range(CASES):
            agency, case = seed_case(session, notify_urls=[f"json://hooks.example.org/{n}"])
            session.add(
                Task(
                    case_id=case.id,
                    kind=TaskKind.record_follow_up,
                    agency_id=agency.id,
                    status=TaskStatus.done,
                    due_at=utcnow(),
                    payload={"outcome": "at_risk", "notes": f"note {n}"},
                )
            )
        session.commit()
    return read_back(url)


def read_back(url: str) -> dict[str, Any]:
    with Session(engine_for(url)) as session:
        return {
            "names": sorted(
                (s.given_name, s.family_name) for s in session.exec(select(Survivor)).all()
            ),
            "urls": sorted(a.notify_urls[0] for a in session.exec(select(Agency)).all()),
            "notes": sorted(t.payload["notes"] for t in session.exec(select(Task)).all()),
        }

"""Aggregate figures about cases: what stays identical when personal data is purged."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from core.clock import age_on
from domain.access import age_band
from models import Case, Survivor, Task


@dataclass(frozen=True)
class CaseFigures:
    """Counts over all cases, keyed by plain values so they compare and serialise."""

    by_corridor: dict[str, int]  # "IN>BD": where the survivor was → nationality
    by_sex: dict[str, int]
    by_age_band: dict[str, int]
    by_status: dict[str, int]
    by_stage: dict[str, int]
    outcomes: dict[str, int]  # "record_follow_up:at_risk"
    minors: int
    launched_by_month: dict[str, int]
    closed_by_month: dict[str, int]


def survivor_age_band(survivor: Survivor, *, at: date) -> str:
    """The survivor's age band when the case was launched; kept when the birth date goes."""
    if survivor.age_band is not None:
        return survivor.age_band
    if survivor.birth_date is not None:
        return age_band(age_on(survivor.birth_date, at))
    return age_band(survivor.age_estimate)


def case_figures(session: Session) -> CaseFigures:
    rows = session.exec(
        select(Case, Survivor).join(Survivor, col(Survivor.id) == col(Case.survivor_id))
    ).all()
    outcomes = Counter(
        f"{kind}:{outcome}"
        for kind, outcome in session.exec(
            select(Task.kind, Task.outcome).where(col(Task.outcome).is_not(None))
        ).all()
    )
    return CaseFigures(
        by_corridor=dict(Counter(f"{c.current_country}>{s.nationality}" for c, s in rows)),
        by_sex=dict(Counter(str(s.sex) for _, s in rows)),
        by_age_band=dict(Counter(survivor_age_band(s, at=c.created_at.date()) for c, s in rows)),
        by_status=dict(Counter(str(c.status) for c, _ in rows)),
        by_stage=dict(Counter(str(c.stage) for c, _ in rows)),
        outcomes=dict(outcomes),
        minors=sum(bool(c.is_minor) for c, _ in rows),
        launched_by_month=dict(Counter(c.created_at.strftime("%Y-%m") for c, _ in rows)),
        closed_by_month=dict(
            Counter(c.closed_at.strftime("%Y-%m") for c, _ in rows if c.closed_at is not None)
        ),
    )

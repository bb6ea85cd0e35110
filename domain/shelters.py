"""Shelter places: who holds one, and refusing a placement beyond capacity."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.errors import Conflict
from models import Agency, Case
from models.enums import CaseStatus


def occupancy(session: Session, shelter_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Places taken per shelter: a survivor holds one from the accepted placement (or
    transfer) until the case ends or moves to another shelter."""
    ids = list(shelter_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(Case.shelter_agency_id, func.count())
        .where(
            col(Case.shelter_agency_id).in_(ids),
            Case.status == CaseStatus.open,
            col(Case.placed_at).is_not(None),
        )
        .group_by(col(Case.shelter_agency_id))
    ).all()
    taken = {shelter: count for shelter, count in rows if shelter is not None}
    return {shelter: taken.get(shelter, 0) for shelter in ids}


def ensure_room(session: Session, shelter: Agency, *, for_case: Case) -> None:
    """Conflict when the shelter has no free place for this case's survivor."""
    if shelter.capacity is None:
        return
    # Lock the shelter's row: two acceptances at once must not both take the last place.
    session.exec(select(Agency.id).where(Agency.id == shelter.id).with_for_update()).one()
    taken = occupancy(session, [shelter.id])[shelter.id]
    already_here = for_case.shelter_agency_id == shelter.id and for_case.placed_at is not None
    if not already_here and taken >= shelter.capacity:
        raise Conflict(
            f"{shelter.name} is full ({taken} of {shelter.capacity} places taken); "
            "choose another shelter"
        )

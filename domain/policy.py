"""The rules a case runs under: its corridor's configuration and the survivor's age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from core.clock import age_on
from core.settings import Settings
from domain.corridors import Corridor, Corridors, corridors_for
from models import Case, Survivor
from models.enums import DocumentKind


@dataclass(frozen=True)
class Policy:
    corridors: Corridors
    # Operators may set the follow-up offsets for every corridor at once
    # (HOMEWARD_FOLLOW_UP_DAYS); otherwise each corridor's own apply.
    follow_up_days: tuple[int, ...] | None = None

    def corridor_of(self, case: Case, survivor: Survivor) -> Corridor:
        return self.corridors.for_route(case.current_country, survivor.nationality)

    def follow_ups(self, corridor: Corridor) -> tuple[int, ...]:
        return self.follow_up_days if self.follow_up_days is not None else corridor.follow_up_days


def policy_for(settings: Settings) -> Policy:
    override = settings.follow_up_days if "follow_up_days" in settings.model_fields_set else None
    return Policy(corridors_for(settings), override)


def age_of(survivor: Survivor, case: Case, day: date) -> int | None:
    """The survivor's age on `day`: exact from a birth date, else the estimate made at
    launch carried forward."""
    if survivor.birth_date is not None:
        return age_on(survivor.birth_date, day)
    if survivor.age_estimate is None:
        return None
    return survivor.age_estimate + max(0, age_on(case.created_at.date(), day))


def is_minor_on(survivor: Survivor, case: Case, day: date) -> bool:
    age = age_of(survivor, case, day)
    return age is not None and age < 18


def documents_needed(corridor: Corridor, *, minor: bool) -> tuple[DocumentKind, ...]:
    """Documents the coordinator records before departure (the consulate issues the
    travel document; a child-protection clearance concerns minors only)."""
    return tuple(
        d
        for d in corridor.required_documents
        if d != DocumentKind.travel_document
        and (minor or d != DocumentKind.child_protection_clearance)
    )


def travel_document_valid(case: Case, today: date) -> bool:
    """False when the travel document has expired or runs out before the travel date."""
    if case.travel_document_expires_on is None:
        return True
    needed_until = max(case.travel_date or today, today)
    return case.travel_document_expires_on >= needed_until


def recorded_document_valid(payload: dict[str, Any] | None, case: Case, today: date) -> bool:
    """False when a recorded document (a record_document task's payload) ends before the
    travel date (or has ended): it no longer counts as recorded."""
    expires_on = (payload or {}).get("expires_on")
    if expires_on is None:
        return True
    needed_until = max(case.travel_date or today, today)
    return date.fromisoformat(str(expires_on)) >= needed_until

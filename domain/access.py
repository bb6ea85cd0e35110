"""Who may see which case, task and survivor field. Applied inside queries."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlmodel import Session, col, select

from core.clock import age_on
from core.errors import Forbidden
from domain.workflow import TASKS, Party
from models import Case, Survivor, Task, User
from models.enums import CaseStatus, Role, Stage, TaskKind, TaskStatus

# Which roles may complete which task kinds.
COMPLETERS: dict[TaskKind, frozenset[Role]] = {
    TaskKind.verify_nationality: frozenset({Role.consular_officer}),
    TaskKind.plan_transport: frozenset({Role.coordinator, Role.supervisor}),
    TaskKind.accept_placement: frozenset({Role.shelter_officer}),
    TaskKind.confirm_departure: frozenset({Role.escort_officer}),
    TaskKind.confirm_handover: frozenset({Role.shelter_officer}),
    TaskKind.record_follow_up: frozenset({Role.shelter_officer, Role.case_worker}),
    TaskKind.provide_information: frozenset({Role.coordinator, Role.supervisor}),
    TaskKind.reissue_travel_document: frozenset({Role.consular_officer}),
    TaskKind.record_document: frozenset({Role.coordinator, Role.supervisor}),
    TaskKind.accept_transfer: frozenset({Role.shelter_officer}),
    TaskKind.resolve_duplicate: frozenset({Role.coordinator, Role.supervisor}),
    # Closing a case that ended badly is a supervisor's decision (DESIGN §1).
    TaskKind.approve_closure: frozenset({Role.supervisor}),
}

LAUNCHERS = frozenset({Role.coordinator})
CASE_READERS = frozenset(Role) - {Role.admin}
# Who reads a case's audit trail: these roles of the NGO that coordinates it.
AUDIT_READERS = frozenset({Role.coordinator, Role.supervisor})


def administers(user: User) -> bool:
    return user.role == Role.admin


def require_admin(user: User) -> User:
    """The user, if an administrator: the one check of the API's admin routes and pages."""
    if not administers(user):
        raise Forbidden("only an administrator can do this")
    return user


def launches_cases(user: User) -> bool:
    return user.role in LAUNCHERS


def reads_cases(user: User) -> bool:
    return user.role in CASE_READERS


def reads_audit(case: Case, user: User) -> bool:
    return user.role in AUDIT_READERS and case.coordinator_agency_id == user.agency_id


# What the coordinating NGO's coordinators and supervisors do on its case besides tasks;
# the domain function of each asks the same question, so a page shows a form only to whom
# the function lets act.
HOLD_KEEPERS = frozenset({Role.coordinator, Role.supervisor})
CONSENT_KEEPERS = frozenset({Role.coordinator, Role.supervisor})
REOPENERS = frozenset({Role.coordinator, Role.supervisor})
# Who asks another shelter to take in a survivor in their shelter's care.
TRANSFER_SENDERS = frozenset({Role.shelter_officer})


def places_holds(case: Case, user: User) -> bool:
    """Places and releases the case's legal holds (and reads them)."""
    return user.role in HOLD_KEEPERS and case.coordinator_agency_id == user.agency_id


def records_consent(case: Case, user: User) -> bool:
    return user.role in CONSENT_KEEPERS and case.coordinator_agency_id == user.agency_id


def reopens_case(case: Case, user: User) -> bool:
    return user.role in REOPENERS and case.coordinator_agency_id == user.agency_id


def has_in_care(case: Case, user: User) -> bool:
    """The user's shelter holds the survivor (its place taken)."""
    return case.shelter_agency_id == user.agency_id and case.placed_at is not None


def transfers_survivor(case: Case, user: User) -> bool:
    """Asks another shelter to take the survivor in, and withdraws that request."""
    return has_in_care(case, user) and user.role in TRANSFER_SENDERS


class View(StrEnum):
    """How much of the survivor an agency sees, by the part it plays in the case."""

    full = "full"  # the coordinating NGO
    identity = "identity"  # the consulate verifying nationality
    handover = "handover"  # the receiving shelter
    travel = "travel"  # the escort
    none = "none"


_PARTY_VIEW = {
    Party.consulate: View.identity,
    Party.shelter: View.handover,
    Party.escort: View.travel,
    Party.coordinator: View.full,
    Party.follow_up: View.handover,
    Party.named: View.handover,  # a shelter asked to take the survivor in by transfer
}
# When an agency plays more than one part, it sees the widest view among them.
_VIEW_RANK = [View.none, View.travel, View.handover, View.identity, View.full]


def _takes_part(agency_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL condition on Task, correlated with Case: a task through which the agency still
    takes part in the case, by the rules of its step (DESIGN §6, need to know):

    - a consulate while it verifies and after it approved; after a rejection it keeps only
      the task it decided (in its inbox), not the case;
    - an escort while the case is in transport;
    - a shelter or follow-up NGO from the placement request on, unless it declined, and
      only while the survivor is in its care (a transfer moves access with the survivor);
    - a shelter asked to take the survivor in by transfer, while it decides and after;
    - no one through a withdrawn (cancelled) task.
    """
    outcome = col(Task.outcome)
    kind = col(Task.kind)
    # A shelter's or follow-up NGO's tasks keep granting access only while it still has
    # the survivor in its care: a shelter that transferred the survivor on loses it.
    in_care = or_(
        col(Task.status) == TaskStatus.open,
        col(Task.agency_id) == col(Case.shelter_agency_id),
        col(Task.agency_id) == col(Case.follow_up_agency_id),
    )
    return and_(
        col(Task.agency_id) == agency_id,
        col(Task.case_id) == col(Case.id),
        col(Task.status) != TaskStatus.cancelled,
        or_(
            and_(
                kind.in_([TaskKind.verify_nationality, TaskKind.reissue_travel_document]),
                or_(outcome.is_(None), outcome != "rejected"),
            ),
            and_(kind == TaskKind.confirm_departure, col(Case.stage) == Stage.safe_transport),
            and_(
                kind.in_(
                    [
                        TaskKind.accept_placement,
                        TaskKind.confirm_handover,
                        TaskKind.record_follow_up,
                        TaskKind.accept_transfer,
                    ]
                ),
                or_(outcome.is_(None), outcome.not_in(["declined", "rejected"])),
                in_care,
            ),
            kind.in_(
                [
                    TaskKind.plan_transport,
                    TaskKind.provide_information,
                    TaskKind.record_document,
                    TaskKind.resolve_duplicate,
                    TaskKind.approve_closure,
                ]
            ),
        ),
    )


def case_visible_to(agency_id: uuid.UUID) -> ColumnElement[bool]:
    """SQL condition on Case: the agency coordinates the case, or takes part through a task
    while the case is not halted (without consent nothing is shared)."""
    return or_(
        col(Case.coordinator_agency_id) == agency_id,
        and_(
            exists().where(_takes_part(agency_id)),
            col(Case.status) != CaseStatus.halted,
        ),
    )


def view_for(session: Session, case: Case, user: User) -> View:
    if user.role == Role.admin:
        return View.none
    if case.coordinator_agency_id == user.agency_id:
        return View.full
    if case.status == CaseStatus.halted:
        return View.none
    kinds = session.exec(
        select(Task.kind)
        .join(Case, col(Case.id) == col(Task.case_id))
        .where(Task.case_id == case.id, _takes_part(user.agency_id))
    ).all()
    views = {_PARTY_VIEW[TASKS[TaskKind(k)].party] for k in kinds}
    return max(views, key=_VIEW_RANK.index, default=View.none)


def survivor_fields(
    survivor: Survivor, view: View, *, today: date, purged: bool = False
) -> dict[str, Any] | None:
    """The survivor as the given view may see it; None when it may see nothing. A purged
    case shows only what statistics keep."""
    if view == View.none:
        return None
    if purged:
        return {
            "purged": True,
            "sex": survivor.sex,
            "age_band": survivor.age_band,
            "nationality": survivor.nationality,
        }
    age = (
        age_on(survivor.birth_date, today)
        if survivor.birth_date is not None
        else survivor.age_estimate
    )
    match view:
        case View.full | View.identity:
            return {
                "given_name": survivor.given_name,
                "family_name": survivor.family_name,
                "sex": survivor.sex,
                "birth_date": survivor.birth_date,
                "age_estimate": survivor.age_estimate,
                "nationality": survivor.nationality,
                "languages": survivor.languages,
            }
        case View.handover:
            return {
                "given_name": survivor.given_name,
                "family_name": survivor.family_name,
                "sex": survivor.sex,
                "age": age,
                "languages": survivor.languages,
            }
        case View.travel:
            return {"sex": survivor.sex, "age_band": age_band(age), "languages": survivor.languages}
    return None


def age_band(age: int | None) -> str:
    if age is None:
        return "unknown"
    if age < 12:
        return "under 12"
    if age < 18:
        return "12-17"
    if age < 26:
        return "18-25"
    return "26 or over"

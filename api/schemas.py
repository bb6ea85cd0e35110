"""Response shapes. Request shapes are the domain's own input models."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.access import View
from domain.cases import CaseDetail, TimelineEntry
from domain.workflow import TASKS
from models import Agency, Case, Task, User
from models.enums import (
    AgencyKind,
    CaseStatus,
    ClosureReview,
    HoldReason,
    HoldRelease,
    NotificationStatus,
    Role,
    Stage,
    TaskKind,
    TaskStatus,
    TravelMode,
)


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Token(Public):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int


Check = Literal["ok", "unavailable"]


class Health(Public):
    status: Check = "ok"
    # What was checked and how it went, e.g. {"database": "ok", "prefect": "ok"}.
    checks: dict[str, Check] = {}


class Liveness(Public):
    status: Literal["ok"] = "ok"


class AgencyPublic(Public):
    """An agency as any user may see it: never its notification URLs."""

    id: uuid.UUID
    name: str
    kind: AgencyKind
    country: str
    nationality_served: str | None
    capacity: int | None
    language: str | None
    has_notify_urls: bool
    escorts_children: bool = False
    female_escorts: bool = False
    accepts_children: bool = False
    # Shelters: places taken now (survivors whose placement or transfer it accepted, until
    # their case ends or moves on). Null for other kinds.
    occupancy: int | None = None

    @classmethod
    def of(cls, agency: Agency, *, occupancy: int | None = None) -> AgencyPublic:
        return cls(
            id=agency.id,
            name=agency.name,
            kind=agency.kind,
            country=agency.country,
            nationality_served=agency.nationality_served,
            capacity=agency.capacity,
            language=agency.language,
            has_notify_urls=bool(agency.notify_urls),
            escorts_children=agency.escorts_children,
            female_escorts=agency.female_escorts,
            accepts_children=agency.accepts_children,
            occupancy=occupancy,
        )


class UserPublic(Public):
    id: uuid.UUID
    username: str
    agency_id: uuid.UUID
    role: Role
    is_active: bool

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls.model_validate(user)


class TravelPlan(Public):
    travel_date: date | None
    mode: TravelMode | None
    crossing_point: str | None
    escort_agency_id: uuid.UUID | None
    receiving_shelter_id: uuid.UUID | None
    follow_up_agency_id: uuid.UUID | None


class CaseSummary(Public):
    id: uuid.UUID
    reference: str
    stage: Stage
    status: CaseStatus
    blocked_reason: str | None
    is_minor: bool | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, case: Case) -> CaseSummary:
        return cls.model_validate(case)


class NotificationPublic(Public):
    """A notification to an agency, without its addresses: whom, what, how far it got."""

    id: uuid.UUID
    case_id: uuid.UUID
    case_reference: str
    kind: str
    task_kind: str | None
    agency_id: uuid.UUID
    agency_name: str
    status: NotificationStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None


class CasePublic(CaseSummary):
    """A case as the caller's agency may see it; fields it may not see are null."""

    flow_run_id: uuid.UUID | None
    current_country: str
    closed_at: datetime | None
    purged_at: datetime | None = None
    your_view: View
    survivor: dict[str, Any] | None
    trafficking_status: str | None = None
    consent: dict[str, bool] | None = None
    travel: TravelPlan | None = None
    travel_document_expires_on: date | None = None
    undelivered_notifications: int = 0
    # Why a closed case closed other than by its follow-ups ("duplicate"), and of which case.
    closed_reason: str | None = None
    duplicate_of_case_id: uuid.UUID | None = None
    # For the coordinating NGO: an active legal hold, and whether closing waits for a
    # supervisor (after re-trafficking, lost contact or a reopening).
    legal_hold: bool | None = None
    closure_review: ClosureReview | None = None
    # For the coordinating NGO: notifications failed or being retried, oldest first.
    undelivered: list[NotificationPublic] = []
    waiting_to_resume: bool = Field(
        default=False,
        description="A decision has waited more than a few seconds for the case to move on "
        "(the workflow engine is unreachable or busy); it is kept and applied when it answers.",
    )

    @classmethod
    def of_detail(cls, detail: CaseDetail) -> CasePublic:
        case = detail.case
        full = detail.view == View.full
        sees_travel = detail.view in (View.full, View.handover, View.travel)
        return cls(
            **CaseSummary.of(case).model_dump(),
            flow_run_id=case.flow_run_id,
            current_country=case.current_country,
            closed_at=case.closed_at,
            purged_at=case.purged_at,
            your_view=detail.view,
            survivor=detail.survivor,
            trafficking_status=case.trafficking_status if full else None,
            consent=(
                {
                    "repatriation": case.consent_repatriation,
                    "data_sharing": case.consent_data_sharing,
                    "follow_up": case.consent_follow_up,
                }
                if full
                else None
            ),
            travel=(
                TravelPlan(
                    travel_date=case.travel_date,
                    mode=case.travel_mode,
                    crossing_point=case.crossing_point,
                    escort_agency_id=case.escort_agency_id,
                    receiving_shelter_id=case.shelter_agency_id,
                    follow_up_agency_id=case.follow_up_agency_id,
                )
                if sees_travel
                else None
            ),
            travel_document_expires_on=case.travel_document_expires_on if full else None,
            undelivered_notifications=detail.undelivered_notifications,
            closed_reason=case.closed_reason,
            duplicate_of_case_id=case.duplicate_of_case_id if full else None,
            legal_hold=detail.legal_hold if full else None,
            closure_review=case.closure_review if full else None,
            undelivered=[NotificationPublic.model_validate(n) for n in detail.undelivered],
            waiting_to_resume=detail.waiting_to_resume,
        )


class TaskPublic(Public):
    id: uuid.UUID
    case_id: uuid.UUID
    case_reference: str
    kind: TaskKind
    stage: Stage
    round: int
    status: TaskStatus
    opened_at: datetime
    due_at: datetime
    completed_at: datetime | None
    outcome: str | None
    result: dict[str, Any] | None
    # What you need to act: the consulate's question (and the answer, on a resumed
    # verification), the document to record, the shelter a transfer comes from, the other
    # registration of a possible duplicate (its reference and agency, never its data).
    context: dict[str, Any] | None = None
    overdue: bool = False

    @classmethod
    def of(cls, task: Task, case: Case, *, now: datetime | None = None) -> TaskPublic:
        return cls(
            id=task.id,
            case_id=task.case_id,
            case_reference=case.reference,
            kind=task.kind,
            stage=TASKS[TaskKind(task.kind)].stage,
            round=task.round,
            status=task.status,
            opened_at=task.opened_at,
            due_at=task.due_at,
            completed_at=task.completed_at,
            outcome=task.outcome,
            result=task.payload,
            context=_shown_context(task.context),
            overdue=task.status == TaskStatus.open and now is not None and task.due_at < now,
        )


# Internal keys of a task's context: how services find the other half of a pair.
_INTERNAL_CONTEXT = frozenset({"pair", "other_case_id"})


def _shown_context(context: dict[str, Any] | None) -> dict[str, Any] | None:
    if not context:
        return None
    return {k: v for k, v in context.items() if k not in _INTERNAL_CONTEXT}


class LegalHoldPublic(Public):
    id: uuid.UUID
    case_id: uuid.UUID
    court_case_reference: str
    reason: HoldReason
    placed_at: datetime
    placed_by_user_id: uuid.UUID
    released_at: datetime | None
    release_basis: HoldRelease | None
    permission_reference: str | None


class TaskCompletion(TaskPublic):
    """The completed task; `case_waiting_to_resume` says the decision is recorded but the
    case could not be moved on yet (answered with 202 Accepted)."""

    case_waiting_to_resume: bool = False


class EventPublic(Public):
    """One event of the timeline. `actor_agency_name` and `actor_role` say who acted;
    `actor_username` is shown only to the coordinating NGO, for its own users (null
    otherwise, and for events the workflow wrote itself)."""

    seq: int
    at: datetime
    kind: str
    actor_user_id: uuid.UUID | None
    actor_agency_id: uuid.UUID | None
    actor_agency_name: str | None
    actor_role: Role | None
    actor_username: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, entry: TimelineEntry) -> EventPublic:
        event = entry.event
        return cls(
            seq=event.seq,
            at=event.at,
            kind=event.kind,
            actor_user_id=event.actor_user_id,
            actor_agency_id=event.actor_agency_id,
            actor_agency_name=entry.actor_agency_name,
            actor_role=entry.actor_role,
            actor_username=entry.actor_username,
            data=event.data,
        )


class AuditEntryPublic(Public):
    """One entry of a case's audit trail: who read or changed what, when, from where.
    `detail` names what was touched (field names, task kind, outcome), never personal values."""

    at: datetime
    action: str
    user_id: uuid.UUID | None
    agency_id: uuid.UUID | None
    username: str | None
    address: str | None
    detail: dict[str, Any]


class CaseConsent(Public):
    id: uuid.UUID
    reference: str
    stage: Stage
    status: CaseStatus
    consent: dict[str, bool]

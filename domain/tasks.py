"""An agency's inbox, and recording the decisions it takes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, update
from sqlmodel import Session, col, select

from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.validation import validation_problems
from domain import payloads
from domain.access import COMPLETERS, View
from domain.audit import Action, record_audit
from domain.decisions import record_decision
from domain.duplicates import apply_duplicate_answer
from domain.events import enqueue_notification, record_event
from domain.facts import case_facts
from domain.paging import DEFAULT_LIMIT, Page, SortKey, after, decode_cursor, page_from, page_size
from domain.plausible import CLOCK_SLACK, departure_problem
from domain.policy import Policy, is_minor_on
from domain.shelters import ensure_room
from domain.transfers import apply_transfer_answer
from domain.workflow import (
    ALERTING_OUTCOMES,
    TASKS,
    DepartureBlock,
    closure_review_after,
    departure_blocks,
    documents_missing,
    outcome_of,
)
from models import Agency, Case, Survivor, Task, User
from models.enums import (
    AgencyKind,
    CaseStatus,
    ClosureReview,
    Role,
    Sex,
    TaskKind,
    TaskStatus,
)

TASKS_SORT = SortKey([col(Task.due_at), col(Task.opened_at), col(Task.id)])


def list_tasks_for(
    session: Session,
    *,
    user: User,
    now: datetime,
    status: TaskStatus | None = None,
    kind: TaskKind | None = None,
    overdue: bool | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    address: str | None = None,
) -> Page[tuple[Task, Case]]:
    """A page of the user's agency's tasks (its inbox when status is open), oldest due
    first; `kind` keeps one task kind, `overdue` the open ones past (or not past) their
    deadline. `cursor` (from the previous page) starts after that page's last task."""
    if user.role == Role.admin:
        raise Forbidden("administrators have no inbox")
    size = page_size(limit)
    query = (
        select(Task, Case)
        .join(Case, col(Case.id) == col(Task.case_id))
        .where(Task.agency_id == user.agency_id)
        .order_by(*TASKS_SORT.columns)
    )
    if status is not None:
        query = query.where(Task.status == status)
    if kind is not None:
        query = query.where(Task.kind == kind)
    if overdue is not None:
        late = and_(col(Task.status) == TaskStatus.open, col(Task.due_at) < now)
        query = query.where(late if overdue else ~late)
    if cursor is not None:
        key = decode_cursor("tasks", cursor, [datetime, datetime, uuid.UUID])
        query = query.where(after(TASKS_SORT, key))
    page = page_from(
        [(task, case) for task, case in session.exec(query.limit(size + 1)).all()],
        limit=size,
        list_name="tasks",
        key_of=lambda row: (row[0].due_at, row[0].opened_at, row[0].id),
    )
    _audit_inbox_read(
        session, page.items, user=user, status=status, kind=kind, now=now, address=address
    )
    return page


@dataclass(frozen=True)
class Waiting:
    """An open task of a case: what must be done, by which agency, by when."""

    task: Task
    agency_name: str


def waiting_on(session: Session, *, user: User, case: Case, view: View) -> list[Waiting]:
    """Who must act now on a case the user reads (see `case_detail` for `view`), the
    soonest due first: every open task for the coordinating NGO, the user's own agency's
    open tasks for any other agency."""
    query = (
        select(Task, Agency.name)
        .join(Agency, col(Agency.id) == col(Task.agency_id))
        .where(Task.case_id == case.id, Task.status == TaskStatus.open)
        .order_by(col(Task.due_at), col(Task.id))
    )
    if view != View.full:
        query = query.where(Task.agency_id == user.agency_id)
    return [Waiting(task, name) for task, name in session.exec(query).all()]


def _audit_inbox_read(
    session: Session,
    rows: list[tuple[Task, Case]],
    *,
    user: User,
    status: TaskStatus | None,
    kind: TaskKind | None,
    now: datetime,
    address: str | None,
) -> None:
    """One entry for the page read, naming the tasks it returned by case: a task's result
    may hold a travel document number or a note, and each case's audit trail shows who
    read its tasks (see `audit_trail`)."""
    tasks_by_case: dict[str, list[str]] = {}
    for task, case in rows:
        tasks_by_case.setdefault(str(case.id), []).append(str(task.id))
    record_audit(
        session,
        action=Action.read_tasks,
        at=now,
        user=user,
        address=address,
        status=status,
        kind=kind,
        count=len(rows),
        kinds=sorted({task.kind for task, _ in rows}),
        tasks_by_case=tasks_by_case,
    )
    session.flush()


def get_task_for(session: Session, *, user: User, task_id: uuid.UUID) -> tuple[Task, Case]:
    row = session.exec(
        select(Task, Case)
        .join(Case, col(Case.id) == col(Task.case_id))
        .where(Task.id == task_id, Task.agency_id == user.agency_id)
    ).first()
    if row is None:
        raise NotFound("no such task")
    return row[0], row[1]


def latest_task_of_kind(
    session: Session, *, user: User, case_id: uuid.UUID, kind: TaskKind
) -> Task:
    """The user's agency's task of this kind on the case: the open one, else the latest."""
    task = session.exec(
        select(Task)
        .where(Task.case_id == case_id, Task.agency_id == user.agency_id, Task.kind == kind)
        .order_by(col(Task.status) != TaskStatus.open, col(Task.opened_at).desc())
    ).first()
    if task is None:
        raise NotFound("no such task")
    return task


def complete_task(
    session: Session,
    *,
    user: User,
    task_id: uuid.UUID,
    body: dict[str, Any],
    policy: Policy,
    now: datetime,
    address: str | None = None,
) -> tuple[Task, Case]:
    """Record an agency's decision on its task and ask the case's flow to move on."""
    task, case = get_task_for(session, user=user, task_id=task_id)
    if user.role not in COMPLETERS[TaskKind(task.kind)]:
        allowed = " or ".join(sorted(COMPLETERS[TaskKind(task.kind)]))
        raise Forbidden(f"a {task.kind} task is completed by a {allowed}, not a {user.role}")
    if task.status != TaskStatus.open:
        raise Conflict(f"this task is already {task.status}; it cannot be completed again")
    if case.status != CaseStatus.open:
        raise Conflict(f"the case is {case.status}; its tasks can no longer be completed")
    adapter = TASKS[TaskKind(task.kind)].payload
    try:
        payload = adapter.validate_python(body)
    except ValidationError as error:
        # In a union's errors pydantic places the decision word first in the location.
        tag = body.get("decision") if isinstance(body, dict) else None
        problems = validation_problems(
            error.errors(include_input=False),
            tag=tag,
            expected_tags=list(adapter.core_schema.get("choices", {})),
        )
        raise Invalid("; ".join(problems), problems=problems) from None
    outcome = outcome_of(TaskKind(task.kind), payload)
    # Guarded update: of two concurrent completions, exactly one changes the row. The
    # effects below run in the same transaction, so a refusal among them undoes it.
    done = session.execute(
        update(Task)
        .where(col(Task.id) == task.id, col(Task.status) == TaskStatus.open)
        .values(
            status=TaskStatus.done,
            completed_at=now,
            completed_by_user_id=user.id,
            outcome=outcome,
            payload=payload.model_dump(mode="json"),
        )
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this task was completed by someone else a moment ago")
    session.refresh(task)
    _check_and_apply(session, case, task, payload, policy, now)
    case.updated_at = now
    # The outcome word only: the payload's free text (a reason, a note) stays out of the log.
    record_decision(
        session,
        case,
        user=user,
        event="task_completed",
        action=Action.complete_task,
        now=now,
        address=address,
        task_id=str(task.id),
        task_kind=task.kind,
        round=task.round,
        outcome=outcome,
    )
    session.refresh(task)
    return task, case


def _check_and_apply(
    session: Session, case: Case, task: Task, payload: Any, policy: Policy, now: datetime
) -> None:
    """Rules that need the database, then the facts the decision adds to the case."""
    today = now.date()
    match payload:
        case payloads.NationalityApproved():
            if payload.travel_document_expires_on <= today:
                raise Invalid("travel_document_expires_on: the travel document has already expired")
            case.travel_document_number = payload.travel_document_number
            case.travel_document_expires_on = payload.travel_document_expires_on
        case payloads.TravelDocumentReissued():
            needed = max(case.travel_date or today, today)
            if payload.travel_document_expires_on < needed:
                raise Invalid(
                    "travel_document_expires_on: the re-issued document must still be valid "
                    f"on the travel date ({needed.isoformat()})"
                )
            case.travel_document_number = payload.travel_document_number
            case.travel_document_expires_on = payload.travel_document_expires_on
        case payloads.DocumentRecorded():
            if payload.issued_on > today:
                raise Invalid("issued_on: the document is dated in the future")
            needed = max(case.travel_date or today, today)
            if payload.expires_on is not None and payload.expires_on < needed:
                raise Invalid(
                    f"expires_on: the document runs out before the travel ({needed.isoformat()})"
                )
        case payloads.TransportPlan():
            _check_plan(session, case, payload, policy, today)
        case payloads.PlacementAccepted():
            ensure_room(session, session.get_one(Agency, task.agency_id), for_case=case)
            case.placed_at = now
        case payloads.Departure():
            obstacles = departure_obstacles(session, case, policy, now)
            if obstacles:
                raise Conflict("the survivor cannot depart yet: " + "; ".join(obstacles))
            problem = departure_problem(
                payload.departed_at,
                launched_at=case.created_at,
                travel_date=case.travel_date,
                now=now,
            )
            if problem is not None:
                raise Invalid(problem)
            case.departed_at = payload.departed_at
        case payloads.Handover():
            if payload.received_at > now + CLOCK_SLACK:
                raise Invalid("received_at: the handover time is in the future")
            if case.departed_at is not None and payload.received_at < case.departed_at:
                raise Invalid("received_at: the handover is recorded as before the departure")
            case.handed_over_at = payload.received_at
        case payloads.FollowUp():
            review = closure_review_after(
                ClosureReview(case.closure_review) if case.closure_review else None,
                payload.outcome,
            )
            case.closure_review = review
            if payload.outcome in ALERTING_OUTCOMES:
                record_event(session, case, "follow_up_alert", at=now, task_id=str(task.id))
                enqueue_notification(
                    session,
                    case,
                    agency_id=case.coordinator_agency_id,
                    kind="follow_up_alert",
                    dedupe_key=f"follow_up_alert:{task.id}",
                    at=now,
                )
        case payloads.ClosureApproved():
            case.closure_review = ClosureReview.approved
        case payloads.FollowUpContinued():
            if not case.consent_follow_up:
                raise Conflict(
                    "the survivor withdrew consent to follow-up contact: no further "
                    "follow-up can be planned; decide to close"
                )
            case.extra_follow_ups += 1
        case payloads.TransferAccepted() | payloads.TransferRejected():
            apply_transfer_answer(
                session, case, task, accepted=payload.decision == "accepted", now=now
            )
        case payloads.DuplicateLinked() | payloads.DuplicateDismissed():
            apply_duplicate_answer(
                session, case, task, linked=payload.decision == "linked", now=now
            )


def _check_plan(
    session: Session, case: Case, plan: payloads.TransportPlan, policy: Policy, today: date
) -> None:
    if plan.travel_date < today:
        raise Invalid("travel_date: the travel date is in the past")
    escort = _require_agency(session, plan.escort_agency_id, AgencyKind.escort, "escort_agency_id")
    shelter = _require_agency(
        session, plan.receiving_shelter_id, AgencyKind.shelter, "receiving_shelter_id"
    )
    if plan.follow_up_agency_id is not None:
        ngo = _require_agency(
            session, plan.follow_up_agency_id, AgencyKind.ngo, "follow_up_agency_id"
        )
        if ngo.country != shelter.country:
            raise Invalid(
                "follow_up_agency_id: the follow-up NGO must work in the home country, "
                f"where the receiving shelter is ({shelter.country})"
            )
    survivor = session.get_one(Survivor, case.survivor_id)
    minor = is_minor_on(survivor, case, plan.travel_date)
    if minor:
        # A child's journey (DESIGN §2: minors are flagged on the travel date).
        if not escort.escorts_children:
            raise Invalid(
                "escort_agency_id: the survivor is under 18 on the travel date; choose an "
                "escort agency registered as able to escort children"
            )
        corridor = policy.corridor_of(case, survivor)
        if (
            corridor.female_escort_for_girls
            and survivor.sex == Sex.female
            and not escort.female_escorts
        ):
            raise Invalid(
                f"escort_agency_id: on the {corridor.name} corridor a girl travels with a "
                "female escort; choose an escort agency registered as having female escorts"
            )
        if not shelter.accepts_children:
            raise Invalid(
                "receiving_shelter_id: the survivor is under 18 on the travel date; choose "
                "a shelter registered as taking children"
            )
    # A new plan gives up any place held under the previous one.
    case.placed_at = None
    ensure_room(session, shelter, for_case=case)
    case.is_minor = minor
    case.travel_date = plan.travel_date
    case.travel_mode = plan.mode
    case.crossing_point = plan.crossing_point
    case.escort_agency_id = plan.escort_agency_id
    case.shelter_agency_id = plan.receiving_shelter_id
    case.follow_up_agency_id = plan.follow_up_agency_id


def departure_obstacles(session: Session, case: Case, policy: Policy, now: datetime) -> list[str]:
    """Why the survivor may not leave now, in words a coordinator can act on: the blocks
    that also keep the workflow from asking the escort."""
    facts = case_facts(session, case, policy, now)
    words = {
        DepartureBlock.legal_hold: (
            "a legal hold is active (release it with the court's permission)"
        ),
        DepartureBlock.no_travel_document: "no travel document is recorded",
        DepartureBlock.travel_document_expired: (
            f"the travel document expires on {_iso(case.travel_document_expires_on)}, "
            "before the travel date; the consulate has been asked to re-issue it"
        ),
        DepartureBlock.documents_missing: (
            "required documents are not recorded, or end before the travel date: "
            + ", ".join(documents_missing(facts))
        ),
    }
    return [words[block] for block in departure_blocks(facts)]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _require_agency(session: Session, agency_id: uuid.UUID, kind: AgencyKind, field: str) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None or agency.kind != kind:
        raise Invalid(f"{field}: no {kind} agency is registered under this id")
    return agency

"""The repatriation workflow as data and one pure decision function.

Nothing here touches a database, a clock or a network: `decide` looks at a snapshot of a
case and says the single next thing that should happen. Services apply that step and ask
again until the answer is to wait for a person or that the case has ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter

from domain import payloads
from models.enums import (
    CaseStatus,
    ClosureReview,
    DocumentKind,
    FollowUpOutcome,
    Stage,
    TaskKind,
    TaskStatus,
)


class Party(StrEnum):
    """Who in the case an assignment goes to; services resolve it to an agency."""

    coordinator = "coordinator"
    consulate = "consulate"
    escort = "escort"
    shelter = "shelter"
    follow_up = "follow_up"  # a named home-country NGO, else the receiving shelter
    named = "named"  # an agency the request names (a transfer's receiving shelter)


class Notice(StrEnum):
    """Messages to the coordinator that are not a task of their own."""

    verification_rejected = "verification_rejected"
    placement_declined = "placement_declined"
    handover_confirmed = "handover_confirmed"
    case_closed = "case_closed"


@dataclass(frozen=True)
class TaskSpec:
    kind: TaskKind
    stage: Stage
    party: Party
    payload: TypeAdapter[Any]


TASKS: dict[TaskKind, TaskSpec] = {
    spec.kind: spec
    for spec in (
        TaskSpec(
            TaskKind.verify_nationality,
            Stage.consular_verification,
            Party.consulate,
            TypeAdapter(payloads.VerifyNationality),
        ),
        TaskSpec(
            TaskKind.provide_information,
            Stage.consular_verification,
            Party.coordinator,
            TypeAdapter(payloads.InformationProvided),
        ),
        TaskSpec(
            TaskKind.record_document,
            Stage.safe_transport,
            Party.coordinator,
            TypeAdapter(payloads.DocumentRecorded),
        ),
        TaskSpec(
            TaskKind.plan_transport,
            Stage.safe_transport,
            Party.coordinator,
            TypeAdapter(payloads.TransportPlan),
        ),
        TaskSpec(
            TaskKind.accept_placement,
            Stage.safe_transport,
            Party.shelter,
            TypeAdapter(payloads.AcceptPlacement),
        ),
        TaskSpec(
            TaskKind.reissue_travel_document,
            Stage.safe_transport,
            Party.consulate,
            TypeAdapter(payloads.TravelDocumentReissued),
        ),
        TaskSpec(
            TaskKind.confirm_departure,
            Stage.safe_transport,
            Party.escort,
            TypeAdapter(payloads.Departure),
        ),
        TaskSpec(
            TaskKind.confirm_handover,
            Stage.shelter_handover,
            Party.shelter,
            TypeAdapter(payloads.Handover),
        ),
        TaskSpec(
            TaskKind.record_follow_up,
            Stage.reintegration_followup,
            Party.follow_up,
            TypeAdapter(payloads.FollowUp),
        ),
        TaskSpec(
            TaskKind.accept_transfer,
            Stage.reintegration_followup,
            Party.named,
            TypeAdapter(payloads.AcceptTransfer),
        ),
        TaskSpec(
            TaskKind.approve_closure,
            Stage.reintegration_followup,
            Party.coordinator,
            TypeAdapter(payloads.ApproveClosure),
        ),
        TaskSpec(
            TaskKind.resolve_duplicate,
            Stage.identification,
            Party.coordinator,
            TypeAdapter(payloads.ResolveDuplicate),
        ),
    )
}

STAGE_ORDER: tuple[Stage, ...] = (
    Stage.identification,
    Stage.consular_verification,
    Stage.safe_transport,
    Stage.shelter_handover,
    Stage.reintegration_followup,
    Stage.closed,
)

# Follow-up outcomes that alert the coordinator at once and make closing the case wait for
# a supervisor's decision.
ALERTING_OUTCOMES = frozenset({FollowUpOutcome.re_trafficked, FollowUpOutcome.lost_contact})

# Time allowed per task kind when no corridor says otherwise. Policy choices, not law: no
# SOP sets numeric limits (the corridors file sets them per country pair).
DEFAULT_DEADLINES: Mapping[str, timedelta] = {
    TaskKind.verify_nationality: timedelta(days=90),
    TaskKind.provide_information: timedelta(days=14),
    TaskKind.reissue_travel_document: timedelta(days=30),
    TaskKind.record_document: timedelta(days=30),
    TaskKind.plan_transport: timedelta(days=14),
    TaskKind.accept_placement: timedelta(days=7),
    TaskKind.confirm_handover: timedelta(days=2),  # counted from the departure
    TaskKind.record_follow_up: timedelta(days=14),
    TaskKind.accept_transfer: timedelta(days=7),
    TaskKind.resolve_duplicate: timedelta(days=7),
    TaskKind.approve_closure: timedelta(days=14),
}


def due_at(
    kind: TaskKind,
    opened_at: datetime,
    *,
    travel_date: date | None = None,
    departed_at: datetime | None = None,
    deadlines: Mapping[str, timedelta] = DEFAULT_DEADLINES,
    allowance: timedelta | None = None,
) -> datetime:
    """When a task of this kind, opened at `opened_at`, is due. `allowance` replaces the
    corridor's (a verification resumed after a question keeps what was left of its own)."""
    match kind:
        case TaskKind.confirm_departure:
            if travel_date is None:
                raise ValueError("a departure is due by its planned travel date")
            # Due by the end of the planned travel day, and never before the task opens.
            return max(datetime.combine(travel_date + timedelta(days=1), time(), UTC), opened_at)
        case TaskKind.confirm_handover:
            return (departed_at or opened_at) + deadlines[kind]
    if allowance is not None:
        return opened_at + allowance
    return opened_at + deadlines[kind]


def allowance_left(due: datetime, paused_at: datetime) -> timedelta:
    """What was left of a deadline when the clock stopped (a question went to the
    coordinator): the consulate gets it back when the answer comes."""
    return max(due - paused_at, timedelta(0))


class Escalation(StrEnum):
    """How far past its deadline a task is: each level is announced once."""

    overdue = "overdue"  # due: the assigned agency is reminded and the coordinator told
    escalated = "escalated"  # overdue by half its allowance again: the focal point is told


def escalation_due(opened_at: datetime, due: datetime, now: datetime) -> Escalation | None:
    """The highest escalation level an open task has reached."""
    if now < due:
        return None
    if now >= due + (due - opened_at) / 2:
        return Escalation.escalated
    return Escalation.overdue


def closure_review_after(
    current: ClosureReview | None, outcome: FollowUpOutcome
) -> ClosureReview | None:
    """A follow-up that found the survivor re-trafficked or lost means a supervisor decides
    when the case closes; a later good outcome does not lift that."""
    if outcome in ALERTING_OUTCOMES:
        return ClosureReview.required
    return current


def outcome_of(kind: TaskKind, payload: Any) -> str:
    """The short outcome word stored on a done task."""
    decision = getattr(payload, "decision", None)
    if decision is not None:
        return str(decision)
    match kind:
        case TaskKind.plan_transport:
            return "planned"
        case TaskKind.confirm_departure:
            return "departed"
        case TaskKind.confirm_handover:
            return "received"
        case TaskKind.record_follow_up:
            return str(payload.outcome)
        case TaskKind.provide_information:
            return "answered"
        case TaskKind.reissue_travel_document:
            return "reissued"
        case TaskKind.record_document:
            return "recorded"
    raise ValueError(f"no outcome defined for {kind}")


# --- the decision function -------------------------------------------------------------


@dataclass(frozen=True)
class TaskFact:
    kind: TaskKind
    round: int
    status: TaskStatus
    outcome: str | None = None
    subject: str | None = None  # which document a record_document task is about
    # An open confirm_departure whose escort has been told the departure is on hold.
    on_hold: bool = False


@dataclass(frozen=True)
class CaseFacts:
    stage: Stage
    status: CaseStatus
    tasks: tuple[TaskFact, ...] = ()
    consulate_available: bool = False
    handed_over_at: datetime | None = None
    follow_up_days: tuple[int, ...] = (30, 90, 180, 365)
    follow_up_consent: bool = True
    # From the case's corridor and the survivor: documents the coordinator must record
    # before departure (the travel document comes from the consulate), and whether the
    # receiving shelter must accept the placement.
    documents_needed: tuple[DocumentKind, ...] = ()
    placement_required: bool = True
    # False when the travel document expires before the travel date (or has expired).
    travel_document_valid: bool = True
    travel_document_recorded: bool = True  # False until the consulate has issued one
    legal_hold: bool = False
    # Follow-ups beyond the corridor's offsets, asked for by a supervisor or a reopening.
    extra_follow_ups: int = 0
    closure_review: ClosureReview | None = None

    def task(self, kind: TaskKind, round_: int) -> TaskFact | None:
        return next((t for t in self.tasks if t.kind == kind and t.round == round_), None)

    def latest(self, kind: TaskKind) -> TaskFact | None:
        rounds = [t for t in self.tasks if t.kind == kind]
        return max(rounds, key=lambda t: t.round) if rounds else None


@dataclass(frozen=True)
class OpenTask:
    kind: TaskKind
    round: int
    notice: Notice | None = None
    subject: str | None = None


@dataclass(frozen=True)
class MoveTo:
    stage: Stage
    notice: Notice | None = None


@dataclass(frozen=True)
class Finish:
    status: CaseStatus
    notice: Notice
    stage: Stage | None = None  # a rejected case keeps the stage it stopped in


@dataclass(frozen=True)
class Wait:
    """Nothing to do until a person acts, a consulate is registered, or `until` passes."""

    blocked: str | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Withdraw:
    """Cancel a task that has become moot (the survivor left before it was done)."""

    kind: TaskKind
    round: int


@dataclass(frozen=True)
class HoldDeparture:
    """Tell the escort that the departure it was asked to confirm is on hold."""

    round: int


@dataclass(frozen=True)
class LiftDepartureHold:
    """Tell the escort that the departure on hold may go ahead."""

    round: int


@dataclass(frozen=True)
class Ended:
    status: CaseStatus


Step = OpenTask | MoveTo | Finish | Withdraw | HoldDeparture | LiftDepartureHold | Wait | Ended

NO_CONSULATE = "no_consulate"
CONSENT_WITHDRAWN = "consent_withdrawn"
LEGAL_HOLD = "legal_hold"
TRAVEL_DOCUMENT_EXPIRED = "travel_document_expired"

_WAITING = Wait()


class DepartureBlock(StrEnum):
    """Why the survivor cannot leave yet. The workflow asks the escort only when there is
    none, and the departure is refused while there is one: both read `departure_blocks`."""

    legal_hold = "legal_hold"
    no_travel_document = "no_travel_document"
    travel_document_expired = "travel_document_expired"
    documents_missing = "documents_missing"


def documents_missing(facts: CaseFacts) -> tuple[DocumentKind, ...]:
    """Documents the corridor requires that have no record valid through the journey."""
    return tuple(
        document
        for document in facts.documents_needed
        if not any(
            t.kind == TaskKind.record_document
            and t.subject == document
            and t.status == TaskStatus.done
            for t in facts.tasks
        )
    )


def departure_blocks(facts: CaseFacts) -> tuple[DepartureBlock, ...]:
    """Everything that keeps the survivor from leaving today; empty when they may."""
    blocks = []
    if facts.legal_hold:
        blocks.append(DepartureBlock.legal_hold)
    if not facts.travel_document_recorded:
        blocks.append(DepartureBlock.no_travel_document)
    elif not facts.travel_document_valid:
        blocks.append(DepartureBlock.travel_document_expired)
    if documents_missing(facts):
        blocks.append(DepartureBlock.documents_missing)
    return tuple(blocks)


def decide(facts: CaseFacts, now: datetime) -> Step:
    """The one next step for a case, given what has happened so far."""
    if facts.status == CaseStatus.halted:
        # Not an end: the case resumes where it stopped when consent is given again.
        return Wait(blocked=CONSENT_WITHDRAWN)
    if facts.status != CaseStatus.open:
        return Ended(facts.status)
    match facts.stage:
        case Stage.identification:
            if not facts.consulate_available:
                return Wait(blocked=NO_CONSULATE)
            return MoveTo(Stage.consular_verification)
        case Stage.consular_verification:
            return _verification(facts)
        case Stage.safe_transport:
            return _transport(facts)
        case Stage.shelter_handover:
            handover = facts.latest(TaskKind.confirm_handover)
            if handover is None or handover.status == TaskStatus.cancelled:
                return OpenTask(TaskKind.confirm_handover, _next_round(handover))
            if handover.status == TaskStatus.open:
                return _WAITING
            return MoveTo(Stage.reintegration_followup, Notice.handover_confirmed)
        case Stage.reintegration_followup:
            return _follow_up(facts, now)
        case Stage.closed:
            # An open case never sits in `closed`; treat it as finishing the close.
            return Finish(CaseStatus.closed, Notice.case_closed, Stage.closed)
    raise ValueError(f"unknown stage {facts.stage}")


def _next_round(task: TaskFact | None) -> int:
    return 1 if task is None else task.round + 1


def _verification(facts: CaseFacts) -> Step:
    verify = facts.latest(TaskKind.verify_nationality)
    if verify is None or verify.status == TaskStatus.cancelled:
        return OpenTask(TaskKind.verify_nationality, _next_round(verify))
    if verify.status == TaskStatus.open:
        return _WAITING
    if verify.outcome == "approved":
        return MoveTo(Stage.safe_transport)
    if verify.outcome == "information_requested":
        # The question goes to the coordinator; the verification clock stops meanwhile.
        question = facts.task(TaskKind.provide_information, verify.round)
        if question is None:
            return OpenTask(TaskKind.provide_information, verify.round)
        if question.status == TaskStatus.open:
            return _WAITING
        # Answered (or withdrawn by a halt): the consulate takes the verification up again.
        return OpenTask(TaskKind.verify_nationality, verify.round + 1)
    return Finish(CaseStatus.rejected, Notice.verification_rejected)


def _transport(facts: CaseFacts) -> Step:
    plan = facts.latest(TaskKind.plan_transport)
    departure = facts.task(TaskKind.confirm_departure, plan.round) if plan else None
    if departure is not None and departure.status == TaskStatus.done:
        # The survivor has left: document work still open is moot, and a document that
        # lapses after departure is not asked for again.
        for task in facts.tasks:
            if task.status == TaskStatus.open and task.kind in _BEFORE_DEPARTURE:
                return Withdraw(task.kind, task.round)
        return MoveTo(Stage.shelter_handover)
    # Documents the corridor requires are gathered while the transport is planned.
    for document in facts.documents_needed:
        recorded = [
            t
            for t in facts.tasks
            if t.kind == TaskKind.record_document
            and t.subject == document
            and t.status != TaskStatus.cancelled
        ]
        if not recorded:
            return OpenTask(
                TaskKind.record_document,
                _next_round(facts.latest(TaskKind.record_document)),
                subject=document,
            )
    if plan is None or plan.status == TaskStatus.cancelled:
        return OpenTask(TaskKind.plan_transport, _next_round(plan))
    if plan.status == TaskStatus.open:
        return _transport_wait(facts)
    # Placement and departure share the round of the plan they belong to.
    if facts.placement_required:
        placement = facts.task(TaskKind.accept_placement, plan.round)
        if placement is None:
            return OpenTask(TaskKind.accept_placement, plan.round)
        if placement.status == TaskStatus.open:
            return _transport_wait(facts)
        if placement.outcome == "declined":
            return OpenTask(TaskKind.plan_transport, plan.round + 1, Notice.placement_declined)
        if placement.status == TaskStatus.cancelled:
            # Withdrawn (the case was halted): the plan is made afresh, nobody declined.
            return OpenTask(TaskKind.plan_transport, plan.round + 1)
    departure = facts.task(TaskKind.confirm_departure, plan.round)
    if not facts.travel_document_valid:
        # The document runs out before the journey: back to the consulate to re-issue it.
        reissue = facts.latest(TaskKind.reissue_travel_document)
        if reissue is None or reissue.status != TaskStatus.open:
            return OpenTask(TaskKind.reissue_travel_document, _next_round(reissue))
    blocked = bool(departure_blocks(facts))
    if departure is None:
        if blocked:
            return _transport_wait(facts)  # the escort is asked once the survivor can leave
        return OpenTask(TaskKind.confirm_departure, plan.round)
    if departure.status == TaskStatus.open:
        # A block that comes or goes while the escort holds the task is told to them once.
        if blocked and not departure.on_hold:
            return HoldDeparture(plan.round)
        if departure.on_hold and not blocked:
            return LiftDepartureHold(plan.round)
        return _transport_wait(facts)
    return OpenTask(TaskKind.plan_transport, plan.round + 1)  # departure withdrawn


# Tasks that only matter until the survivor departs.
_BEFORE_DEPARTURE = frozenset({TaskKind.record_document, TaskKind.reissue_travel_document})


def _transport_wait(facts: CaseFacts) -> Wait:
    """Waiting for a person in transport; a hold or an expired document is shown as why."""
    if facts.legal_hold:
        return Wait(blocked=LEGAL_HOLD)
    if not facts.travel_document_valid:
        return Wait(blocked=TRAVEL_DOCUMENT_EXPIRED)
    return _WAITING


def _follow_up(facts: CaseFacts, now: datetime) -> Step:
    """Follow-ups fill the configured offsets in order, then any extra ones a supervisor or
    a reopening asked for (due at once). A cancelled one (the case was halted) leaves its
    place unfilled, so a new round reopens it on resumption."""
    if facts.handed_over_at is None:
        raise ValueError("a case in follow-up has a handover time")
    follow_ups = [t for t in facts.tasks if t.kind == TaskKind.record_follow_up]
    pending = [t for t in follow_ups if t.status == TaskStatus.open]
    if not facts.follow_up_consent:
        if pending:
            return _WAITING  # the service cancels them with the withdrawal
        return _close(facts)
    filled = len(pending) + sum(t.status == TaskStatus.done for t in follow_ups)
    if filled < len(facts.follow_up_days) + facts.extra_follow_ups:
        if filled < len(facts.follow_up_days):
            opens_at = facts.handed_over_at + timedelta(days=facts.follow_up_days[filled])
        else:
            opens_at = now
        if now >= opens_at:
            return OpenTask(
                TaskKind.record_follow_up, _next_round(facts.latest(TaskKind.record_follow_up))
            )
        return Wait(until=opens_at)
    if pending:
        return _WAITING
    return _close(facts)


def _close(facts: CaseFacts) -> Step:
    """Close, unless a supervisor must decide first: then close when they say so, or follow
    up once more (which adds an extra follow-up, while consent to follow-up lasts)."""
    if facts.closure_review == ClosureReview.required:
        review = facts.latest(TaskKind.approve_closure)
        if review is not None and review.status == TaskStatus.open:
            return _WAITING
        return OpenTask(TaskKind.approve_closure, _next_round(review))
    return Finish(CaseStatus.closed, Notice.case_closed, Stage.closed)

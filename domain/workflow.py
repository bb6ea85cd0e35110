"""The repatriation workflow as data and one pure decision function.

Nothing here touches a database, a clock or a network: `decide` looks at a snapshot of a
case and says the single next thing that should happen. Services apply that step and ask
again until the answer is to wait for a person or that the case has ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter

from domain import payloads
from models.enums import CaseStatus, Stage, TaskKind, TaskStatus


class Party(StrEnum):
    """Who in the case an assignment goes to; services resolve it to an agency."""

    coordinator = "coordinator"
    consulate = "consulate"
    escort = "escort"
    shelter = "shelter"
    follow_up = "follow_up"  # a named home-country NGO, else the receiving shelter


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


@dataclass(frozen=True)
class Deadlines:
    """Time allowed per task kind. Policy choices, not law: no SOP sets numeric limits."""

    verify_nationality: timedelta = timedelta(days=90)
    plan_transport: timedelta = timedelta(days=14)
    accept_placement: timedelta = timedelta(days=7)
    handover_after_departure: timedelta = timedelta(days=2)
    record_follow_up: timedelta = timedelta(days=14)


DEFAULT_DEADLINES = Deadlines()


def due_at(
    kind: TaskKind,
    opened_at: datetime,
    *,
    travel_date: date | None = None,
    departed_at: datetime | None = None,
    deadlines: Deadlines = DEFAULT_DEADLINES,
) -> datetime:
    """When a task of this kind, opened at `opened_at`, is due."""
    match kind:
        case TaskKind.verify_nationality:
            return opened_at + deadlines.verify_nationality
        case TaskKind.plan_transport:
            return opened_at + deadlines.plan_transport
        case TaskKind.accept_placement:
            return opened_at + deadlines.accept_placement
        case TaskKind.confirm_departure:
            if travel_date is None:
                raise ValueError("a departure is due by its planned travel date")
            # Due by the end of the planned travel day, and never before the task opens.
            return max(datetime.combine(travel_date + timedelta(days=1), time(), UTC), opened_at)
        case TaskKind.confirm_handover:
            return (departed_at or opened_at) + deadlines.handover_after_departure
        case TaskKind.record_follow_up:
            return opened_at + deadlines.record_follow_up
    raise ValueError(f"unknown task kind {kind}")


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
    raise ValueError(f"no outcome defined for {kind}")


# --- the decision function -------------------------------------------------------------


@dataclass(frozen=True)
class TaskFact:
    kind: TaskKind
    round: int
    status: TaskStatus
    outcome: str | None = None


@dataclass(frozen=True)
class CaseFacts:
    stage: Stage
    status: CaseStatus
    tasks: tuple[TaskFact, ...] = ()
    consulate_available: bool = False
    handed_over_at: datetime | None = None
    follow_up_days: tuple[int, ...] = (30, 90, 180, 365)
    follow_up_consent: bool = True

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
class Ended:
    status: CaseStatus


Step = OpenTask | MoveTo | Finish | Wait | Ended

NO_CONSULATE = "no_consulate"
CONSENT_WITHDRAWN = "consent_withdrawn"

_WAITING = Wait()


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
    return Finish(CaseStatus.rejected, Notice.verification_rejected)


def _transport(facts: CaseFacts) -> Step:
    plan = facts.latest(TaskKind.plan_transport)
    if plan is None or plan.status == TaskStatus.cancelled:
        return OpenTask(TaskKind.plan_transport, _next_round(plan))
    if plan.status == TaskStatus.open:
        return _WAITING
    # Placement and departure share the round of the plan they belong to.
    placement = facts.task(TaskKind.accept_placement, plan.round)
    if placement is None:
        return OpenTask(TaskKind.accept_placement, plan.round)
    if placement.status == TaskStatus.open:
        return _WAITING
    if placement.outcome == "declined":
        return OpenTask(TaskKind.plan_transport, plan.round + 1, Notice.placement_declined)
    if placement.status == TaskStatus.cancelled:
        # Withdrawn (the case was halted): the plan is made afresh, nobody declined.
        return OpenTask(TaskKind.plan_transport, plan.round + 1)
    departure = facts.task(TaskKind.confirm_departure, plan.round)
    if departure is None:
        return OpenTask(TaskKind.confirm_departure, plan.round)
    if departure.status == TaskStatus.open:
        return _WAITING
    if departure.status == TaskStatus.cancelled:
        return OpenTask(TaskKind.plan_transport, plan.round + 1)
    return MoveTo(Stage.shelter_handover)


def _follow_up(facts: CaseFacts, now: datetime) -> Step:
    """Follow-ups fill the configured offsets in order. A cancelled one (the case was
    halted) leaves its offset unfilled, so a new round reopens it on resumption."""
    if facts.handed_over_at is None:
        raise ValueError("a case in follow-up has a handover time")
    follow_ups = _follow_ups(facts)
    pending = [t for t in follow_ups if t.status == TaskStatus.open]
    if not facts.follow_up_consent:
        if pending:
            return _WAITING  # the service cancels them with the withdrawal
        return Finish(CaseStatus.closed, Notice.case_closed, Stage.closed)
    filled = len(pending) + sum(t.status == TaskStatus.done for t in follow_ups)
    if filled < len(facts.follow_up_days):
        opens_at = facts.handed_over_at + timedelta(days=facts.follow_up_days[filled])
        if now >= opens_at:
            return OpenTask(
                TaskKind.record_follow_up, _next_round(facts.latest(TaskKind.record_follow_up))
            )
        return Wait(until=opens_at)
    if pending:
        return _WAITING
    return Finish(CaseStatus.closed, Notice.case_closed, Stage.closed)


def _follow_ups(facts: CaseFacts) -> list[TaskFact]:
    return [t for t in facts.tasks if t.kind == TaskKind.record_follow_up]

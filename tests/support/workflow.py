"""A stand-in for the services around `decide`: small factories for case facts and a tiny
engine that applies steps and completions the way the services do. Shared by the workflow's
example tests and its property tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from domain.workflow import (
    CaseFacts,
    Ended,
    Finish,
    HoldDeparture,
    LiftDepartureHold,
    MoveTo,
    OpenTask,
    Step,
    TaskFact,
    Wait,
    Withdraw,
    closure_review_after,
    decide,
    departure_blocks,
)
from models.enums import (
    CaseStatus,
    ClosureReview,
    DocumentKind,
    FollowUpOutcome,
    Stage,
    TaskKind,
    TaskStatus,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
HANDOVER = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

V, P, A, D, H, F = (
    TaskKind.verify_nationality,
    TaskKind.plan_transport,
    TaskKind.accept_placement,
    TaskKind.confirm_departure,
    TaskKind.confirm_handover,
    TaskKind.record_follow_up,
)
INFO, DOC, REISSUE = (
    TaskKind.provide_information,
    TaskKind.record_document,
    TaskKind.reissue_travel_document,
)
TRANSFER, DUPLICATE, CLOSURE = (
    TaskKind.accept_transfer,
    TaskKind.resolve_duplicate,
    TaskKind.approve_closure,
)
CLEARANCE, EXIT_PERMIT = DocumentKind.child_protection_clearance, DocumentKind.exit_permit

# Kinds only a service opens (a transfer request, a launch that found a likely duplicate).
SERVICE_OPENED = frozenset({TRANSFER, DUPLICATE})


# --- factories --------------------------------------------------------------------------


def facts(
    stage: Stage,
    *tasks: TaskFact,
    status: CaseStatus = CaseStatus.open,
    consulate_available: bool = True,
    handed_over_at: datetime | None = None,
    follow_up_days: tuple[int, ...] = (30, 90, 180, 365),
    **more: Any,
) -> CaseFacts:
    return CaseFacts(
        stage=stage,
        status=status,
        tasks=tasks,
        consulate_available=consulate_available,
        handed_over_at=handed_over_at,
        follow_up_days=follow_up_days,
        **more,
    )


def open_(kind: TaskKind, round_: int = 1, subject: str | None = None) -> TaskFact:
    return TaskFact(kind, round_, TaskStatus.open, subject=subject)


def done(kind: TaskKind, outcome: str, round_: int = 1, subject: str | None = None) -> TaskFact:
    return TaskFact(kind, round_, TaskStatus.done, outcome, subject)


def cancelled(kind: TaskKind, round_: int = 1, subject: str | None = None) -> TaskFact:
    return TaskFact(kind, round_, TaskStatus.cancelled, subject=subject)


def on_hold(kind: TaskKind, round_: int = 1) -> TaskFact:
    """An open task whose agency was told it is on hold."""
    return TaskFact(kind, round_, TaskStatus.open, on_hold=True)


def follow_up(*tasks: TaskFact, days: tuple[int, ...] = (30, 90), **more: Any) -> CaseFacts:
    return facts(
        Stage.reintegration_followup,
        *tasks,
        handed_over_at=HANDOVER,
        follow_up_days=days,
        **more,
    )


SHELTER = str(uuid.uuid4())
ESCORT = str(uuid.uuid4())
PLAN = {
    "travel_date": "2026-04-15",
    "mode": "road",
    "crossing_point": "Petrapole-Benapole",
    "escort_agency_id": ESCORT,
    "receiving_shelter_id": SHELTER,
}

# One valid completion per outcome, as an agency would post it, and the outcome word it
# yields. The first example of a kind gives the outcome `answers` hands out by default.
EXAMPLES: list[tuple[TaskKind, dict[str, Any], str]] = [
    (
        V,
        {
            "decision": "approved",
            "travel_document_number": "TP-0012345",
            "travel_document_expires_on": "2027-12-31",
        },
        "approved",
    ),
    (V, {"decision": "rejected", "reason": "Not a national of Bangladesh"}, "rejected"),
    (
        V,
        {"decision": "information_requested", "question": "Which district is the family in?"},
        "information_requested",
    ),
    (INFO, {"answer": "Jessore; the family confirmed by telephone"}, "answered"),
    (DOC, {"reference": "CPC-2026-0042", "issued_on": "2026-03-20"}, "recorded"),
    (
        DOC,
        {"reference": "EXIT-77", "issued_on": "2026-03-20", "expires_on": "2026-06-20"},
        "recorded",
    ),
    (P, PLAN, "planned"),
    (P, {**PLAN, "follow_up_agency_id": str(uuid.uuid4())}, "planned"),
    (A, {"decision": "accepted"}, "accepted"),
    (A, {"decision": "declined", "reason": "No capacity this month"}, "declined"),
    (
        REISSUE,
        {"travel_document_number": "TP-0099887", "travel_document_expires_on": "2028-06-30"},
        "reissued",
    ),
    (D, {"departed_at": "2026-04-15T05:30:00+05:30"}, "departed"),
    (H, {"received_at": "2026-04-15T16:00:00+06:00"}, "received"),
    *[
        (F, {"outcome": outcome.value, "notes": "Visited at home"}, outcome.value)
        for outcome in FollowUpOutcome
    ],
    (F, {"outcome": "reintegrating"}, "reintegrating"),
    (TRANSFER, {"decision": "accepted"}, "accepted"),
    (TRANSFER, {"decision": "rejected", "reason": "No bed for a family"}, "rejected"),
    (DUPLICATE, {"decision": "dismissed"}, "dismissed"),
    (DUPLICATE, {"decision": "dismissed", "reason": "Different birth year"}, "dismissed"),
    (DUPLICATE, {"decision": "linked"}, "linked"),
    (CLOSURE, {"decision": "close", "reason": "Settled with her family"}, "close"),
    (
        CLOSURE,
        {"decision": "continue_follow_up", "reason": "One more visit after the trial"},
        "continue_follow_up",
    ),
]

OUTCOMES: dict[TaskKind, list[str]] = {}
for _kind, _body, _outcome in EXAMPLES:
    if _outcome not in OUTCOMES.setdefault(_kind, []):
        OUTCOMES[_kind].append(_outcome)


# --- a tiny engine that applies steps the way the services do --------------------------


class Refused(Exception):
    """What a service answers when a completion cannot be accepted."""


def apply(case: CaseFacts, step: Step, now: datetime) -> CaseFacts:
    """The effect of an automatic step on the facts."""
    match step:
        case OpenTask(kind=kind, round=round_, subject=subject):
            if case.task(kind, round_) is not None:
                raise AssertionError(f"{kind} round {round_} exists already")
            return replace(case, tasks=(*case.tasks, open_(kind, round_, subject)))
        case MoveTo(stage=stage):
            return replace(case, stage=stage)
        case Finish(status=status, stage=stage):
            return replace(case, status=status, stage=stage or case.stage)
        case Withdraw(kind=kind, round=round_):
            return _change(case, kind, round_, status=TaskStatus.cancelled)
        case HoldDeparture(round=round_):
            return _change(case, D, round_, on_hold=True)
        case LiftDepartureHold(round=round_):
            return _change(case, D, round_, on_hold=False)
    raise AssertionError(f"{step} is not an automatic step")


def _change(case: CaseFacts, kind: TaskKind, round_: int, **changes: Any) -> CaseFacts:
    return replace(
        case,
        tasks=tuple(
            replace(t, **changes) if (t.kind, t.round) == (kind, round_) else t for t in case.tasks
        ),
    )


def resolve(
    case: CaseFacts, task: TaskFact, status: TaskStatus, outcome: str | None, now: datetime
) -> CaseFacts:
    """Complete or cancel an open task with what the service does on top of recording it;
    anything else is refused and leaves the facts as they were."""
    current = case.task(task.kind, task.round)
    if current is None or current.status != TaskStatus.open:
        raise Refused(f"{task.kind} round {task.round} is not open")
    if status == TaskStatus.done:
        if outcome not in OUTCOMES[task.kind]:
            raise Refused(f"{outcome!r} is not an outcome of {task.kind}")
        blocks = departure_blocks(case) if task.kind == D else ()
        if blocks:
            raise Refused("the survivor cannot depart yet: " + ", ".join(blocks).replace("_", " "))
    elif status == TaskStatus.cancelled:
        outcome = None
    else:
        raise Refused(f"a task cannot be set back to {status}")
    updated = replace(current, status=status, outcome=outcome)
    case = replace(case, tasks=tuple(updated if t is current else t for t in case.tasks))
    if status == TaskStatus.done:
        case = _effects(case, updated, now)
    return case


def _effects(case: CaseFacts, task: TaskFact, now: datetime) -> CaseFacts:
    """What the services record on the case when a task is done."""
    match task.kind, task.outcome:
        case TaskKind.confirm_handover, _:
            return replace(case, handed_over_at=now)
        case TaskKind.record_follow_up, str(outcome):
            review = closure_review_after(case.closure_review, FollowUpOutcome(outcome))
            return replace(case, closure_review=review)
        case TaskKind.approve_closure, "close":
            return replace(case, closure_review=ClosureReview.approved)
        case TaskKind.approve_closure, "continue_follow_up":
            return replace(case, extra_follow_ups=case.extra_follow_ups + 1)
        case TaskKind.reissue_travel_document, _:
            return replace(case, travel_document_valid=True)
        case TaskKind.resolve_duplicate, "linked":
            # The later case closes as a duplicate of the earlier one.
            return replace(_cancel_open(case), status=CaseStatus.closed)
    return case


def _cancel_open(case: CaseFacts, kinds: frozenset[TaskKind] | None = None) -> CaseFacts:
    return replace(
        case,
        tasks=tuple(
            replace(t, status=TaskStatus.cancelled)
            if t.status == TaskStatus.open and (kinds is None or t.kind in kinds)
            else t
            for t in case.tasks
        ),
    )


def halt(case: CaseFacts) -> CaseFacts:
    """Consent to repatriation withdrawn: every open task is cancelled."""
    return replace(_cancel_open(case), status=CaseStatus.halted)


def resume(case: CaseFacts) -> CaseFacts:
    """Consent given again: the case takes up where it stopped."""
    return replace(case, status=CaseStatus.open)


def withdraw_follow_up_consent(case: CaseFacts) -> CaseFacts:
    """No more visits: the open follow-ups are cancelled with the withdrawal."""
    return replace(_cancel_open(case, frozenset({F})), follow_up_consent=False)


def open_tasks(case: CaseFacts) -> list[TaskFact]:
    return [t for t in case.tasks if t.status == TaskStatus.open]


Trace = list[object]


def drive(
    case: CaseFacts,
    now: datetime,
    answer: Callable[[TaskFact], str],
    max_steps: int = 100,
) -> tuple[CaseFacts, Trace]:
    """Run a case to its end: answer each open task, let time pass to the next follow-up."""
    trace: Trace = []
    for _ in range(max_steps):
        step = decide(case, now)
        trace.append(step)
        match step:
            case Ended() | Wait(blocked=str()):
                return case, trace
            case Wait(until=until):
                pending = open_tasks(case)
                if pending:
                    task = pending[0]
                    outcome = answer(task)
                    trace.append(("done", task.kind, task.round, outcome))
                    case = resolve(case, task, TaskStatus.done, outcome, now)
                elif until is not None:
                    trace.append(("time", until))
                    now = until
                else:
                    return case, trace
            case _:
                case = apply(case, step, now)
    raise AssertionError(f"no end after {max_steps} steps: {trace[-10:]}")


def answers(**by_kind: list[str]) -> Callable[[TaskFact], str]:
    """Outcomes handed out in order per task kind; the first outcome listed otherwise."""
    queues = {TaskKind(kind): list(outcomes) for kind, outcomes in by_kind.items()}

    def answer(task: TaskFact) -> str:
        queue = queues.get(task.kind)
        if queue:
            return queue.pop(0)
        return OUTCOMES[task.kind][0]

    return answer


def transport_of(trace: Trace) -> Trace:
    """The part of a trace from entering transport to leaving it."""
    start, end = MoveTo(Stage.safe_transport), MoveTo(Stage.shelter_handover)
    first = trace.index(start) + 1 if start in trace else 0
    last = trace.index(end) + 1 if end in trace else len(trace)
    return trace[first:last]

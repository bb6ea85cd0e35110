"""The workflow definition and `decide`, tested without a database or a clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.workflow import (
    CONSENT_WITHDRAWN,
    DEFAULT_DEADLINES,
    NO_CONSULATE,
    STAGE_ORDER,
    TASKS,
    CaseFacts,
    Deadlines,
    Ended,
    Finish,
    MoveTo,
    Notice,
    OpenTask,
    Party,
    Step,
    TaskFact,
    Wait,
    decide,
    due_at,
    outcome_of,
)
from models.enums import CaseStatus, FollowUpOutcome, Stage, TaskKind, TaskStatus

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


# --- factories --------------------------------------------------------------------------


def facts(
    stage: Stage,
    *tasks: TaskFact,
    status: CaseStatus = CaseStatus.open,
    consulate_available: bool = True,
    handed_over_at: datetime | None = None,
    follow_up_days: tuple[int, ...] = (30, 90, 180, 365),
) -> CaseFacts:
    return CaseFacts(
        stage=stage,
        status=status,
        tasks=tasks,
        consulate_available=consulate_available,
        handed_over_at=handed_over_at,
        follow_up_days=follow_up_days,
    )


def open_(kind: TaskKind, round_: int = 1) -> TaskFact:
    return TaskFact(kind, round_, TaskStatus.open)


def done(kind: TaskKind, outcome: str, round_: int = 1) -> TaskFact:
    return TaskFact(kind, round_, TaskStatus.done, outcome)


def cancelled(kind: TaskKind, round_: int = 1) -> TaskFact:
    return TaskFact(kind, round_, TaskStatus.cancelled)


def follow_up(*tasks: TaskFact, days: tuple[int, ...] = (30, 90)) -> CaseFacts:
    return facts(Stage.reintegration_followup, *tasks, handed_over_at=HANDOVER, follow_up_days=days)


SHELTER = str(uuid.uuid4())
ESCORT = str(uuid.uuid4())

# One valid completion per outcome, as an agency would post it, and the outcome word it yields.
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
        P,
        {
            "travel_date": "2026-04-15",
            "mode": "road",
            "crossing_point": "Petrapole-Benapole",
            "escort_agency_id": ESCORT,
            "receiving_shelter_id": SHELTER,
        },
        "planned",
    ),
    (A, {"decision": "accepted"}, "accepted"),
    (A, {"decision": "declined", "reason": "No capacity this month"}, "declined"),
    (D, {"departed_at": "2026-04-15T05:30:00+05:30"}, "departed"),
    (H, {"received_at": "2026-04-15T16:00:00+06:00"}, "received"),
    *[
        (F, {"outcome": outcome.value, "notes": "Visited at home"}, outcome.value)
        for outcome in FollowUpOutcome
    ],
    (F, {"outcome": "reintegrating"}, "reintegrating"),
]

OUTCOMES: dict[TaskKind, list[str]] = {}
for _kind, _body, _outcome in EXAMPLES:
    if _outcome not in OUTCOMES.setdefault(_kind, []):
        OUTCOMES[_kind].append(_outcome)


# --- a tiny engine that applies steps the way the services do --------------------------


def apply(case: CaseFacts, step: Step, now: datetime) -> CaseFacts:
    """The effect of an automatic step on the facts."""
    match step:
        case OpenTask(kind=kind, round=round_):
            return replace(case, tasks=(*case.tasks, open_(kind, round_)))
        case MoveTo(stage=stage):
            return replace(case, stage=stage)
        case Finish(status=status, stage=stage):
            return replace(case, status=status, stage=stage or case.stage)
    raise AssertionError(f"{step} is not an automatic step")


def resolve(
    case: CaseFacts, task: TaskFact, status: TaskStatus, outcome: str | None, now: datetime
) -> CaseFacts:
    """Complete or cancel an open task; a received handover records the handover time."""
    tasks = tuple(
        TaskFact(t.kind, t.round, status, outcome) if t == task else t for t in case.tasks
    )
    case = replace(case, tasks=tasks)
    if task.kind == H and status == TaskStatus.done:
        case = replace(case, handed_over_at=now)
    return case


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


# --- whole cases ------------------------------------------------------------------------


def test_happy_path_runs_from_identification_to_closed() -> None:
    start = facts(Stage.identification, follow_up_days=(30, 90))

    end, trace = drive(start, NOW, answers())

    assert trace == [
        MoveTo(Stage.consular_verification),
        OpenTask(V, 1),
        Wait(),
        ("done", V, 1, "approved"),
        MoveTo(Stage.safe_transport),
        OpenTask(P, 1),
        Wait(),
        ("done", P, 1, "planned"),
        OpenTask(A, 1),
        Wait(),
        ("done", A, 1, "accepted"),
        OpenTask(D, 1),
        Wait(),
        ("done", D, 1, "departed"),
        MoveTo(Stage.shelter_handover),
        OpenTask(H, 1),
        Wait(),
        ("done", H, 1, "received"),
        MoveTo(Stage.reintegration_followup, Notice.handover_confirmed),
        Wait(until=NOW + timedelta(days=30)),
        ("time", NOW + timedelta(days=30)),
        OpenTask(F, 1),
        Wait(until=NOW + timedelta(days=90)),
        ("done", F, 1, "reintegrating"),
        Wait(until=NOW + timedelta(days=90)),
        ("time", NOW + timedelta(days=90)),
        OpenTask(F, 2),
        Wait(),
        ("done", F, 2, "reintegrating"),
        Finish(CaseStatus.closed, Notice.case_closed, Stage.closed),
        Ended(CaseStatus.closed),
    ]
    assert (end.stage, end.status) == (Stage.closed, CaseStatus.closed)


def test_rejected_verification_ends_the_case_in_its_stage() -> None:
    end, trace = drive(facts(Stage.identification), NOW, answers(verify_nationality=["rejected"]))

    assert trace == [
        MoveTo(Stage.consular_verification),
        OpenTask(V, 1),
        Wait(),
        ("done", V, 1, "rejected"),
        Finish(CaseStatus.rejected, Notice.verification_rejected),
        Ended(CaseStatus.rejected),
    ]
    assert (end.stage, end.status) == (Stage.consular_verification, CaseStatus.rejected)
    assert [t.kind for t in end.tasks] == [V]


def test_declined_placement_plans_again_and_the_next_placement_uses_the_new_round() -> None:
    start = facts(Stage.safe_transport, done(V, "approved"))

    end, trace = drive(start, NOW, answers(accept_placement=["declined", "declined", "accepted"]))

    transport = trace[: trace.index(MoveTo(Stage.shelter_handover)) + 1]
    assert transport == [
        OpenTask(P, 1),
        Wait(),
        ("done", P, 1, "planned"),
        OpenTask(A, 1),
        Wait(),
        ("done", A, 1, "declined"),
        OpenTask(P, 2, Notice.placement_declined),
        Wait(),
        ("done", P, 2, "planned"),
        OpenTask(A, 2),
        Wait(),
        ("done", A, 2, "declined"),
        OpenTask(P, 3, Notice.placement_declined),
        Wait(),
        ("done", P, 3, "planned"),
        OpenTask(A, 3),
        Wait(),
        ("done", A, 3, "accepted"),
        OpenTask(D, 3),
        Wait(),
        ("done", D, 3, "departed"),
        MoveTo(Stage.shelter_handover),
    ]
    assert end.status == CaseStatus.closed


def test_case_without_a_consulate_waits_blocked_and_moves_on_once_one_exists() -> None:
    waiting = facts(Stage.identification, consulate_available=False)

    assert decide(waiting, NOW) == Wait(blocked=NO_CONSULATE)
    assert decide(replace(waiting, consulate_available=True), NOW) == MoveTo(
        Stage.consular_verification
    )


# --- one stage at a time ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        ((), OpenTask(V, 1)),
        ((open_(V),), Wait()),
        ((done(V, "approved"),), MoveTo(Stage.safe_transport)),
        ((done(V, "rejected"),), Finish(CaseStatus.rejected, Notice.verification_rejected)),
        ((cancelled(V),), OpenTask(V, 2)),
        ((cancelled(V), open_(V, 2)), Wait()),
        ((cancelled(V), done(V, "approved", 2)), MoveTo(Stage.safe_transport)),
        ((cancelled(V), cancelled(V, 2)), OpenTask(V, 3)),
    ],
    ids=[
        "absent-opens-round-1",
        "open-waits",
        "approved-moves-to-transport",
        "rejected-finishes-rejected",
        "cancelled-opens-next-round",
        "reopened-round-waits",
        "reopened-round-approved-moves-on",
        "cancelled-twice-opens-round-3",
    ],
)
def test_verification_step(tasks: tuple[TaskFact, ...], expected: Step) -> None:
    assert decide(facts(Stage.consular_verification, *tasks), NOW) == expected


def test_rejected_verification_keeps_the_stage_it_stopped_in() -> None:
    step = decide(facts(Stage.consular_verification, done(V, "rejected")), NOW)

    assert isinstance(step, Finish)
    assert step.stage is None


PLANNED = done(P, "planned")
ACCEPTED = done(A, "accepted")


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        ((), OpenTask(P, 1)),
        ((open_(P),), Wait()),
        ((cancelled(P),), OpenTask(P, 2)),
        ((PLANNED,), OpenTask(A, 1)),
        ((PLANNED, open_(A)), Wait()),
        ((PLANNED, done(A, "declined")), OpenTask(P, 2, Notice.placement_declined)),
        ((PLANNED, cancelled(A)), OpenTask(P, 2)),
        ((PLANNED, ACCEPTED), OpenTask(D, 1)),
        ((PLANNED, ACCEPTED, open_(D)), Wait()),
        ((PLANNED, ACCEPTED, done(D, "departed")), MoveTo(Stage.shelter_handover)),
        ((PLANNED, ACCEPTED, cancelled(D)), OpenTask(P, 2)),
        ((PLANNED, done(A, "declined"), open_(P, 2)), Wait()),
        ((PLANNED, done(A, "declined"), done(P, "planned", 2)), OpenTask(A, 2)),
        (
            (PLANNED, done(A, "declined"), done(P, "planned", 2), done(A, "accepted", 2)),
            OpenTask(D, 2),
        ),
        (
            (PLANNED, ACCEPTED, cancelled(D), done(P, "planned", 2), done(A, "accepted", 2)),
            OpenTask(D, 2),
        ),
    ],
    ids=[
        "no-plan-opens-plan-1",
        "plan-open-waits",
        "plan-cancelled-opens-plan-2",
        "planned-asks-the-shelter",
        "placement-open-waits",
        "placement-declined-plans-again",
        "placement-cancelled-plans-again",
        "placement-accepted-asks-the-escort",
        "departure-open-waits",
        "departed-moves-to-handover",
        "departure-cancelled-plans-again",
        "second-plan-open-waits",
        "second-plan-asks-for-placement-round-2",
        "second-placement-accepted-asks-departure-round-2",
        "replanned-after-cancelled-departure-asks-departure-round-2",
    ],
)
def test_transport_step(tasks: tuple[TaskFact, ...], expected: Step) -> None:
    assert decide(facts(Stage.safe_transport, done(V, "approved"), *tasks), NOW) == expected


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        ((), OpenTask(H, 1)),
        ((open_(H),), Wait()),
        ((done(H, "received"),), MoveTo(Stage.reintegration_followup, Notice.handover_confirmed)),
        ((cancelled(H),), OpenTask(H, 2)),
        ((cancelled(H), open_(H, 2)), Wait()),
        (
            (cancelled(H), done(H, "received", 2)),
            MoveTo(Stage.reintegration_followup, Notice.handover_confirmed),
        ),
    ],
    ids=[
        "absent-opens-round-1",
        "open-waits",
        "received-moves-to-follow-up",
        "cancelled-opens-next-round",
        "reopened-round-waits",
        "reopened-round-received-moves-on",
    ],
)
def test_handover_step(tasks: tuple[TaskFact, ...], expected: Step) -> None:
    assert decide(facts(Stage.shelter_handover, *tasks), NOW) == expected


@pytest.mark.parametrize("status", [CaseStatus.closed, CaseStatus.rejected])
@pytest.mark.parametrize("stage", list(Stage))
def test_case_that_is_not_open_has_ended(stage: Stage, status: CaseStatus) -> None:
    case = facts(stage, open_(V), status=status, consulate_available=False)

    assert decide(case, NOW) == Ended(status)


@pytest.mark.parametrize("stage", list(Stage))
def test_halted_case_waits_for_consent_instead_of_ending(stage: Stage) -> None:
    case = facts(stage, cancelled(V), status=CaseStatus.halted, consulate_available=True)

    assert decide(case, NOW) == Wait(blocked=CONSENT_WITHDRAWN)


def test_open_case_sitting_in_closed_stage_is_finished_as_closed() -> None:
    assert decide(facts(Stage.closed), NOW) == Finish(
        CaseStatus.closed, Notice.case_closed, Stage.closed
    )


# --- follow-ups -------------------------------------------------------------------------


def test_follow_up_stage_without_a_handover_time_is_an_error() -> None:
    with pytest.raises(ValueError, match="handover"):
        decide(facts(Stage.reintegration_followup, handed_over_at=None), NOW)


def test_single_follow_up_due_at_once_opens_then_closes_the_case() -> None:
    days = (0,)

    assert decide(follow_up(days=days), HANDOVER) == OpenTask(F, 1)
    assert decide(follow_up(open_(F), days=days), HANDOVER) == Wait()
    assert decide(follow_up(done(F, "at_risk"), days=days), HANDOVER) == Finish(
        CaseStatus.closed, Notice.case_closed, Stage.closed
    )


def test_two_follow_ups_due_at_once_both_open_and_both_must_be_done() -> None:
    days = (0, 0)

    assert decide(follow_up(days=days), HANDOVER) == OpenTask(F, 1)
    assert decide(follow_up(open_(F), days=days), HANDOVER) == OpenTask(F, 2)
    assert decide(follow_up(open_(F), open_(F, 2), days=days), HANDOVER) == Wait()
    assert decide(follow_up(done(F, "reintegrating"), open_(F, 2), days=days), NOW) == Wait()
    assert decide(follow_up(open_(F), done(F, "lost_contact", 2), days=days), NOW) == Wait()
    assert decide(
        follow_up(done(F, "reintegrating"), done(F, "lost_contact", 2), days=days), NOW
    ) == Finish(CaseStatus.closed, Notice.case_closed, Stage.closed)


def test_follow_ups_with_offsets_wait_until_due_and_open_when_due() -> None:
    day_30, day_90 = HANDOVER + timedelta(days=30), HANDOVER + timedelta(days=90)
    second = timedelta(seconds=1)

    assert decide(follow_up(), HANDOVER) == Wait(until=day_30)
    assert decide(follow_up(), day_30 - second) == Wait(until=day_30)
    assert decide(follow_up(), day_30) == OpenTask(F, 1)
    assert decide(follow_up(open_(F)), day_30) == Wait(until=day_90)
    assert decide(follow_up(done(F, "reintegrating")), day_90 - second) == Wait(until=day_90)
    assert decide(follow_up(done(F, "reintegrating")), day_90) == OpenTask(F, 2)
    # A late first follow-up does not hold back the second one.
    assert decide(follow_up(open_(F)), day_90) == OpenTask(F, 2)
    assert decide(follow_up(done(F, "reintegrating"), open_(F, 2)), day_90) == Wait()
    assert decide(follow_up(open_(F), done(F, "at_risk", 2)), day_90) == Wait()
    assert decide(follow_up(done(F, "reintegrating"), done(F, "at_risk", 2)), day_90) == Finish(
        CaseStatus.closed, Notice.case_closed, Stage.closed
    )


def test_follow_ups_are_counted_from_the_handover_not_from_now() -> None:
    much_later = HANDOVER + timedelta(days=400)

    assert decide(follow_up(), much_later) == OpenTask(F, 1)
    assert decide(follow_up(done(F, "reintegrating")), much_later) == OpenTask(F, 2)


def test_cancelled_follow_up_is_reopened_as_a_new_round() -> None:
    # A halt cancels the open follow-up; on resumption its offset is still unfilled.
    day_90 = HANDOVER + timedelta(days=90)

    assert decide(follow_up(cancelled(F)), day_90) == OpenTask(F, 2)
    assert decide(follow_up(cancelled(F), done(F, "reintegrating", 2)), day_90) == OpenTask(F, 3)
    closing = follow_up(cancelled(F), done(F, "reintegrating", 2), done(F, "at_risk", 3))
    assert decide(closing, day_90) == Finish(CaseStatus.closed, Notice.case_closed, Stage.closed)


def test_withdrawn_follow_up_consent_closes_the_case() -> None:
    day_90 = HANDOVER + timedelta(days=90)
    withdrawn = replace(follow_up(done(F, "reintegrating")), follow_up_consent=False)

    assert decide(withdrawn, day_90) == Finish(CaseStatus.closed, Notice.case_closed, Stage.closed)
    still_open = replace(follow_up(open_(F)), follow_up_consent=False)
    assert decide(still_open, day_90) == Wait()


# --- deadlines --------------------------------------------------------------------------

OPENED = datetime(2026, 4, 10, 14, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (V, OPENED + timedelta(days=90)),
        (P, OPENED + timedelta(days=14)),
        (A, OPENED + timedelta(days=7)),
        (F, OPENED + timedelta(days=14)),
        (H, OPENED + timedelta(days=2)),
    ],
)
def test_due_at_adds_the_default_allowance(kind: TaskKind, expected: datetime) -> None:
    due = due_at(kind, OPENED)

    assert due == expected
    assert due.utcoffset() == timedelta(0)


def test_departure_is_due_at_the_end_of_the_planned_travel_day() -> None:
    due = due_at(D, OPENED, travel_date=date(2026, 4, 15))

    assert due == datetime(2026, 4, 16, 0, 0, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_departure_planned_in_the_past_is_due_when_it_opens() -> None:
    assert due_at(D, OPENED, travel_date=date(2026, 4, 1)) == OPENED


def test_departure_planned_for_the_opening_day_is_due_at_its_midnight() -> None:
    assert due_at(D, OPENED, travel_date=OPENED.date()) == datetime(2026, 4, 11, tzinfo=UTC)


def test_departure_without_a_travel_date_has_no_deadline() -> None:
    with pytest.raises(ValueError, match="travel date"):
        due_at(D, OPENED)


def test_handover_is_due_two_days_after_the_departure_not_after_opening() -> None:
    departed = OPENED - timedelta(hours=30)

    assert due_at(H, OPENED, departed_at=departed) == departed + timedelta(days=2)


def test_due_at_honours_configured_deadlines() -> None:
    deadlines = Deadlines(
        verify_nationality=timedelta(days=1),
        plan_transport=timedelta(days=2),
        accept_placement=timedelta(days=3),
        handover_after_departure=timedelta(days=4),
        record_follow_up=timedelta(days=5),
    )

    assert [due_at(kind, OPENED, deadlines=deadlines) - OPENED for kind in (V, P, A, H, F)] == [
        timedelta(days=n) for n in (1, 2, 3, 4, 5)
    ]


def test_default_deadlines_match_the_design() -> None:
    design = Deadlines(
        verify_nationality=timedelta(days=90),
        plan_transport=timedelta(days=14),
        accept_placement=timedelta(days=7),
        handover_after_departure=timedelta(days=2),
        record_follow_up=timedelta(days=14),
    )

    assert design == DEFAULT_DEADLINES


# --- task kinds and payloads ------------------------------------------------------------

PARTIES = {
    V: Party.consulate,
    P: Party.coordinator,
    A: Party.shelter,
    D: Party.escort,
    H: Party.shelter,
    F: Party.follow_up,
}


@pytest.mark.parametrize("kind", list(TaskKind))
def test_every_task_kind_has_a_spec_in_a_working_stage(kind: TaskKind) -> None:
    spec = TASKS[kind]

    assert spec.kind == kind
    assert spec.stage in STAGE_ORDER
    assert spec.stage not in (Stage.identification, Stage.closed)
    assert spec.party == PARTIES[kind]


def test_stage_order_lists_every_stage_once_ending_in_closed() -> None:
    assert sorted(STAGE_ORDER) == sorted(Stage)
    assert len(set(STAGE_ORDER)) == len(STAGE_ORDER)
    assert STAGE_ORDER[0] == Stage.identification
    assert STAGE_ORDER[-1] == Stage.closed


@pytest.mark.parametrize(("kind", "body", "outcome"), EXAMPLES)
def test_valid_payload_is_accepted_and_gives_its_outcome(
    kind: TaskKind, body: dict[str, Any], outcome: str
) -> None:
    payload = TASKS[kind].payload.validate_python(body)

    assert outcome_of(kind, payload) == outcome


@pytest.mark.parametrize(("kind", "body", "outcome"), EXAMPLES)
def test_payload_with_an_unknown_field_is_rejected(
    kind: TaskKind, body: dict[str, Any], outcome: str
) -> None:
    with pytest.raises(ValidationError, match="extra"):
        TASKS[kind].payload.validate_python({**body, "survivor_name": "not allowed"})


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (V, {"decision": "maybe"}),
        (V, {"decision": "approved", "travel_document_expires_on": "2027-12-31"}),
        (V, {"decision": "rejected", "reason": "   "}),
        (A, {"decision": "declined"}),
        (P, {**EXAMPLES[2][1], "mode": "teleport"}),
        (D, {"departed_at": "2026-04-15T05:30:00"}),
        (H, {"received_at": "2026-04-15T16:00:00"}),
        (F, {"outcome": "fine"}),
    ],
    ids=[
        "unknown-decision",
        "approval-without-document-number",
        "blank-rejection-reason",
        "decline-without-reason",
        "unknown-travel-mode",
        "departure-without-zone",
        "handover-without-zone",
        "unknown-follow-up-outcome",
    ],
)
def test_invalid_payload_is_rejected(kind: TaskKind, body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TASKS[kind].payload.validate_python(body)


def test_every_task_kind_has_an_example_for_every_outcome() -> None:
    assert set(OUTCOMES) == set(TaskKind)
    assert set(OUTCOMES[F]) == {o.value for o in FollowUpOutcome}


# --- property: any sequence of answers leads somewhere sensible ------------------------

SETTLE_LIMIT = 12  # automatic steps between two human actions; a pass needs far fewer
SETBACK_LIMIT = 3  # declines and cancellations per case, so that every case can finish
# Enough answers and waits for the longest case: 5 tasks, 4 follow-ups and their waits, and
# three set-backs that each cost at most a plan, a placement and a departure again.
ACTION_LIMIT = 5 + 2 * 4 + 3 * SETBACK_LIMIT + 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    follow_up_days=st.lists(st.integers(0, 400), min_size=1, max_size=4).map(
        lambda days: tuple(sorted(days))
    ),
    consulate_available=st.booleans(),
)
def test_any_answers_never_reopen_a_task_and_always_end(
    data: st.DataObject, follow_up_days: tuple[int, ...], consulate_available: bool
) -> None:
    case = facts(
        Stage.identification,
        consulate_available=consulate_available,
        follow_up_days=follow_up_days,
    )
    now = NOW
    setbacks = 0
    for _ in range(ACTION_LIMIT):
        stage_before = STAGE_ORDER.index(case.stage)
        case, step = _settle(case, now)
        assert STAGE_ORDER.index(case.stage) >= stage_before
        if isinstance(step, Ended):
            _assert_properly_ended(case, step, follow_up_days)
            return
        assert isinstance(step, Wait)
        if step.blocked is not None:
            assert (step.blocked, case.stage, consulate_available) == (
                NO_CONSULATE,
                Stage.identification,
                False,
            )
            return
        pending = open_tasks(case)
        assert pending or (step.until is not None and step.until > now), step
        if not pending:
            assert step.until is not None
            now = step.until + data.draw(st.sampled_from([timedelta(0), timedelta(days=3)]))
            continue
        task = data.draw(st.sampled_from(pending))
        outcomes = OUTCOMES[task.kind]
        if setbacks >= SETBACK_LIMIT:
            outcomes = [o for o in outcomes if o != "declined"]
        elif data.draw(st.integers(0, 9)) == 0:
            setbacks += 1
            case = resolve(case, task, TaskStatus.cancelled, None, now)
            continue
        outcome = data.draw(st.sampled_from(outcomes))
        setbacks += outcome == "declined"
        case = resolve(case, task, TaskStatus.done, outcome, now)
    raise AssertionError(f"case did not end after {ACTION_LIMIT} answers: {case}")


def _assert_properly_ended(case: CaseFacts, step: Ended, follow_up_days: tuple[int, ...]) -> None:
    assert step.status in (CaseStatus.closed, CaseStatus.rejected)
    if step.status == CaseStatus.rejected:
        assert case.stage == Stage.consular_verification
        return
    assert case.stage == Stage.closed
    assert not open_tasks(case)
    done_follow_ups = [t for t in case.tasks if t.kind == F and t.status == TaskStatus.done]
    assert len(done_follow_ups) == len(follow_up_days)


def _settle(case: CaseFacts, now: datetime) -> tuple[CaseFacts, Step]:
    """Apply automatic steps until `decide` waits or the case has ended."""
    for _ in range(SETTLE_LIMIT):
        step = decide(case, now)
        if isinstance(step, Wait | Ended):
            return case, step
        if isinstance(step, OpenTask):
            assert case.task(step.kind, step.round) is None, f"{step} already exists"
            assert TASKS[step.kind].stage == case.stage, f"{step} outside {case.stage}"
        if isinstance(step, MoveTo):
            assert STAGE_ORDER.index(step.stage) == STAGE_ORDER.index(case.stage) + 1
        case = apply(case, step, now)
    raise AssertionError(f"no wait after {SETTLE_LIMIT} automatic steps from {case}")

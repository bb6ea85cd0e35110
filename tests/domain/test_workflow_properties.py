"""Properties of `decide` over random case histories.

A state machine plays the people and services around a case: agencies complete open tasks
with any outcome their kind allows (and sometimes try what a service refuses), consent is
withdrawn and given again, time passes, holds are placed and released, the travel document
runs out, the survivor's documents change with their age. After every action the case is
driven through its automatic steps and checked.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from domain.workflow import (
    CONSENT_WITHDRAWN,
    LEGAL_HOLD,
    NO_CONSULATE,
    STAGE_ORDER,
    TASKS,
    TRAVEL_DOCUMENT_EXPIRED,
    CaseFacts,
    Ended,
    MoveTo,
    OpenTask,
    Step,
    TaskFact,
    Wait,
    decide,
    departure_blocks,
)
from models.enums import CaseStatus, ClosureReview, DocumentKind, Stage, TaskKind, TaskStatus
from tests.support.workflow import (
    NOW,
    OUTCOMES,
    SERVICE_OPENED,
    Refused,
    apply,
    halt,
    open_,
    open_tasks,
    resolve,
    resume,
    withdraw_follow_up_consent,
)

# Automatic steps allowed between two human actions: a pass through transport needs at most
# two documents, a plan, a placement, a reissue and a departure, far fewer than this.
SETTLE_LIMIT = 19
BLOCKS = frozenset({NO_CONSULATE, LEGAL_HOLD, TRAVEL_DOCUMENT_EXPIRED})
DOCUMENTS = (DocumentKind.child_protection_clearance, DocumentKind.exit_permit)

follow_up_days = st.lists(st.integers(0, 400), min_size=1, max_size=4).map(
    lambda days: tuple(sorted(days))
)


def working_tasks(case: CaseFacts) -> list[TaskFact]:
    """Open tasks the workflow itself opened (and may be waiting on)."""
    return [t for t in open_tasks(case) if t.kind not in SERVICE_OPENED]


def settle(case: CaseFacts, now: datetime) -> tuple[CaseFacts, Step, int]:
    """Apply automatic steps until `decide` waits or the case has ended; check each one."""
    for count in range(SETTLE_LIMIT):
        step = decide(case, now)
        if isinstance(step, Wait | Ended):
            return case, step, count
        if isinstance(step, OpenTask):
            assert case.task(step.kind, step.round) is None, f"{step} exists already"
            assert step.kind not in SERVICE_OPENED, f"{step} is a service's to open"
            assert TASKS[step.kind].stage == case.stage, f"{step} outside {case.stage}"
            assert (step.subject is not None) == (step.kind == TaskKind.record_document), step
            if step.kind == TaskKind.confirm_departure:
                assert not departure_blocks(case), f"{step} while {departure_blocks(case)}"
                assert not any(
                    t.kind == TaskKind.confirm_departure and t.status == TaskStatus.done
                    for t in case.tasks
                ), f"{step} after the survivor left"
        if isinstance(step, MoveTo):
            assert STAGE_ORDER.index(step.stage) == STAGE_ORDER.index(case.stage) + 1, step
        case = apply(case, step, now)
    raise AssertionError(f"no wait after {SETTLE_LIMIT} automatic steps from {case}")


def fast_forward(case: CaseFacts, now: datetime, stage: Stage) -> tuple[CaseFacts, datetime]:
    """The case brought to `stage` by answering every task with its first outcome."""
    for _ in range(40):
        case, step, _ = settle(case, now)
        if case.stage == stage or isinstance(step, Ended):
            return case, now
        pending = open_tasks(case)
        if pending:
            task = pending[0]
            case = resolve(case, task, TaskStatus.done, OUTCOMES[task.kind][0], now)
        elif isinstance(step, Wait) and step.until is not None:
            now = step.until
        else:
            raise AssertionError(f"cannot bring {case} to {stage}: {step}")
    raise AssertionError(f"{stage} not reached")


class CaseHistory(RuleBasedStateMachine):
    """One case, and everything that can happen to it, in any order."""

    case: CaseFacts
    step: Step
    now: datetime
    corridor_documents: tuple[DocumentKind, ...]

    @initialize(
        stage=st.sampled_from(STAGE_ORDER[:-1]),
        days=follow_up_days,
        placement_required=st.booleans(),
        corridor_documents=st.sets(st.sampled_from(DOCUMENTS)),
        consulate_available=st.booleans(),
        likely_duplicate=st.integers(0, 4).map(lambda n: n == 0),
    )
    def launch(
        self,
        stage: Stage,
        days: tuple[int, ...],
        placement_required: bool,
        corridor_documents: set[DocumentKind],
        consulate_available: bool,
        likely_duplicate: bool,
    ) -> None:
        self.corridor_documents = tuple(d for d in DOCUMENTS if d in corridor_documents)
        self.now = NOW
        case = CaseFacts(
            stage=Stage.identification,
            status=CaseStatus.open,
            consulate_available=consulate_available or stage != Stage.identification,
            follow_up_days=days,
            documents_needed=self.corridor_documents,
            placement_required=placement_required,
        )
        if stage != Stage.identification:
            # Start further along by the plainest route, so every stage gets its share.
            case, self.now = fast_forward(case, self.now, stage)
        if likely_duplicate:
            # Found at launch; the coordinator may answer it in any later stage.
            case = replace(case, tasks=(*case.tasks, open_(TaskKind.resolve_duplicate)))
        self.case = case
        self.settle()

    def settle(self) -> None:
        self.case, self.step, _ = settle(self.case, self.now)

    def refused(self, task: TaskFact, status: TaskStatus, outcome: str | None) -> None:
        before = self.case
        with pytest.raises(Refused):
            resolve(self.case, task, status, outcome, self.now)
        assert self.case == before

    # --- people answering -----------------------------------------------------------------

    @precondition(lambda self: bool(open_tasks(self.case)))
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        task = data.draw(st.sampled_from(open_tasks(self.case)))
        outcome = data.draw(st.sampled_from(OUTCOMES[task.kind]))
        if task.kind == TaskKind.confirm_departure and departure_blocks(self.case):
            self.refused(task, TaskStatus.done, outcome)
            return
        self.case = resolve(self.case, task, TaskStatus.done, outcome, self.now)
        self.settle()

    @precondition(lambda self: bool(working_tasks(self.case)))
    @rule(data=st.data())
    def complete_the_earliest(self, data: st.DataObject) -> None:
        # Moves cases along: the task the workflow is waiting on, answered any way allowed.
        task = working_tasks(self.case)[0]
        outcome = data.draw(st.sampled_from(OUTCOMES[task.kind]))
        if task.kind == TaskKind.confirm_departure and departure_blocks(self.case):
            self.refused(task, TaskStatus.done, outcome)
            return
        self.case = resolve(self.case, task, TaskStatus.done, outcome, self.now)
        self.settle()

    @precondition(lambda self: any(t.status != TaskStatus.open for t in self.case.tasks))
    @rule(data=st.data())
    def complete_a_finished_task_again(self, data: st.DataObject) -> None:
        task = data.draw(st.sampled_from([t for t in self.case.tasks if t.status != "open"]))
        outcome = data.draw(st.sampled_from(OUTCOMES[task.kind]))
        status = data.draw(st.sampled_from([TaskStatus.done, TaskStatus.cancelled]))
        self.refused(task, status, outcome)

    @precondition(lambda self: bool(open_tasks(self.case)))
    @rule(data=st.data())
    def complete_with_an_unknown_outcome(self, data: st.DataObject) -> None:
        task = data.draw(st.sampled_from(open_tasks(self.case)))
        foreign = [o for outcomes in OUTCOMES.values() for o in outcomes]
        outcome = data.draw(
            st.sampled_from(foreign).filter(lambda o: o not in OUTCOMES[task.kind]) | st.none()
        )
        self.refused(task, TaskStatus.done, outcome)

    @rule(kind=st.sampled_from(TaskKind), round_=st.integers(1, 6))
    def complete_a_task_never_opened(self, kind: TaskKind, round_: int) -> None:
        if self.case.task(kind, round_) is None:
            self.refused(open_(kind, round_), TaskStatus.done, OUTCOMES[kind][0])

    # --- consent ----------------------------------------------------------------------------

    @precondition(lambda self: self.case.status == CaseStatus.open)
    @rule()
    def withdraw_consent(self) -> None:
        self.case = halt(self.case)
        self.settle()
        assert not open_tasks(self.case)

    @precondition(lambda self: self.case.status == CaseStatus.halted)
    @rule()
    def give_consent_again(self) -> None:
        self.case = resume(self.case)
        self.settle()

    @precondition(
        lambda self: self.case.stage == Stage.reintegration_followup and self.case.follow_up_consent
    )
    @rule()
    def withdraw_follow_up_consent(self) -> None:
        self.case = withdraw_follow_up_consent(self.case)
        self.settle()

    # --- the world changing ---------------------------------------------------------------

    @rule(days=st.sampled_from([0, 1, 3, 30, 100, 400]))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)
        self.settle()

    @precondition(lambda self: isinstance(self.step, Wait) and self.step.until is not None)
    @rule()
    def the_awaited_day_comes(self) -> None:
        assert isinstance(self.step, Wait) and self.step.until is not None
        self.now = max(self.now, self.step.until)
        self.settle()

    @rule()
    def hold_placed_or_released(self) -> None:
        self.case = replace(self.case, legal_hold=not self.case.legal_hold)
        self.settle()

    @rule()
    def travel_document_runs_out_or_is_renewed(self) -> None:
        valid = not self.case.travel_document_valid
        self.case = replace(self.case, travel_document_valid=valid)
        self.settle()

    @rule(data=st.data())
    def documents_needed_change(self, data: st.DataObject) -> None:
        # A minor turning 18, or a travel date that makes them one: within the corridor's list.
        chosen = data.draw(st.sets(st.sampled_from(DOCUMENTS)))
        documents = tuple(d for d in self.corridor_documents if d in chosen)
        self.case = replace(self.case, documents_needed=documents)
        self.settle()

    @precondition(
        lambda self: STAGE_ORDER.index(self.case.stage) < STAGE_ORDER.index(Stage.safe_transport)
    )
    @rule()
    def corridor_changes_its_placement_rule(self) -> None:
        required = not self.case.placement_required
        self.case = replace(self.case, placement_required=required)
        self.settle()

    @rule()
    def consulate_registered(self) -> None:
        self.case = replace(self.case, consulate_available=True)
        self.settle()

    @precondition(
        lambda self: (
            self.case.stage == Stage.reintegration_followup
            and self.case.status == CaseStatus.open
            and not any(t.kind == TaskKind.accept_transfer for t in open_tasks(self.case))
        )
    )
    @rule()
    def transfer_requested(self) -> None:
        transfers = [t.round for t in self.case.tasks if t.kind == TaskKind.accept_transfer]
        self.case = replace(
            self.case,
            tasks=(
                *self.case.tasks,
                open_(TaskKind.accept_transfer, max(transfers, default=0) + 1),
            ),
        )
        self.settle()

    # --- what must always hold ------------------------------------------------------------

    @invariant()
    def rounds_are_unique(self) -> None:
        keys = [(t.kind, t.round) for t in self.case.tasks]
        assert len(keys) == len(set(keys)), keys

    @invariant()
    def every_case_has_something_to_wait_for(self) -> None:
        case, step = self.case, self.step
        match case.status:
            case CaseStatus.open:
                assert isinstance(step, Wait), step
                if step.blocked is not None:
                    assert step.blocked in BLOCKS, step
                elif step.until is not None:
                    assert step.until > self.now, (step, self.now)
                else:
                    assert working_tasks(case), f"open with nothing to wait for: {case}"
            case CaseStatus.halted:
                assert step == Wait(blocked=CONSENT_WITHDRAWN)
                assert not open_tasks(case)
            case _:
                assert case.status in (CaseStatus.closed, CaseStatus.rejected), case.status
                assert step == Ended(case.status)

    @invariant()
    def decide_never_raises_and_is_stable(self) -> None:
        # Asking again without anything happening gives the same answer.
        assert decide(self.case, self.now) == self.step

    @invariant()
    def an_open_departure_is_on_hold_exactly_while_the_survivor_cannot_leave(self) -> None:
        if self.case.status != CaseStatus.open:
            return
        blocks = departure_blocks(self.case)
        for task in open_tasks(self.case):
            if task.kind == TaskKind.confirm_departure:
                assert task.on_hold == bool(blocks), (task, blocks)

    @invariant()
    def an_approved_review_means_a_closed_case(self) -> None:
        if self.case.closure_review == ClosureReview.approved:
            assert self.case.status != CaseStatus.open or self.case.stage == Stage.closed


CaseHistory.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestCaseHistory = CaseHistory.TestCase


# --- property: any sequence of answers leads somewhere sensible ------------------------

SETBACK_LIMIT = 3  # declines, questions, continued follow-ups and withdrawals per case
SETBACKS = frozenset({"declined", "information_requested", "continue_follow_up"})
# Enough answers and waits for the longest case: eleven tasks, four follow-ups and their
# waits, and set-backs that each cost at most a plan, a placement, a reissue and a departure.
ACTION_LIMIT = 11 + 2 * 4 + 4 * SETBACK_LIMIT + 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    days=follow_up_days,
    placement_required=st.booleans(),
    documents=st.sets(st.sampled_from(DOCUMENTS)).map(lambda d: tuple(sorted(d))),
    travel_document_valid=st.booleans(),
)
def test_any_answers_never_reopen_a_task_and_always_end(
    data: st.DataObject,
    days: tuple[int, ...],
    placement_required: bool,
    documents: tuple[DocumentKind, ...],
    travel_document_valid: bool,
) -> None:
    case = CaseFacts(
        stage=Stage.identification,
        status=CaseStatus.open,
        consulate_available=True,
        follow_up_days=days,
        documents_needed=documents,
        placement_required=placement_required,
        travel_document_valid=travel_document_valid,
    )
    now = NOW
    setbacks = 0
    for _ in range(ACTION_LIMIT):
        stage_before = STAGE_ORDER.index(case.stage)
        case, step, _ = settle(case, now)
        assert STAGE_ORDER.index(case.stage) >= stage_before
        if isinstance(step, Ended):
            _assert_properly_ended(case, step)
            return
        assert isinstance(step, Wait)
        pending = open_tasks(case)
        if step.blocked is not None:
            assert step.blocked == TRAVEL_DOCUMENT_EXPIRED, step
            assert pending
        assert pending or (step.until is not None and step.until > now), step
        if not pending:
            assert step.until is not None
            now = step.until + data.draw(st.sampled_from([timedelta(0), timedelta(days=3)]))
            continue
        task = data.draw(st.sampled_from(pending))
        outcomes = OUTCOMES[task.kind]
        if setbacks >= SETBACK_LIMIT:
            outcomes = [o for o in outcomes if o not in SETBACKS]
        elif data.draw(st.integers(0, 9)) == 0:
            setbacks += 1
            case = resolve(case, task, TaskStatus.cancelled, None, now)
            continue
        outcome = data.draw(st.sampled_from(outcomes))
        setbacks += outcome in SETBACKS
        case = resolve(case, task, TaskStatus.done, outcome, now)
    raise AssertionError(f"case did not end after {ACTION_LIMIT} answers: {case}")


def _assert_properly_ended(case: CaseFacts, step: Ended) -> None:
    assert step.status in (CaseStatus.closed, CaseStatus.rejected)
    if step.status == CaseStatus.rejected:
        assert case.stage == Stage.consular_verification
        return
    assert case.stage == Stage.closed
    assert case.closure_review != ClosureReview.required
    follow_ups = [t for t in case.tasks if t.kind == TaskKind.record_follow_up]
    assert sum(t.status == TaskStatus.done for t in follow_ups) == (
        len(case.follow_up_days) + case.extra_follow_ups
    )

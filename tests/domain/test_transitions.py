"""The table of status changes, every status against every change."""

from __future__ import annotations

import itertools

import pytest

from core.errors import Conflict
from domain.transitions import ENDING, TRANSITIONS, StatusChange, change_status, status_after
from models import Case
from models.enums import CaseStatus

OPEN, CLOSED, REJECTED, HALTED = (
    CaseStatus.open,
    CaseStatus.closed,
    CaseStatus.rejected,
    CaseStatus.halted,
)

# Written out by hand, apart from the table: what each status becomes, or None if refused.
EXPECTED: dict[tuple[CaseStatus, StatusChange], CaseStatus | None] = {
    (OPEN, StatusChange.close): CLOSED,
    (OPEN, StatusChange.reject): REJECTED,
    (OPEN, StatusChange.halt): HALTED,
    (OPEN, StatusChange.resume): None,
    (OPEN, StatusChange.reopen): None,
    (OPEN, StatusChange.close_as_duplicate): CLOSED,
    (HALTED, StatusChange.close): None,
    (HALTED, StatusChange.reject): None,
    (HALTED, StatusChange.halt): None,
    (HALTED, StatusChange.resume): OPEN,
    (HALTED, StatusChange.reopen): None,
    (HALTED, StatusChange.close_as_duplicate): CLOSED,
    (CLOSED, StatusChange.close): None,
    (CLOSED, StatusChange.reject): None,
    (CLOSED, StatusChange.halt): None,
    (CLOSED, StatusChange.resume): None,
    (CLOSED, StatusChange.reopen): OPEN,
    (CLOSED, StatusChange.close_as_duplicate): None,
    (REJECTED, StatusChange.close): None,
    (REJECTED, StatusChange.reject): None,
    (REJECTED, StatusChange.halt): None,
    (REJECTED, StatusChange.resume): None,
    (REJECTED, StatusChange.reopen): None,
    (REJECTED, StatusChange.close_as_duplicate): None,
}


def test_every_status_and_change_is_written_out() -> None:
    assert set(EXPECTED) == set(itertools.product(CaseStatus, StatusChange))
    assert set(TRANSITIONS) == set(StatusChange)


@pytest.mark.parametrize(("status", "change"), sorted(EXPECTED), ids=lambda v: str(v))
def test_status_after(status: CaseStatus, change: StatusChange) -> None:
    expected = EXPECTED[(status, change)]
    if expected is None:
        with pytest.raises(Conflict, match=f"that is {status} cannot"):
            status_after(status, change)
    else:
        assert status_after(status, change) == expected


def test_a_rejected_case_is_final() -> None:
    assert all(EXPECTED[(REJECTED, change)] is None for change in StatusChange)


def test_the_workflow_ends_a_case_through_the_table() -> None:
    assert {status_after(OPEN, change) for change in ENDING.values()} == set(ENDING)


def test_change_status_writes_the_case_and_a_refusal_leaves_it() -> None:
    case = Case(status=CaseStatus.closed)
    with pytest.raises(Conflict):
        change_status(case, StatusChange.halt)
    assert case.status == CaseStatus.closed
    change_status(case, StatusChange.reopen)
    assert case.status == CaseStatus.open

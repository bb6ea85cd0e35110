"""Every change of a case's status, in one table.

The workflow ends a case (`Finish`: closed, or rejected at verification); people halt it
(consent withdrawn), resume it (consent given again), reopen it (news after closure) or
close it as the duplicate of another. Each change leaves some statuses for one other; the
services say why a change is refused in their own words, and `change_status` refuses any
change this table does not hold, so no code path can take a case where none should."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from core.errors import Conflict
from models import Case
from models.enums import CaseStatus


class StatusChange(StrEnum):
    close = "close"
    reject = "reject"
    halt = "halt"
    resume = "resume"
    reopen = "reopen"
    close_as_duplicate = "close_as_duplicate"


_OPEN = frozenset({CaseStatus.open})

# change: (the statuses it may leave, the status it enters)
TRANSITIONS: Mapping[StatusChange, tuple[frozenset[CaseStatus], CaseStatus]] = {
    StatusChange.close: (_OPEN, CaseStatus.closed),
    StatusChange.reject: (_OPEN, CaseStatus.rejected),
    StatusChange.halt: (_OPEN, CaseStatus.halted),
    StatusChange.resume: (frozenset({CaseStatus.halted}), CaseStatus.open),
    StatusChange.reopen: (frozenset({CaseStatus.closed}), CaseStatus.open),
    StatusChange.close_as_duplicate: (
        frozenset({CaseStatus.open, CaseStatus.halted}),
        CaseStatus.closed,
    ),
}

# The workflow's `Finish` names the status it ends in.
ENDING: Mapping[CaseStatus, StatusChange] = {
    CaseStatus.closed: StatusChange.close,
    CaseStatus.rejected: StatusChange.reject,
}


def status_after(status: CaseStatus, change: StatusChange) -> CaseStatus:
    """The status a case in `status` has after `change`; Conflict if it cannot take it."""
    leaves, enters = TRANSITIONS[change]
    if status not in leaves:
        raise Conflict(f"a case that is {status} cannot {change.replace('_', ' ')}")
    return enters


def change_status(case: Case, change: StatusChange) -> None:
    """The one place a case's status is written."""
    case.status = status_after(CaseStatus(case.status), change)

"""Consent per purpose: recording it, and halting or resuming the case it governs.

Repatriation is voluntary. Without consent to repatriation or to data sharing nothing more
is shared: the case halts, its open tasks are withdrawn, and the agencies that held them
are told only that the case is halted. Consent given again resumes the case where it
stopped. Withdrawing consent to follow-up contact ends the follow-ups and closes the case.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import model_validator
from sqlmodel import Session, select

from core.errors import Conflict, Forbidden
from domain.access import records_consent
from domain.audit import Action
from domain.cases import get_case_for
from domain.decisions import record_decision
from domain.events import record_event
from domain.payloads import Payload
from domain.progress import withdraw_open_tasks
from domain.transitions import StatusChange, change_status
from models import Case, ConsentRecord, User
from models.enums import CaseStatus, ConsentPurpose, Stage, TaskKind


class ConsentChange(Payload):
    """The purposes whose answer changes; purposes left out keep their answer."""

    repatriation: bool | None = None
    data_sharing: bool | None = None
    follow_up: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> ConsentChange:
        if self.repatriation is None and self.data_sharing is None and self.follow_up is None:
            raise ValueError("give at least one of repatriation, data_sharing, follow_up")
        return self


_FLAG = {
    ConsentPurpose.repatriation: "consent_repatriation",
    ConsentPurpose.data_sharing: "consent_data_sharing",
    ConsentPurpose.follow_up: "consent_follow_up",
}


def change_consent(
    session: Session,
    *,
    user: User,
    case_id: uuid.UUID,
    change: ConsentChange,
    now: datetime,
    address: str | None = None,
) -> Case:
    """Record consent answers and halt, resume or close the case accordingly."""
    case = get_case_for(session, user=user, case_id=case_id)
    if not records_consent(case, user):
        raise Forbidden("only the coordinating NGO records the survivor's consent")
    case = session.exec(select(Case).where(Case.id == case.id).with_for_update()).one()
    if case.status in (CaseStatus.closed, CaseStatus.rejected):
        raise Conflict(f"the case is {case.status}; its consent can no longer change")
    changed = False
    for purpose, granted in _answers(change):
        if getattr(case, _FLAG[purpose]) == granted:
            continue
        changed = True
        setattr(case, _FLAG[purpose], granted)
        session.add(
            ConsentRecord(
                case_id=case.id,
                purpose=purpose,
                granted=granted,
                recorded_by_user_id=user.id,
                recorded_at=now,
            )
        )
        record_decision(
            session,
            case,
            user=user,
            event="consent_given" if granted else "consent_withdrawn",
            action=Action.change_consent,
            now=now,
            address=address,
            audit={"purpose": purpose, "granted": granted},
            purpose=purpose,
        )
    if not changed:
        return case
    if not (case.consent_repatriation and case.consent_data_sharing):
        if case.status == CaseStatus.open:
            _halt(session, case, now)
    elif case.status == CaseStatus.halted:
        change_status(case, StatusChange.resume)
        record_event(session, case, "case_resumed", at=now)
    if not case.consent_follow_up and case.stage == Stage.reintegration_followup:
        withdraw_open_tasks(session, case, now, kinds=(TaskKind.record_follow_up,), tell=None)
    case.updated_at = now
    session.add(case)
    session.flush()
    return case


def _answers(change: ConsentChange) -> list[tuple[ConsentPurpose, bool]]:
    given = {
        ConsentPurpose.repatriation: change.repatriation,
        ConsentPurpose.data_sharing: change.data_sharing,
        ConsentPurpose.follow_up: change.follow_up,
    }
    return [(purpose, answer) for purpose, answer in given.items() if answer is not None]


def _halt(session: Session, case: Case, now: datetime) -> None:
    change_status(case, StatusChange.halt)
    record_event(session, case, "case_halted", at=now)
    withdraw_open_tasks(session, case, now, tell="case_halted")

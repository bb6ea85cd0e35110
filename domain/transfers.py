"""Moving a survivor from one shelter to another after the handover.

The sending shelter asks; the receiving shelter gets an `accept_transfer` task and accepts
or rejects it; the sending shelter may revoke while it is pending. The case, its place and
the follow-ups the shelter records move only when the receiving shelter accepts.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session, select

from core.errors import Conflict, Forbidden, Invalid, NotFound
from domain.access import has_in_care, transfers_survivor
from domain.audit import Action
from domain.decisions import record_decision
from domain.events import enqueue_notification, record_event
from domain.opening import next_round, open_task
from domain.payloads import NewTransfer
from domain.policy import Policy, is_minor_on
from domain.progress import withdraw_open_tasks
from domain.shelters import ensure_room
from domain.workflow import due_at
from models import Agency, Case, Survivor, Task, User
from models.enums import AgencyKind, CaseStatus, Stage, TaskKind, TaskStatus

# A survivor can be transferred once in the shelter's care: from the handover on.
_TRANSFERABLE = (Stage.shelter_handover, Stage.reintegration_followup)


def request_transfer(
    session: Session,
    *,
    user: User,
    case_id: uuid.UUID,
    data: NewTransfer,
    policy: Policy,
    now: datetime,
    address: str | None = None,
) -> Task:
    """The shelter holding the survivor asks another shelter to take them in."""
    case = _case_held_by(session, user, case_id)
    if case.stage not in _TRANSFERABLE or case.handed_over_at is None:
        raise Conflict("a case can be transferred only after the handover to your shelter")
    if _pending(session, case) is not None:
        raise Conflict("a transfer of this case is already pending; revoke it first")
    target = session.get(Agency, data.to_shelter_id)
    if target is None or target.kind != AgencyKind.shelter:
        raise Invalid("to_shelter_id: no shelter is registered under this id")
    if target.id == case.shelter_agency_id:
        raise Invalid("to_shelter_id: the survivor is already in this shelter")
    survivor = session.get_one(Survivor, case.survivor_id)
    if is_minor_on(survivor, case, now.date()) and not target.accepts_children:
        # As for the first placement (domain.tasks._check_plan): a child goes only to a
        # shelter that takes children.
        raise Invalid(
            "to_shelter_id: the survivor is under 18; choose a shelter registered as "
            "taking children"
        )
    corridor = policy.corridor_of(case, survivor)
    task = open_task(
        session,
        case,
        kind=TaskKind.accept_transfer,
        round=next_round(session, case, TaskKind.accept_transfer),
        agency_id=target.id,
        due_at=due_at(TaskKind.accept_transfer, now, deadlines=corridor.deadlines),
        now=now,
        context={"from_shelter_id": str(user.agency_id), "reason": data.reason},
        event=None,  # the shelter's decision, below
    )
    record_decision(
        session,
        case,
        user=user,
        event="transfer_requested",
        action=Action.request_transfer,
        now=now,
        address=address,
        task_id=str(task.id),
        to_agency_id=str(target.id),
    )
    return task


def revoke_transfer(
    session: Session,
    *,
    user: User,
    case_id: uuid.UUID,
    now: datetime,
    address: str | None = None,
) -> Task:
    """The sending shelter withdraws its pending transfer request."""
    case = _case_held_by(session, user, case_id)
    pending = _pending(session, case)
    if pending is None:
        raise Conflict("no transfer of this case is pending")
    withdrawn = withdraw_open_tasks(
        session,
        case,
        now,
        kinds=(TaskKind.accept_transfer,),
        tell="task_withdrawn",
        only=pending.id,
    )
    if not withdrawn:
        raise Conflict("the receiving shelter answered the transfer a moment ago")
    record_decision(
        session,
        case,
        user=user,
        event="transfer_revoked",
        action=Action.revoke_transfer,
        now=now,
        address=address,
        task_id=str(pending.id),
    )
    session.refresh(pending)
    return pending


def apply_transfer_answer(
    session: Session, case: Case, task: Task, *, accepted: bool, now: datetime
) -> None:
    """On acceptance the case, its place and the shelter's open follow-ups move."""
    sender = uuid.UUID((task.context or {})["from_shelter_id"])
    if case.shelter_agency_id != sender:
        raise Conflict("the survivor is no longer in the shelter that asked for this transfer")
    if accepted:
        receiver = session.get_one(Agency, task.agency_id)
        ensure_room(session, receiver, for_case=case)
        case.shelter_agency_id = receiver.id
        case.placed_at = now
        if case.follow_up_agency_id is None:
            # The shelter records the follow-ups: its open ones go to the new shelter.
            for follow_up in session.exec(
                select(Task).where(
                    Task.case_id == case.id,
                    Task.kind == TaskKind.record_follow_up,
                    Task.status == TaskStatus.open,
                    Task.agency_id == sender,
                )
            ).all():
                follow_up.agency_id = receiver.id
                session.add(follow_up)
                enqueue_notification(
                    session,
                    case,
                    agency_id=receiver.id,
                    kind="task_assigned",
                    dedupe_key=f"task:{follow_up.id}:to:{receiver.id}",
                    at=now,
                    task_id=follow_up.id,
                    task_kind=follow_up.kind,
                    due_at=follow_up.due_at,
                )
    record_event(
        session,
        case,
        "transfer_accepted" if accepted else "transfer_rejected",
        at=now,
        task_id=str(task.id),
        from_agency_id=str(sender),
        to_agency_id=str(task.agency_id),
    )
    enqueue_notification(
        session,
        case,
        agency_id=sender,
        kind="transfer_accepted" if accepted else "transfer_rejected",
        dedupe_key=f"transfer:{task.id}",
        at=now,
    )


def _case_held_by(session: Session, user: User, case_id: uuid.UUID) -> Case:
    case = session.exec(select(Case).where(Case.id == case_id).with_for_update()).first()
    if case is None or not has_in_care(case, user):
        raise NotFound("no such case in your shelter's care")
    if not transfers_survivor(case, user):
        raise Forbidden("only a shelter officer can transfer a survivor")
    if case.status != CaseStatus.open:
        raise Conflict(f"the case is {case.status}; it cannot be transferred")
    return case


def _pending(session: Session, case: Case) -> Task | None:
    return session.exec(
        select(Task).where(
            Task.case_id == case.id,
            Task.kind == TaskKind.accept_transfer,
            Task.status == TaskStatus.open,
        )
    ).first()

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response, status

from api.deps import (
    ClientAddress,
    CurrentUser,
    SessionDep,
    SettingsDep,
    WakerDep,
    wake_now,
)
from api.idempotency import IdempotencyDep
from api.paging import DEFAULT, PAGED, Cursor, Limit, link_next_page
from api.schemas import TaskCompletion, TaskPublic
from core.clock import utcnow
from domain.policy import policy_for
from domain.tasks import complete_task, list_tasks_for
from models.enums import TaskKind, TaskStatus

router = APIRouter(prefix="/tasks", tags=["tasks"])

COMPLETION_EXAMPLES = {
    "verify_nationality (approved)": {
        "value": {
            "decision": "approved",
            "travel_document_number": "TP-0012345",
            "travel_document_expires_on": "2027-06-30",
        }
    },
    "verify_nationality (rejected)": {"value": {"decision": "rejected", "reason": "..."}},
    "plan_transport": {
        "value": {
            "travel_date": "2027-01-15",
            "mode": "road",
            "crossing_point": "Petrapole-Benapole",
            "escort_agency_id": "00000000-0000-0000-0000-000000000000",
            "receiving_shelter_id": "00000000-0000-0000-0000-000000000000",
        }
    },
    "plan_transport (follow-ups by a home-country NGO)": {
        "value": {
            "travel_date": "2027-01-15",
            "mode": "road",
            "crossing_point": "Petrapole-Benapole",
            "escort_agency_id": "00000000-0000-0000-0000-000000000000",
            "receiving_shelter_id": "00000000-0000-0000-0000-000000000000",
            "follow_up_agency_id": "00000000-0000-0000-0000-000000000000",
        }
    },
    "accept_placement": {"value": {"decision": "accepted"}},
    "accept_placement (declined)": {"value": {"decision": "declined", "reason": "no capacity"}},
    "confirm_departure": {"value": {"departed_at": "2027-01-15T06:30:00+05:30"}},
    "confirm_handover": {"value": {"received_at": "2027-01-15T16:00:00+06:00"}},
    "record_follow_up": {"value": {"outcome": "reintegrating", "notes": "..."}},
    "verify_nationality (question to the coordinator)": {
        "value": {"decision": "information_requested", "question": "..."}
    },
    "provide_information": {"value": {"answer": "..."}},
    "reissue_travel_document": {
        "value": {
            "travel_document_number": "TP-0012399",
            "travel_document_expires_on": "2027-12-31",
        }
    },
    "record_document": {
        "value": {"reference": "CWC/2027/118", "issued_on": "2027-01-05", "expires_on": None}
    },
    "accept_transfer": {"value": {"decision": "accepted"}},
    "accept_transfer (rejected)": {"value": {"decision": "rejected", "reason": "..."}},
    "resolve_duplicate (same survivor)": {"value": {"decision": "linked"}},
    "resolve_duplicate (different people)": {"value": {"decision": "dismissed"}},
    "approve_closure (supervisor)": {"value": {"decision": "close", "reason": "..."}},
    "approve_closure (follow up again)": {
        "value": {"decision": "continue_follow_up", "reason": "..."}
    },
}


@router.get("", responses={status.HTTP_200_OK: PAGED})
def tasks(
    request: Request,
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    address: ClientAddress,
    status: TaskStatus | None = None,
    kind: TaskKind | None = None,
    overdue: bool | None = None,
    limit: Limit = DEFAULT,
    cursor: Cursor = None,
) -> list[TaskPublic]:
    """Your agency's tasks, the earliest due first; `status=open` is its inbox, `kind`
    keeps one task kind, `overdue=true` the open ones past their deadline. Filters combine.
    Each read is audited (one entry per page, naming the tasks it returned).

    The answer is one page, a JSON array of at most `limit` tasks (default 50, at most
    200). When there are more, the `Link` header names the next page,
    `Link: </api/v1/tasks?...&cursor=...>; rel="next"`: follow it as it is, until an answer
    comes without it. A `limit` out of bounds or a `cursor` the list did not give gets
    422."""
    now = utcnow()
    page = list_tasks_for(
        session,
        user=user,
        status=status,
        kind=kind,
        overdue=overdue,
        limit=limit,
        cursor=cursor,
        now=now,
        address=address,
    )
    session.commit()
    link_next_page(request, response, page.next_cursor)
    return [TaskPublic.of(t, c, now=now) for t, c in page.items]


WAITING_TO_RESUME = {
    "description": "The decision is recorded, but the case could not be moved on yet (the "
    "workflow engine is unreachable or slow): `case_waiting_to_resume` is true and "
    "`Location` names the case. Do not send the decision again; the case moves on by itself "
    "once the engine answers.",
    "model": TaskCompletion,
}


@router.post(
    "/{task_id}/complete",
    responses={status.HTTP_202_ACCEPTED: WAITING_TO_RESUME},
)
def complete(
    task_id: uuid.UUID,
    body: Annotated[dict[str, Any], Body(openapi_examples=COMPLETION_EXAMPLES)],
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    wake: WakerDep,
    address: ClientAddress,
    idempotency: IdempotencyDep,
    response: Response,
) -> TaskCompletion:
    """Record your agency's decision on a task; the payload depends on the task's kind.
    The case then moves on asynchronously: poll `GET /cases/{id}`. 200: the case is moving
    on; 202: the decision is kept but the case waits to resume (see below).

    A task is completed once: a second completion gets 409. To retry a completion whose
    answer was lost, send the same `Idempotency-Key` header: the repeat returns the first
    answer (the task, with 200) instead of 409; the same key with another body or task is
    refused with 422."""
    now = utcnow()
    task, case = complete_task(
        session,
        user=user,
        task_id=task_id,
        body=body,
        policy=policy_for(settings),
        now=now,
        address=address,
    )
    answer = TaskCompletion(**TaskPublic.of(task, case, now=now).model_dump())
    # A replay answers 200 with the task: the decision is kept either way.
    idempotency.remember(session, 200, answer, case_id=case.id)
    session.commit()
    # The other cases the decision moved (the other half of a linked duplicate) are woken
    # after the answer.
    waiting = not wake_now(session, settings, wake, case.id)
    if waiting:
        response.status_code = status.HTTP_202_ACCEPTED
        response.headers["Location"] = f"/api/v1/cases/{case.id}"
    return answer.model_copy(update={"case_waiting_to_resume": waiting})

"""A consulate's question to the coordinator: the verification waits, its clock paused."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from core.db import session_scope
from core.settings import Settings
from models import Notification
from models.enums import TaskKind
from notifications.messages import render
from tests import factories
from tests.api import expect
from tests.factories import Corridor

# Free text that must stay in the tasks: never in a timeline, a message or the audit.
QUESTION = "Which union parishad in Jhikargacha does she name as her home?"
ANSWER = "Gadkhali union, by the flower market at Panisara"


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _ask(client: TestClient, c: Corridor, case_id: str) -> dict[str, object]:
    """The consulate asks its question; return its (now done) verification task."""
    task = factories.walk_to(client, c, case_id, TaskKind.verify_nationality)
    body = {"decision": "information_requested", "question": QUESTION}
    response = factories.complete(client, c.consulate, task["id"], body)
    assert response.status_code == 200, response.text
    done: dict[str, object] = response.json()
    return done


def test_question_goes_to_the_coordinator_and_the_answer_back_to_the_consulate(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    asked = _ask(client, corridor, case_id)
    assert asked["status"] == "done"
    assert asked["outcome"] == "information_requested"

    factories.advance(settings, case_id)
    # The consulate's task is done and it has nothing open; the coordinator has the question.
    assert factories.tasks_of(client, corridor.consulate, case_id) == []
    done = factories.tasks_of(client, corridor.consulate, case_id, status="done")
    assert [(t["kind"], t["round"]) for t in done] == [(TaskKind.verify_nationality, 1)]
    question = factories.open_task(client, corridor.ngo, case_id, TaskKind.provide_information)
    assert question["context"] == {"question": QUESTION}
    assert question["stage"] == "consular_verification"
    assert factories.case_of(client, corridor.ngo, case_id)["stage"] == "consular_verification"
    # Waking the case again asks nothing new.
    factories.advance(settings, case_id)
    assert len(factories.tasks_of(client, corridor.ngo, case_id)) == 1

    response = factories.complete(client, corridor.ngo, question["id"], {"answer": ANSWER})
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "answered"
    factories.advance(settings, case_id)

    again = factories.open_task(client, corridor.consulate, case_id, TaskKind.verify_nationality, 2)
    assert again["context"] == {"question": QUESTION, "answer": ANSWER}
    assert factories.tasks_of(client, corridor.ngo, case_id) == []

    response = factories.complete(client, corridor.consulate, again["id"], factories.approved())
    assert response.status_code == 200, response.text
    factories.advance(settings, case_id)
    assert factories.case_of(client, corridor.ngo, case_id)["stage"] == "safe_transport"
    factories.open_task(client, corridor.ngo, case_id, TaskKind.plan_transport)


def test_the_verification_clock_stops_while_the_coordinator_answers(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    """Asked 30 days into 90, answered 5 days later: the consulate has 60 days from the
    answer, even when the pass that reopens its task runs hours after the answer."""
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.verify_nationality)
    factories.shift_tasks_back(settings, case_id, timedelta(days=30))
    _ask(client, corridor, case_id)
    factories.advance(settings, case_id)
    factories.shift_tasks_back(settings, case_id, timedelta(days=5))
    question = factories.open_task(client, corridor.ngo, case_id, TaskKind.provide_information)
    response = factories.complete(client, corridor.ngo, question["id"], {"answer": ANSWER})
    assert response.status_code == 200, response.text
    # The flow run's pass comes six hours after the answer (its runner was restarted).
    factories.shift_tasks_back(settings, case_id, timedelta(hours=6))
    factories.advance(settings, case_id)

    first = factories.tasks_of(
        client, corridor.consulate, case_id, TaskKind.verify_nationality, status="done"
    )[0]
    answered = factories.tasks_of(
        client, corridor.ngo, case_id, TaskKind.provide_information, status="done"
    )[0]
    again = factories.open_task(client, corridor.consulate, case_id, TaskKind.verify_nationality, 2)
    left = _at(first["due_at"]) - _at(first["completed_at"])
    assert abs(left - timedelta(days=60)) < timedelta(minutes=5)
    assert _at(again["due_at"]) == _at(answered["completed_at"]) + left
    # Not a fresh 90 days, nor 60 from when the pass ran.
    assert _at(again["due_at"]) < _at(again["opened_at"]) + left


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "information_requested"},
        {"decision": "information_requested", "question": "   "},
        {"decision": "information_requested", "question": "x" * 4001},
        {"decision": "information_requested", "question": QUESTION, "answer": ANSWER},
    ],
    ids=["no-question", "blank", "too-long", "extra-field"],
)
def test_malformed_question_is_refused(
    client: TestClient, corridor: Corridor, settings: Settings, body: dict[str, object]
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    task = factories.walk_to(client, corridor, case_id, TaskKind.verify_nationality)

    detail = expect.error(factories.complete(client, corridor.consulate, task["id"], body), 422)

    assert QUESTION not in detail and ANSWER not in detail
    factories.advance(settings, case_id)
    factories.open_task(client, corridor.consulate, case_id, TaskKind.verify_nationality)
    assert factories.tasks_of(client, corridor.ngo, case_id) == []


@pytest.mark.parametrize(
    "body",
    [{}, {"answer": ""}, {"answer": 42}, {"answer": ANSWER, "question": QUESTION}],
    ids=["empty", "blank", "not-text", "extra-field"],
)
def test_malformed_answer_is_refused(
    client: TestClient, corridor: Corridor, settings: Settings, body: dict[str, object]
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    _ask(client, corridor, case_id)
    factories.advance(settings, case_id)
    question = factories.open_task(client, corridor.ngo, case_id, TaskKind.provide_information)

    detail = expect.error(factories.complete(client, corridor.ngo, question["id"], body), 422)

    assert QUESTION not in detail and ANSWER not in detail
    factories.advance(settings, case_id)
    factories.open_task(client, corridor.ngo, case_id, TaskKind.provide_information)
    assert factories.tasks_of(client, corridor.consulate, case_id) == []


def test_only_the_coordinator_answers_the_question(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    _ask(client, corridor, case_id)
    factories.advance(settings, case_id)
    question = factories.open_task(client, corridor.ngo, case_id, TaskKind.provide_information)

    # Another agency does not see the task at all.
    for member in (corridor.consulate, corridor.other_ngo):
        response = factories.complete(client, member, question["id"], {"answer": ANSWER})
        expect.error(response, 404)
    factories.open_task(client, corridor.ngo, case_id, TaskKind.provide_information)


def test_question_and_answer_stay_out_of_timeline_messages_and_audit(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    _ask(client, corridor, case_id)
    factories.advance(settings, case_id)
    question = factories.open_task(client, corridor.ngo, case_id, TaskKind.provide_information)
    response = factories.complete(client, corridor.ngo, question["id"], {"answer": ANSWER})
    assert response.status_code == 200, response.text
    factories.advance(settings, case_id)

    timeline = factories.timeline_of(client, corridor.ngo, case_id)
    kinds = [(e["kind"], e["data"].get("task_kind")) for e in timeline]
    assert ("task_opened", TaskKind.provide_information) in kinds
    assert ("task_completed", TaskKind.provide_information) in kinds
    audit = client.get(f"/api/v1/cases/{case_id}/audit", headers=corridor.ngo.headers)
    assert audit.status_code == 200, audit.text
    with session_scope(settings.resolved_database_url) as session:
        rows = session.exec(
            select(Notification).where(Notification.case_id == uuid.UUID(case_id))
        ).all()
        messages = [render(row, public_url="https://homeward.example.org") for row in rows]
        stored = [row.model_dump_json() for row in rows]
        assigned = [(row.agency_id, row.task_kind) for row in rows if row.kind == "task_assigned"]
    # The question and the resumed verification were announced, as a reference and a task.
    assert (corridor.ngo.agency_id, TaskKind.provide_information) in assigned
    assert assigned.count((corridor.consulate.agency_id, TaskKind.verify_nationality)) == 2
    texts = [str(timeline), audit.text, *stored, *(m.title + m.body for m in messages)]
    for text in texts:
        for secret in (QUESTION, ANSWER, "Jhikargacha", "Panisara"):
            assert secret not in text


def test_a_second_question_pauses_the_clock_again(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    _ask(client, corridor, case_id)
    factories.advance(settings, case_id)
    first = factories.open_task(client, corridor.ngo, case_id, TaskKind.provide_information)
    assert factories.complete(client, corridor.ngo, first["id"], {"answer": ANSWER}).is_success
    factories.advance(settings, case_id)
    again = factories.open_task(client, corridor.consulate, case_id, TaskKind.verify_nationality, 2)
    factories.shift_tasks_back(settings, case_id, timedelta(days=20))

    follow_up = {"decision": "information_requested", "question": "Her father's name?"}
    response = factories.complete(client, corridor.consulate, again["id"], follow_up)
    assert response.status_code == 200, response.text
    factories.advance(settings, case_id)
    second = factories.open_task(client, corridor.ngo, case_id, TaskKind.provide_information, 2)
    assert second["context"] == {"question": "Her father's name?"}
    response = factories.complete(client, corridor.ngo, second["id"], {"answer": "Abdul"})
    assert response.status_code == 200, response.text
    factories.advance(settings, case_id)

    third = factories.open_task(client, corridor.consulate, case_id, TaskKind.verify_nationality, 3)
    assert third["context"] == {"question": "Her father's name?", "answer": "Abdul"}
    asked = factories.tasks_of(
        client, corridor.consulate, case_id, TaskKind.verify_nationality, status="done"
    )[1]
    answered = factories.tasks_of(
        client, corridor.ngo, case_id, TaskKind.provide_information, status="done"
    )[1]
    left = _at(asked["due_at"]) - _at(asked["completed_at"])
    # 90 days, less the 20 the second round ran before its question.
    assert abs(left - timedelta(days=70)) < timedelta(minutes=5)
    assert _at(third["due_at"]) == _at(answered["completed_at"]) + left

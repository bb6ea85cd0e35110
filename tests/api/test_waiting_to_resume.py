"""A decision taken while the workflow engine is unreachable: kept, and answered 202."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.clock import utcnow
from core.db import session_scope
from core.settings import Settings
from models import Case
from models.enums import TaskKind
from tests import factories
from tests.factories import Corridor


@pytest.fixture
def unreachable(settings: Settings) -> Iterator[TestClient]:
    """The API with a workflow engine that never takes a wake."""

    def wake_case(_: Settings, __: uuid.UUID) -> bool:
        return False

    with TestClient(create_app(settings, wake_case=wake_case)) as client:
        yield client


def test_a_decision_the_engine_cannot_take_is_kept_and_answered_202(
    client: TestClient, unreachable: TestClient, corridor: Corridor
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)

    response = factories.complete(unreachable, corridor.consulate, task["id"], factories.approved())

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["case_waiting_to_resume"] is True
    assert body["status"] == "done" and body["outcome"] == "approved"
    assert response.headers["Location"] == f"/api/v1/cases/{case['id']}"
    again = factories.complete(unreachable, corridor.consulate, task["id"], factories.approved())
    assert again.status_code == 409  # recorded once: the same decision sent again conflicts


def test_a_decision_the_engine_takes_is_answered_200_without_the_flag(
    client: TestClient, corridor: Corridor
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)

    response = factories.complete(client, corridor.consulate, task["id"], factories.approved())

    assert response.status_code == 200, response.text
    assert response.json()["case_waiting_to_resume"] is False
    assert "Location" not in response.headers


def test_case_shows_waiting_to_resume_once_a_decision_waits_longer_than_usual(
    client: TestClient, settings: Settings, corridor: Corridor
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)
    factories.complete(client, corridor.consulate, task["id"], factories.approved())
    path = f"/api/v1/cases/{case['id']}"

    assert client.get(path, headers=corridor.ngo.headers).json()["waiting_to_resume"] is False
    with session_scope(settings.resolved_database_url) as session:
        row = session.get_one(Case, uuid.UUID(case["id"]))
        row.wake_requested_at = utcnow() - timedelta(seconds=30)
        session.add(row)
    assert client.get(path, headers=corridor.ngo.headers).json()["waiting_to_resume"] is True
    factories.advance(settings, case["id"])  # the flow run's next pass takes the decision
    assert client.get(path, headers=corridor.ngo.headers).json()["waiting_to_resume"] is False


def test_openapi_documents_the_202_answer(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    answers = document["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]["responses"]
    assert "202" in answers and "waiting" in answers["202"]["description"]

"""A decision wakes its case's flow run once, after the commit; a refused one wakes none.

The domain asks for the wake (domain.wakes.request_wake) and the request's unit of work
(api.deps.get_session) wakes what was committed, so no route wakes a case by hand."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlmodel import Session

from core.clock import utcnow
from core.db import engine_for
from core.settings import Settings
from domain.wakes import request_wake, take_committed_wakes
from models import Case
from models.enums import TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor

HOLD = {"court_case_reference": "SC-KOL-2031-0457", "reason": "witness_in_trial"}


def test_each_decision_wakes_its_case_once_and_a_refused_one_none(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    c = corridor
    case_id = factories.launch(client, c.ngo)["id"]
    case = uuid.UUID(case_id)
    assert woken == [case]

    holds = f"/api/v1/cases/{case_id}/holds"
    placed = client.post(holds, json=HOLD, headers=c.ngo.headers)
    assert placed.status_code == 201, placed.text
    assert woken == [case] * 2

    # Refused: a second active hold. Nothing was committed, so nothing is woken.
    expect.error(client.post(holds, json=HOLD, headers=c.ngo.headers), 409)
    assert woken == [case] * 2

    released = client.post(
        f"{holds}/{placed.json()['id']}/release",
        json={"basis": "remote_testimony_arranged"},
        headers=c.ngo.headers,
    )
    assert released.status_code == 200, released.text
    assert woken == [case] * 3

    consent = f"/api/v1/cases/{case_id}/consent"
    withdrawn = client.post(consent, json={"data_sharing": False}, headers=c.ngo.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert woken == [case] * 4
    # The same answer again changes nothing and wakes nothing.
    again = client.post(consent, json={"data_sharing": False}, headers=c.ngo.headers)
    assert again.status_code == 200, again.text
    assert woken == [case] * 4


def test_a_completed_task_wakes_its_case_once_though_the_route_waits_for_the_engine(
    client: TestClient, corridor: Corridor, settings: Settings, woken: list[uuid.UUID]
) -> None:
    c = corridor
    case_id = factories.launch(client, c.ngo)["id"]
    factories.advance(settings, case_id)
    task = factories.open_task(client, c.consulate, case_id, TaskKind.verify_nationality)
    woken.clear()

    response = factories.complete(client, c.consulate, task["id"], factories.approved())
    assert response.status_code == 200, response.text
    assert woken == [uuid.UUID(case_id)]


def test_a_session_wakes_only_what_it_committed_and_each_case_once(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    one = uuid.UUID(factories.launch(client, corridor.ngo)["id"])
    two = uuid.UUID(factories.launch(client, corridor.ngo)["id"])
    with Session(engine_for(settings.resolved_database_url), expire_on_commit=False) as session:
        now = utcnow()
        request_wake(session, session.get_one(Case, one), now)
        session.rollback()
        assert take_committed_wakes(session) == []

        for case_id in (two, one, two):
            request_wake(session, session.get_one(Case, case_id), now)
        session.commit()
        assert take_committed_wakes(session) == [two, one]
        assert take_committed_wakes(session) == []

        request_wake(session, session.get_one(Case, one), now)
        session.commit()
        request_wake(session, session.get_one(Case, two), now)
        session.rollback()  # the first commit's wake stays, the second is gone
        assert take_committed_wakes(session) == [one]


def test_linking_a_duplicate_wakes_both_cases_of_the_pair_once(
    client: TestClient, corridor: Corridor, settings: Settings, woken: list[uuid.UUID]
) -> None:
    c = corridor
    person = {"given_name": "Mohammed", "family_name": "Rahman", "birth_date": "1998-04-02"}
    one = factories.launch(client, c.ngo, **person)["id"]
    two = factories.launch(client, c.other_ngo, **{**person, "family_name": "Rahaman"})["id"]
    [task] = factories.tasks_of(client, c.ngo, one, TaskKind.resolve_duplicate)
    woken.clear()

    response = factories.complete(client, c.ngo, task["id"], {"decision": "linked"})
    assert response.status_code == 200, response.text
    assert sorted(woken) == sorted([uuid.UUID(one), uuid.UUID(two)])

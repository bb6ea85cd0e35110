"""Follow-ups done by a named NGO in the survivor's home country instead of the shelter."""

from __future__ import annotations

from fastapi.testclient import TestClient

from core.settings import Settings
from models.enums import AgencyKind, Role, TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member


def _home_ngo(settings: Settings) -> Member:
    agency_id = factories.make_agency(
        settings, name="Jashore Reintegration NGO", kind=AgencyKind.ngo, country="BD"
    )
    user_id = factories.make_user(
        settings, username="bd-case-worker", agency_id=agency_id, role=Role.case_worker
    )
    return Member(agency_id, user_id, "bd-case-worker", factories.headers_for(settings, user_id))


def _plan_task(client: TestClient, corridor: Corridor) -> tuple[str, dict[str, object]]:
    case_id = factories.launch(client, corridor.ngo)["id"]
    return case_id, factories.walk_to(client, corridor, case_id, TaskKind.plan_transport)


def test_follow_ups_go_to_the_named_home_country_ngo(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    home = _home_ngo(settings)
    case_id, plan = _plan_task(client, corridor)
    body = factories.transport_plan(corridor, follow_up_agency_id=str(home.agency_id))
    assert factories.complete(client, corridor.ngo, str(plan["id"]), body).status_code == 200
    for kind, member, payload in factories.happy_path(corridor):
        if kind in (
            TaskKind.accept_placement,
            TaskKind.confirm_departure,
            TaskKind.confirm_handover,
        ):
            factories.advance(settings, case_id)
            task = factories.open_task(client, member, case_id, kind)
            assert factories.complete(client, member, task["id"], payload).status_code == 200
    factories.advance(settings, case_id)

    assert factories.tasks_of(client, corridor.shelter, case_id, TaskKind.record_follow_up) == []
    follow_ups = factories.tasks_of(client, home, case_id, TaskKind.record_follow_up)
    assert len(follow_ups) == 2  # offsets 0,0 in these tests
    seen = client.get(f"/api/v1/cases/{case_id}", headers=home.headers).json()
    assert seen["survivor"]["given_name"]  # what its follow-up visits need
    assert "birth_date" not in seen["survivor"] and seen["trafficking_status"] is None

    for task in follow_ups:
        done = factories.complete(client, home, task["id"], factories.follow_up())
        assert done.status_code == 200, done.text
    factories.advance(settings, case_id)
    closed = client.get(f"/api/v1/cases/{case_id}", headers=corridor.ngo.headers).json()
    assert closed["status"] == "closed"


def test_follow_up_agency_must_be_an_ngo(client: TestClient, corridor: Corridor) -> None:
    _, plan = _plan_task(client, corridor)
    body = factories.transport_plan(
        corridor, follow_up_agency_id=str(corridor.other_shelter.agency_id)
    )
    response = factories.complete(client, corridor.ngo, str(plan["id"]), body)
    assert "follow_up_agency_id" in expect.error(response, 422)


def test_follow_up_agency_must_work_in_the_home_country(
    client: TestClient, corridor: Corridor
) -> None:
    _, plan = _plan_task(client, corridor)
    body = factories.transport_plan(corridor, follow_up_agency_id=str(corridor.other_ngo.agency_id))
    response = factories.complete(client, corridor.ngo, str(plan["id"]), body)
    assert "home country" in expect.error(response, 422)

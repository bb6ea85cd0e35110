"""Need to know: each agency sees a case only while its step needs it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from core.settings import Settings
from models.enums import TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member


def _status(client: TestClient, member: Member, case_id: str) -> int:
    return client.get(f"/api/v1/cases/{case_id}", headers=member.headers).status_code


def _listed(client: TestClient, member: Member, case_id: str) -> bool:
    response = client.get("/api/v1/cases", headers=member.headers)
    return case_id in {c["id"] for c in response.json()}


def test_a_consulate_that_rejected_keeps_only_the_task_it_decided(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    verify = factories.walk_to(client, corridor, case_id, TaskKind.verify_nationality)
    assert _status(client, corridor.consulate, case_id) == 200

    rejected = factories.complete(
        client, corridor.consulate, verify["id"], {"decision": "rejected", "reason": "no record"}
    )
    assert rejected.status_code == 200
    factories.advance(settings, case_id)

    expect.error(client.get(f"/api/v1/cases/{case_id}", headers=corridor.consulate.headers), 404)
    assert not _listed(client, corridor.consulate, case_id)
    decided = factories.tasks_of(client, corridor.consulate, case_id, status="done")
    assert [t["id"] for t in decided] == [verify["id"]]


def test_a_consulate_that_approved_still_sees_the_identity_it_verified(
    client: TestClient, corridor: Corridor
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.plan_transport)

    seen = client.get(f"/api/v1/cases/{case_id}", headers=corridor.consulate.headers).json()
    assert seen["your_view"] == "identity"
    assert seen["survivor"]["nationality"] == "BD"
    assert seen["trafficking_status"] is None and seen["travel"] is None


def test_an_escort_sees_the_case_only_during_transport(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.accept_placement)
    assert _status(client, corridor.escort, case_id) == 404  # no task of its own yet

    departure = factories.walk_to(client, corridor, case_id, TaskKind.confirm_departure)
    seen = client.get(f"/api/v1/cases/{case_id}", headers=corridor.escort.headers).json()
    assert seen["your_view"] == "travel"
    assert set(seen["survivor"]) == {"sex", "age_band", "languages"}
    assert seen["travel"]["crossing_point"]

    done = factories.complete(client, corridor.escort, departure["id"], factories.departure())
    assert done.status_code == 200
    factories.advance(settings, case_id)
    assert _status(client, corridor.escort, case_id) == 404
    assert not _listed(client, corridor.escort, case_id)


def test_the_receiving_shelter_keeps_the_case_through_its_follow_ups(
    client: TestClient, corridor: Corridor
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.record_follow_up)

    seen = client.get(f"/api/v1/cases/{case_id}", headers=corridor.shelter.headers).json()
    assert seen["your_view"] == "handover"
    assert "birth_date" not in seen["survivor"] and "nationality" not in seen["survivor"]
    assert _status(client, corridor.other_shelter, case_id) == 404

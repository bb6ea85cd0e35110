"""Shelter places: a survivor holds one from the accepted placement until the case ends."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from core.settings import Settings
from models.enums import AgencyKind, Role, TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member

SMALL = "Benapole Transit Home"


def _small_shelter(client: TestClient, c: Corridor) -> Member:
    return factories.register(
        client,
        c,
        name=SMALL,
        kind=AgencyKind.shelter,
        country="BD",
        role=Role.shelter_officer,
        capacity=1,
    )


def _another(client: TestClient, c: Corridor, n: int) -> str:
    """A second survivor's case, with nothing in common with the first one."""
    survivor = [("Shirin", "Akter", "1994-07-02"), ("Morium", "Sarkar", "1988-11-20")][n]
    given, family, born = survivor
    case_id: str = factories.launch(
        client, c.ngo, given_name=given, family_name=family, birth_date=born
    )["id"]
    return case_id


def _plan(client: TestClient, c: Corridor, case_id: str, shelter: Member) -> Response:
    task = factories.walk_to(client, c, case_id, TaskKind.plan_transport)
    return factories.complete(
        client, c.ngo, task["id"], factories.transport_plan(c, shelter=shelter)
    )


def _planned(client: TestClient, c: Corridor, case_id: str, shelter: Member) -> dict[str, Any]:
    response = _plan(client, c, case_id, shelter)
    assert response.status_code == 200, response.text
    factories.advance(c.settings, case_id)
    return factories.open_task(client, shelter, case_id, TaskKind.accept_placement)


def _accept(client: TestClient, shelter: Member, task: dict[str, Any]) -> Response:
    return factories.complete(client, shelter, task["id"], {"decision": "accepted"})


def _placed(client: TestClient, c: Corridor, case_id: str, shelter: Member) -> None:
    response = _accept(client, shelter, _planned(client, c, case_id, shelter))
    assert response.status_code == 200, response.text
    factories.advance(c.settings, case_id)


def _occupancy(client: TestClient, member: Member) -> dict[str, int | None]:
    response = client.get("/api/v1/agencies", headers=member.headers)
    assert response.status_code == 200, response.text
    return {a["name"]: a["occupancy"] for a in response.json()}


def test_full_shelter_is_refused_in_a_plan_and_another_one_is_not(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    small = _small_shelter(client, corridor)
    first = factories.launch(client, corridor.ngo)["id"]
    assert _occupancy(client, corridor.ngo)[SMALL] == 0
    _placed(client, corridor, first, small)

    taken = _occupancy(client, corridor.escort)
    assert taken[SMALL] == 1
    assert taken["Jessore Shelter Home"] == 0 and taken["Dhaka Safe Home"] == 0
    assert taken["West Bengal Police AHTU"] is None and taken["Rescue Foundation Kolkata"] is None

    second = _another(client, corridor, 0)
    detail = expect.error(_plan(client, corridor, second, small), 409)
    assert SMALL in detail and "1 of 1 places taken" in detail
    assert factories.GIVEN_NAME not in detail and "Shirin" not in detail
    factories.open_task(client, corridor.ngo, second, TaskKind.plan_transport)
    assert factories.case_of(client, corridor.ngo, second)["travel"]["receiving_shelter_id"] is None

    _placed(client, corridor, second, corridor.shelter)
    taken = _occupancy(client, corridor.ngo)
    assert taken[SMALL] == 1 and taken["Jessore Shelter Home"] == 1


def test_placement_accepted_when_full_is_refused_until_a_case_closes(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    small = _small_shelter(client, corridor)
    first = factories.launch(client, corridor.ngo)["id"]
    second = _another(client, corridor, 0)
    # Both plans name the shelter while it still has its one place.
    first_placement = _planned(client, corridor, first, small)
    second_placement = _planned(client, corridor, second, small)
    assert _accept(client, small, first_placement).status_code == 200
    factories.advance(settings, first)

    detail = expect.error(_accept(client, small, second_placement), 409)
    assert SMALL in detail and "1 of 1 places taken" in detail
    # Refused as a whole: the task is still open and the case holds no place.
    factories.open_task(client, small, second, TaskKind.accept_placement)
    assert _occupancy(client, corridor.ngo)[SMALL] == 1

    # The first survivor keeps the place through the handover and the follow-ups...
    departure = factories.open_task(client, corridor.escort, first, TaskKind.confirm_departure)
    response = factories.complete(client, corridor.escort, departure["id"], factories.departure())
    assert response.status_code == 200, response.text
    factories.advance(settings, first)
    handover = factories.open_task(client, small, first, TaskKind.confirm_handover)
    response = factories.complete(client, small, handover["id"], factories.handover())
    assert response.status_code == 200, response.text
    factories.advance(settings, first)
    assert factories.case_of(client, corridor.ngo, first)["stage"] == "reintegration_followup"
    expect.error(_accept(client, small, second_placement), 409)
    for round_ in (1, 2):
        visit = factories.open_task(client, small, first, TaskKind.record_follow_up, round_)
        response = factories.complete(client, small, visit["id"], factories.follow_up())
        assert response.status_code == 200, response.text
        factories.advance(settings, first)
    # ...and frees it when the case closes.
    assert factories.case_of(client, corridor.ngo, first)["status"] == "closed"
    assert _occupancy(client, corridor.ngo)[SMALL] == 0

    assert _accept(client, small, second_placement).status_code == 200
    assert _occupancy(client, corridor.ngo)[SMALL] == 1
    # The next survivor finds the shelter full again.
    third = _another(client, corridor, 1)
    expect.error(_plan(client, corridor, third, small), 409)

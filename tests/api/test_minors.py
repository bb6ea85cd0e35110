"""A child's journey: an escort able to accompany children (female escorts for a girl where
the corridor says so) and a shelter that takes children, judged on the travel date."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from models.enums import AgencyKind, Role, TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member

NO_FEMALE_ESCORT_RULE = """\
defaults:
  female_escort_for_girls: false
"""

CHILD_ESCORT_RULE = "escort agency registered as able to escort children"
FEMALE_ESCORT_RULE = "a girl travels with a female escort"
CHILD_SHELTER_RULE = "shelter registered as taking children"


def _escort(client: TestClient, c: Corridor, name: str, **abilities: bool) -> Member:
    return factories.register(
        client,
        c,
        name=name,
        kind=AgencyKind.escort,
        country="IN",
        role=Role.escort_officer,
        **abilities,
    )


def _children_shelter(client: TestClient, c: Corridor) -> Member:
    return factories.register(
        client,
        c,
        name="Jessore Children Home",
        kind=AgencyKind.shelter,
        country="BD",
        role=Role.shelter_officer,
        capacity=6,
        accepts_children=True,
    )


def _plan_task(client: TestClient, c: Corridor, **survivor: Any) -> tuple[str, dict[str, Any]]:
    """Launch a case with these survivor fields, verify it; return it and its plan task."""
    case_id = factories.launch(client, c.ngo, **survivor)["id"]
    task = factories.walk_to(client, c, case_id, TaskKind.plan_transport)
    return case_id, task


def _plan(c: Corridor, escort: Member, shelter: Member, **fields: Any) -> dict[str, Any]:
    return factories.transport_plan(
        c,
        escort_agency_id=str(escort.agency_id),
        receiving_shelter_id=str(shelter.agency_id),
        **fields,
    )


def _aged(age: int, **survivor: Any) -> dict[str, Any]:
    return {"birth_date": factories.birth_date_for(age, on=factories.travel_day()), **survivor}


def _refused(
    client: TestClient, c: Corridor, case_id: str, task: dict[str, Any], plan: dict[str, Any]
) -> str:
    detail = expect.error(factories.complete(client, c.ngo, task["id"], plan), 422)
    # Nothing changed: the plan is still to be made, the case has no journey.
    factories.open_task(client, c.ngo, case_id, TaskKind.plan_transport)
    case = factories.case_of(client, c.ngo, case_id)
    assert case["travel"]["escort_agency_id"] is None
    for personal in (factories.GIVEN_NAME, factories.FAMILY_NAME, str(plan["travel_date"])):
        assert personal not in detail
    return detail


def test_minor_needs_an_escort_agency_that_escorts_children(
    client: TestClient, corridor: Corridor
) -> None:
    shelter = _children_shelter(client, corridor)
    case_id, task = _plan_task(client, corridor, **_aged(16))

    detail = _refused(client, corridor, case_id, task, _plan(corridor, corridor.escort, shelter))

    assert detail.startswith("escort_agency_id: ")
    assert "under 18 on the travel date" in detail and CHILD_ESCORT_RULE in detail


def test_girl_needs_female_escorts_where_her_corridor_says(
    client: TestClient, corridor: Corridor
) -> None:
    escort = _escort(client, corridor, "Child Escort Unit", escorts_children=True)
    shelter = _children_shelter(client, corridor)
    case_id, task = _plan_task(client, corridor, **_aged(16))

    detail = _refused(client, corridor, case_id, task, _plan(corridor, escort, shelter))

    assert detail.startswith("escort_agency_id: ")
    assert FEMALE_ESCORT_RULE in detail and "India → Bangladesh" in detail


def test_boy_does_not_need_female_escorts(client: TestClient, corridor: Corridor) -> None:
    escort = _escort(client, corridor, "Child Escort Unit", escorts_children=True)
    shelter = _children_shelter(client, corridor)
    case_id, task = _plan_task(client, corridor, **_aged(12, sex="male"))

    response = factories.complete(
        client, corridor.ngo, task["id"], _plan(corridor, escort, shelter)
    )

    assert response.status_code == 200, response.text
    assert factories.case_of(client, corridor.ngo, case_id)["is_minor"] is True


@pytest.mark.parametrize("corridors_yaml", [NO_FEMALE_ESCORT_RULE], ids=["no-female-escort-rule"])
def test_girl_on_a_corridor_without_the_rule_may_travel_with_any_child_escort(
    client: TestClient, corridor: Corridor
) -> None:
    escort = _escort(client, corridor, "Child Escort Unit", escorts_children=True)
    shelter = _children_shelter(client, corridor)
    case_id, task = _plan_task(client, corridor, **_aged(16))

    response = factories.complete(
        client, corridor.ngo, task["id"], _plan(corridor, escort, shelter)
    )

    assert response.status_code == 200, response.text
    travel = factories.case_of(client, corridor.ngo, case_id)["travel"]
    assert travel["escort_agency_id"] == str(escort.agency_id)
    # The other rules still hold on that corridor.
    other_id, other = _plan_task(
        client, corridor, **_aged(15, given_name="Nasrin", family_name="Sultana")
    )
    detail = _refused(client, corridor, other_id, other, _plan(corridor, corridor.escort, shelter))
    assert CHILD_ESCORT_RULE in detail


def test_minor_needs_a_shelter_that_takes_children(client: TestClient, corridor: Corridor) -> None:
    escort = _escort(
        client, corridor, "Child Escort Unit", escorts_children=True, female_escorts=True
    )
    case_id, task = _plan_task(client, corridor, **_aged(16))

    detail = _refused(client, corridor, case_id, task, _plan(corridor, escort, corridor.shelter))

    assert detail.startswith("receiving_shelter_id: ")
    assert "under 18 on the travel date" in detail and CHILD_SHELTER_RULE in detail


def test_minor_with_the_right_agencies_travels(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    escort = _escort(
        client, corridor, "Child Escort Unit", escorts_children=True, female_escorts=True
    )
    shelter = _children_shelter(client, corridor)
    case_id, task = _plan_task(client, corridor, **_aged(16))

    response = factories.complete(
        client, corridor.ngo, task["id"], _plan(corridor, escort, shelter)
    )

    assert response.status_code == 200, response.text
    case = factories.case_of(client, corridor.ngo, case_id)
    assert case["is_minor"] is True
    assert case["travel"]["escort_agency_id"] == str(escort.agency_id)
    assert case["travel"]["receiving_shelter_id"] == str(shelter.agency_id)
    factories.advance(settings, case_id)
    factories.open_task(client, shelter, case_id, TaskKind.accept_placement)
    listed = client.get("/api/v1/agencies", headers=corridor.ngo.headers).json()
    flags = {a["id"]: a for a in listed}
    assert flags[str(escort.agency_id)]["escorts_children"] is True
    assert flags[str(escort.agency_id)]["female_escorts"] is True
    assert flags[str(shelter.agency_id)]["accepts_children"] is True


def test_minor_by_age_estimate_is_a_minor(client: TestClient, corridor: Corridor) -> None:
    shelter = _children_shelter(client, corridor)
    case_id, task = _plan_task(client, corridor, birth_date=None, age_estimate=14)

    detail = _refused(client, corridor, case_id, task, _plan(corridor, corridor.escort, shelter))

    assert CHILD_ESCORT_RULE in detail


def test_adult_is_not_subject_to_the_rules_for_children(
    client: TestClient, corridor: Corridor
) -> None:
    case_id, task = _plan_task(client, corridor, **_aged(19))

    response = factories.complete(
        client, corridor.ngo, task["id"], _plan(corridor, corridor.escort, corridor.shelter)
    )

    assert response.status_code == 200, response.text
    assert factories.case_of(client, corridor.ngo, case_id)["is_minor"] is False


def test_age_is_judged_on_the_travel_date(client: TestClient, corridor: Corridor) -> None:
    """Seventeen today and eighteen in 40 days: travelling after the birthday, an adult's
    journey; before it, a child's."""
    born = factories.birth_date_for(17, on=factories.travel_day())
    case_id, task = _plan_task(client, corridor, birth_date=born)
    birthday_travel = factories.travel_day(40).isoformat()
    early = _plan(corridor, corridor.escort, corridor.shelter)

    detail = _refused(client, corridor, case_id, task, early)
    assert CHILD_ESCORT_RULE in detail

    late = _plan(corridor, corridor.escort, corridor.shelter, travel_date=birthday_travel)
    response = factories.complete(client, corridor.ngo, task["id"], late)
    assert response.status_code == 200, response.text
    assert factories.case_of(client, corridor.ngo, case_id)["is_minor"] is False

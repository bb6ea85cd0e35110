"""The timeline says who acted: the agency by name and the user by role, and the user by
name only to the coordinating NGO, for its own users."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from models.enums import Role, TaskKind
from tests import factories
from tests.factories import BIRTH_DATE, FAMILY_NAME, GIVEN_NAME, Corridor, Member

AGENCY_NAMES = {
    "ngo": "Rescue Foundation Kolkata",
    "consulate": "Bangladesh Deputy High Commission Kolkata",
    "shelter": "Jessore Shelter Home",
}


def _acted(events: list[dict[str, Any]], member: Member) -> list[dict[str, Any]]:
    return [e for e in events if e["actor_user_id"] == str(member.user_id)]


def _actors(event: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    return event["actor_agency_name"], event["actor_role"], event["actor_username"]


def _placed_case(client: TestClient, corridor: Corridor) -> str:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.record_follow_up)
    return case_id


def test_the_coordinating_ngo_sees_its_own_users_by_name(
    client: TestClient, corridor: Corridor
) -> None:
    case_id = _placed_case(client, corridor)
    supervisor = factories.supervisor_of(corridor, corridor.ngo)

    for viewer in (corridor.ngo, supervisor):
        events = factories.timeline_of(client, viewer, case_id)
        launched = _acted(events, corridor.ngo)
        assert launched and launched[0]["kind"] == "case_launched"
        for event in launched:
            assert _actors(event) == (AGENCY_NAMES["ngo"], Role.coordinator, "ngo-user")
        # Other agencies' users are named by agency and role only, even to the NGO.
        for key, role in (("consulate", Role.consular_officer), ("shelter", Role.shelter_officer)):
            acted = _acted(events, corridor.members[key])
            assert acted, key
            for event in acted:
                assert _actors(event) == (AGENCY_NAMES[key], role, None)


def test_other_agencies_see_agencies_and_roles_but_no_user_names(
    client: TestClient, corridor: Corridor
) -> None:
    case_id = _placed_case(client, corridor)

    events = factories.timeline_of(client, corridor.shelter, case_id)

    assert all(e["actor_username"] is None for e in events)
    (launched,) = [e for e in events if e["kind"] == "case_launched"]
    assert _actors(launched) == (AGENCY_NAMES["ngo"], Role.coordinator, None)
    own = _acted(events, corridor.shelter)
    assert own and all(
        _actors(e) == (AGENCY_NAMES["shelter"], Role.shelter_officer, None) for e in own
    )


def test_events_the_workflow_wrote_name_no_actor(client: TestClient, corridor: Corridor) -> None:
    case_id = _placed_case(client, corridor)

    events = factories.timeline_of(client, corridor.ngo, case_id)

    by_workflow = [e for e in events if e["actor_user_id"] is None]
    assert by_workflow
    for event in by_workflow:
        assert _actors(event) == (None, None, None), event["kind"]


def test_the_timeline_names_no_survivor_and_is_audited(
    client: TestClient, corridor: Corridor
) -> None:
    case_id = _placed_case(client, corridor)

    for member in (corridor.ngo, corridor.consulate, corridor.shelter):
        response = client.get(f"/api/v1/cases/{case_id}/timeline", headers=member.headers)
        assert response.status_code == 200, response.text
        for secret in (GIVEN_NAME, FAMILY_NAME, BIRTH_DATE):
            assert secret not in response.text

    audit = client.get(f"/api/v1/cases/{case_id}/audit", headers=corridor.ngo.headers).json()
    readers = {e["username"] for e in audit if e["action"] == "read_timeline"}
    assert readers == {"ngo-user", "consulate-user", "shelter-user"}

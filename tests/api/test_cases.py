"""Launching cases, and what each agency may read of them."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from models.enums import Role, TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member

SENTINEL = "Zzyzx-Secret"
NO_CONSENT = {"repatriation": False, "data_sharing": True, "follow_up": True}
NO_SHARING = {"repatriation": True, "data_sharing": False, "follow_up": True}


def _get(client: TestClient, member: Member, path: str) -> Any:
    response = client.get(f"/api/v1{path}", headers=member.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _case_ids(client: TestClient, member: Member) -> set[str]:
    return {c["id"] for c in _get(client, member, "/cases")}


# --- launching -------------------------------------------------------------------------


def test_coordinator_launches_a_case_and_its_flow_is_woken(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    response = client.post(
        "/api/v1/cases", json=factories.launch_case(), headers=corridor.ngo.headers
    )

    assert response.status_code == 201, response.text
    case = response.json()
    assert re.fullmatch(r"HW-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", case["reference"])
    assert case["stage"] == "identification"
    assert case["status"] == "open"
    assert case["flow_run_id"] is None
    assert case["is_minor"] is False
    assert case["your_view"] == "full"
    assert case["survivor"]["given_name"] == factories.GIVEN_NAME
    assert case["consent"] == {"repatriation": True, "data_sharing": True, "follow_up": True}
    assert woken == [uuid.UUID(case["id"])]
    assert _case_ids(client, corridor.ngo) == {case["id"]}


def test_an_age_estimate_stands_in_for_an_unknown_birth_date(
    client: TestClient, corridor: Corridor
) -> None:
    case = factories.launch(client, corridor.ngo, birth_date=None, age_estimate=16)

    assert case["is_minor"] is True
    assert case["survivor"]["age_estimate"] == 16
    assert case["survivor"]["birth_date"] is None


def test_only_a_coordinator_launches_a_case(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    case_worker = corridor.add_user(corridor.ngo, username="case-worker", role=Role.case_worker)
    for member in (corridor.consulate, corridor.shelter, corridor.escort, corridor.admin):
        response = client.post(
            "/api/v1/cases", json=factories.launch_case(), headers=member.headers
        )
        expect.error(response, 403)
    response = client.post(
        "/api/v1/cases", json=factories.launch_case(), headers=case_worker.headers
    )
    expect.error(response, 403)
    assert woken == []
    assert _case_ids(client, corridor.ngo) == set()


@pytest.mark.parametrize("consent", [NO_CONSENT, NO_SHARING], ids=["repatriation", "sharing"])
def test_a_case_without_consent_is_refused(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID], consent: dict[str, bool]
) -> None:
    body = factories.launch_case(consent=consent, given_name=SENTINEL)

    response = client.post("/api/v1/cases", json=body, headers=corridor.ngo.headers)

    detail = expect.error(response, 422)
    assert "consent" in detail
    assert SENTINEL not in response.text
    assert woken == []
    assert _case_ids(client, corridor.ngo) == set()


def test_a_case_without_follow_up_consent_may_still_be_launched(
    client: TestClient, corridor: Corridor
) -> None:
    consent = {"repatriation": True, "data_sharing": True, "follow_up": False}

    case = factories.launch(client, corridor.ngo, consent=consent)

    assert case["consent"] == consent


def test_launch_refuses_invalid_survivor_data_without_echoing_it(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    invalid: list[tuple[dict[str, Any], str]] = [
        (factories.launch_case(birth_date=None, family_name=SENTINEL), "age_estimate"),
        (factories.launch_case(nationality="QQ", given_name=SENTINEL), "survivor.nationality"),
        (factories.launch_case(current_country="QQ", given_name=SENTINEL), "current_country"),
        (factories.launch_case(sex="unspecified", given_name=SENTINEL), "survivor.sex"),
        (factories.launch_case(birth_date="2999-01-01", given_name=SENTINEL), "birth_date"),
        (factories.launch_case(age_estimate=-3, given_name=SENTINEL), "age_estimate"),
        (factories.launch_case(given_name=SENTINEL * 20), "survivor.given_name"),
        (factories.launch_case(birth_date=SENTINEL), "survivor.birth_date"),
        (factories.launch_case(given_name=SENTINEL, religion="none"), "survivor.religion"),
        (factories.launch_case(given_name=SENTINEL, current_country="BD"), "nationality"),
        ({**factories.launch_case(given_name=SENTINEL), "trafficking_status": "x"}, "traffick"),
        ({"survivor": {"given_name": SENTINEL}}, "survivor"),
    ]
    for body, mention in invalid:
        response = client.post("/api/v1/cases", json=body, headers=corridor.ngo.headers)

        detail = expect.error(response, 422)
        assert mention in detail, (body, detail)
        assert SENTINEL not in response.text, (body, detail)
    assert woken == []
    assert _case_ids(client, corridor.ngo) == set()


def test_an_unknown_nationality_is_not_echoed(client: TestClient, corridor: Corridor) -> None:
    body = factories.launch_case(nationality=SENTINEL)

    response = client.post("/api/v1/cases", json=body, headers=corridor.ngo.headers)

    expect.error(response, 422)
    assert SENTINEL not in response.text


# --- reading ---------------------------------------------------------------------------


def test_case_lists_hold_only_the_cases_an_agency_takes_part_in(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    older = factories.launch(client, corridor.ngo)["id"]
    ours = factories.launch(client, corridor.ngo)["id"]
    theirs = factories.launch(client, corridor.other_ngo)["id"]

    assert [c["id"] for c in _get(client, corridor.ngo, "/cases")] == [ours, older]
    assert _case_ids(client, corridor.other_ngo) == {theirs}
    assert _case_ids(client, corridor.consulate) == set()

    factories.advance(settings, ours)
    factories.advance(settings, theirs)

    assert _case_ids(client, corridor.consulate) == {ours, theirs}
    assert _case_ids(client, corridor.ngo) == {ours, older}
    assert _case_ids(client, corridor.other_ngo) == {theirs}
    for member in (corridor.shelter, corridor.other_shelter, corridor.escort):
        assert _case_ids(client, member) == set()
    # Administrators manage accounts; they read no cases at all.
    for path in ("/api/v1/cases", f"/api/v1/cases/{ours}", f"/api/v1/cases/{ours}/timeline"):
        expect.error(client.get(path, headers=corridor.admin.headers), 403)


def test_another_agencys_case_is_not_found_just_like_an_unknown_one(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.advance(settings, case_id)
    unknown = uuid.uuid4()

    for path in ("/api/v1/cases/{}", "/api/v1/cases/{}/timeline"):
        missing = client.get(path.format(unknown), headers=corridor.ngo.headers)
        expect.error(missing, 404)
        for member in (corridor.other_ngo, corridor.shelter, corridor.escort):
            hidden = client.get(path.format(case_id), headers=member.headers)

            expect.error(hidden, 404)
            assert hidden.json() == missing.json()
            assert factories.GIVEN_NAME not in hidden.text


def test_survivor_fields_follow_each_agencys_part_in_the_case(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo, birth_date=None, age_estimate=30)["id"]
    path = f"/cases/{case_id}"

    full = _get(client, corridor.ngo, path)
    assert full["your_view"] == "full"
    assert full["survivor"]["family_name"] == factories.FAMILY_NAME
    assert full["trafficking_status"] == "actual"

    factories.walk_to(client, corridor, case_id, TaskKind.verify_nationality)
    identity = _get(client, corridor.consulate, path)
    assert identity["your_view"] == "identity"
    assert identity["survivor"] == {
        "given_name": factories.GIVEN_NAME,
        "family_name": factories.FAMILY_NAME,
        "sex": "female",
        "birth_date": None,
        "age_estimate": 30,
        "nationality": "BD",
        "languages": ["bn", "hi"],
    }
    assert identity["trafficking_status"] is None
    assert identity["consent"] is None
    assert identity["travel"] is None
    for member in (corridor.shelter, corridor.escort):
        expect.error(client.get(f"/api/v1{path}", headers=member.headers), 404)

    # The shelter sees the survivor from the placement request on, the escort not yet.
    factories.walk_to(client, corridor, case_id, TaskKind.accept_placement)
    handover = _get(client, corridor.shelter, path)
    assert handover["your_view"] == "handover"
    assert handover["survivor"] == {
        "given_name": factories.GIVEN_NAME,
        "family_name": factories.FAMILY_NAME,
        "sex": "female",
        "age": 30,
        "languages": ["bn", "hi"],
    }
    assert handover["trafficking_status"] is None
    assert handover["travel"]["receiving_shelter_id"] == str(corridor.shelter.agency_id)
    expect.error(client.get(f"/api/v1{path}", headers=corridor.escort.headers), 404)
    expect.error(client.get(f"/api/v1{path}", headers=corridor.other_shelter.headers), 404)

    factories.walk_to(client, corridor, case_id, TaskKind.confirm_departure)
    travel = client.get(f"/api/v1{path}", headers=corridor.escort.headers)
    assert travel.status_code == 200, travel.text
    assert travel.json()["your_view"] == "travel"
    assert travel.json()["survivor"] == {
        "sex": "female",
        "age_band": "26 or over",
        "languages": ["bn", "hi"],
    }
    assert travel.json()["trafficking_status"] is None
    for secret in (factories.GIVEN_NAME, factories.FAMILY_NAME, '"BD"', "actual"):
        assert secret not in travel.text


def test_timeline_lists_events_in_order_without_personal_data(
    client: TestClient, corridor: Corridor
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.accept_placement)

    response = client.get(f"/api/v1/cases/{case_id}/timeline", headers=corridor.ngo.headers)

    assert response.status_code == 200, response.text
    events = response.json()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "case_launched"
    assert kinds.index("stage_changed") < kinds.index("task_opened")
    opened = [e["data"]["task_kind"] for e in events if e["kind"] == "task_opened"]
    completed = [e["data"]["task_kind"] for e in events if e["kind"] == "task_completed"]
    assert opened == ["verify_nationality", "plan_transport", "accept_placement"]
    assert completed == ["verify_nationality", "plan_transport"]
    for personal in (factories.GIVEN_NAME, factories.FAMILY_NAME, factories.BIRTH_DATE, "TP-"):
        assert personal not in response.text
    # The consulate, which took part, reads the same timeline, without the names of the
    # NGO's users (only the NGO itself sees those).
    assert any(e["actor_username"] == corridor.ngo.username for e in events)
    unnamed = [{**e, "actor_username": None} for e in events]
    assert _get(client, corridor.consulate, f"/cases/{case_id}/timeline") == unnamed

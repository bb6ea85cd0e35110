"""A case is found by the reference every notification carries, as by its id."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from models.enums import TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor


def _launched(client: TestClient, corridor: Corridor) -> tuple[str, str]:
    case = factories.launch(client, corridor.ngo)
    return case["id"], case["reference"]


@pytest.mark.parametrize("spelling", [str.upper, str.lower, str.title])
def test_a_case_is_read_by_its_reference_in_any_letter_case(
    client: TestClient, corridor: Corridor, spelling: object
) -> None:
    case_id, reference = _launched(client, corridor)
    assert callable(spelling)

    by_reference = client.get(f"/api/v1/cases/{spelling(reference)}", headers=corridor.ngo.headers)
    by_id = client.get(f"/api/v1/cases/{case_id}", headers=corridor.ngo.headers)

    assert by_reference.status_code == 200, by_reference.text
    assert by_reference.json()["id"] == case_id
    assert by_reference.json()["reference"] == reference
    assert by_reference.json()["survivor"] == by_id.json()["survivor"]


def test_every_case_route_takes_the_reference(client: TestClient, corridor: Corridor) -> None:
    case_id, reference = _launched(client, corridor)
    headers = corridor.ngo.headers
    key = reference.lower()

    timeline = client.get(f"/api/v1/cases/{key}/timeline", headers=headers)
    assert timeline.status_code == 200, timeline.text
    assert timeline.json()[0]["kind"] == "case_launched"
    audit = client.get(f"/api/v1/cases/{key}/audit", headers=headers)
    assert audit.status_code == 200, audit.text
    # The audit names the case by its id, however the caller named it.
    assert {e["action"] for e in audit.json()} >= {"launch_case", "read_timeline"}

    consent = client.post(f"/api/v1/cases/{key}/consent", json={"follow_up": True}, headers=headers)
    assert consent.status_code == 200, consent.text
    assert consent.json()["id"] == case_id

    hold = client.post(
        f"/api/v1/cases/{key}/holds",
        json={"court_case_reference": "SC-12/2027", "reason": "witness_in_trial"},
        headers=headers,
    )
    assert hold.status_code == 201, hold.text
    assert hold.json()["case_id"] == case_id
    holds = client.get(f"/api/v1/cases/{key}/holds", headers=headers)
    assert [h["id"] for h in holds.json()] == [hold.json()["id"]]
    released = client.post(
        f"/api/v1/cases/{key}/holds/{hold.json()['id']}/release",
        json={"basis": "remote_testimony_arranged"},
        headers=headers,
    )
    assert released.status_code == 200, released.text


def test_a_shelter_transfers_by_reference(client: TestClient, corridor: Corridor) -> None:
    case_id, reference = _launched(client, corridor)
    factories.walk_to(client, corridor, case_id, TaskKind.record_follow_up)

    request = client.post(
        f"/api/v1/cases/{reference}/transfer",
        json={"to_shelter_id": str(corridor.other_shelter.agency_id), "reason": "closer to family"},
        headers=corridor.shelter.headers,
    )
    assert request.status_code == 201, request.text
    assert request.json()["case_id"] == case_id
    revoked = client.post(
        f"/api/v1/cases/{reference.lower()}/transfer/revoke", headers=corridor.shelter.headers
    )
    assert revoked.status_code == 200, revoked.text


def test_a_reference_of_no_case_is_answered_as_an_unknown_id(
    client: TestClient, corridor: Corridor
) -> None:
    _launched(client, corridor)
    for member in (corridor.ngo, corridor.shelter):
        for path in ("", "/timeline", "/audit"):
            unknown_id = client.get(f"/api/v1/cases/{uuid.uuid4()}{path}", headers=member.headers)
            unknown_ref = client.get(f"/api/v1/cases/HW-2222-2222{path}", headers=member.headers)
            expect.error(unknown_ref, 404)
            assert unknown_ref.json() == unknown_id.json()


def test_a_reference_of_a_case_the_agency_may_not_see_is_not_found(
    client: TestClient, corridor: Corridor
) -> None:
    case_id, reference = _launched(client, corridor)
    never = client.get(f"/api/v1/cases/{uuid.uuid4()}", headers=corridor.other_ngo.headers)
    for member in (corridor.other_ngo, corridor.shelter, corridor.consulate):
        for key in (case_id, reference, reference.lower()):
            response = client.get(f"/api/v1/cases/{key}", headers=member.headers)
            expect.error(response, 404)
            assert response.json() == never.json()
    # The administrator reads no case at all, whichever way it is named, known or not.
    for key in (case_id, reference, "HW-2222-2222"):
        expect.error(client.get(f"/api/v1/cases/{key}", headers=corridor.admin.headers), 403)


def test_a_case_key_that_is_neither_an_id_nor_a_reference_is_refused(
    client: TestClient, corridor: Corridor
) -> None:
    for key in ("not-a-case", "HW-12345-678", "HW-ABCD", "ZZZZ-VTNF"):
        response = client.get(f"/api/v1/cases/{key}", headers=corridor.ngo.headers)
        detail = expect.error(response, 422)
        assert detail.startswith("case_id: must be a UUID"), detail
        assert "or a case reference such as HW-" in detail, detail
        assert key not in detail


def test_without_a_token_a_reference_is_401(client: TestClient, corridor: Corridor) -> None:
    _, reference = _launched(client, corridor)
    expect.error(client.get(f"/api/v1/cases/{reference}"), 401)
    expect.error(client.get("/api/v1/cases/not-a-case"), 401)


def test_the_case_list_finds_one_case_by_reference(client: TestClient, corridor: Corridor) -> None:
    case_id, reference = _launched(client, corridor)
    factories.launch(client, corridor.ngo, given_name="Anjali", family_name="Tamang")

    for spelling in (reference, reference.lower()):
        response = client.get(
            "/api/v1/cases", params={"reference": spelling}, headers=corridor.ngo.headers
        )
        assert response.status_code == 200, response.text
        assert [c["id"] for c in response.json()] == [case_id]
    assert len(client.get("/api/v1/cases", headers=corridor.ngo.headers).json()) == 2


def test_the_case_list_by_reference_shows_only_a_case_the_agency_sees(
    client: TestClient, corridor: Corridor
) -> None:
    _, reference = _launched(client, corridor)
    for member in (corridor.other_ngo, corridor.shelter):
        response = client.get(
            "/api/v1/cases", params={"reference": reference}, headers=member.headers
        )
        assert response.status_code == 200, response.text
        assert response.json() == []
    unknown = client.get(
        "/api/v1/cases", params={"reference": "HW-2222-2222"}, headers=corridor.ngo.headers
    )
    assert unknown.json() == []


def test_the_case_list_refuses_a_reference_of_the_wrong_shape(
    client: TestClient, corridor: Corridor
) -> None:
    response = client.get("/api/v1/cases", params={"reference": "x"}, headers=corridor.ngo.headers)
    assert expect.error(response, 422).startswith("reference: must be a case reference")

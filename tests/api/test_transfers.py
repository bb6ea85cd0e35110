"""Moving a survivor from one shelter to another after the handover."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from core.clock import utcnow
from core.settings import Settings
from models.enums import Role, TaskKind
from notifications.messages import render
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member

REASON = "closer to her mother's village near Dhaka"


def _in_follow_up(client: TestClient, c: Corridor) -> str:
    """A case handed over to c.shelter, its follow-ups open in the shelter's inbox."""
    case_id: str = factories.launch(client, c.ngo)["id"]
    factories.walk_to(client, c, case_id, TaskKind.record_follow_up)
    return case_id


def _request(client: TestClient, member: Member, case_id: str, to: Member) -> Any:
    return client.post(
        f"/api/v1/cases/{case_id}/transfer",
        json={"to_shelter_id": str(to.agency_id), "reason": REASON},
        headers=member.headers,
    )


def _revoke(client: TestClient, member: Member, case_id: str) -> Any:
    return client.post(f"/api/v1/cases/{case_id}/transfer/revoke", headers=member.headers)


def _case(client: TestClient, member: Member, case_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case_id}", headers=member.headers)
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()
    return case


def _occupancy(client: TestClient, member: Member) -> dict[str, int | None]:
    response = client.get("/api/v1/agencies", headers=member.headers)
    assert response.status_code == 200, response.text
    return {a["id"]: a["occupancy"] for a in response.json()}


def _sent_to(settings: Settings, case_id: str, member: Member) -> list[str]:
    return [n.kind for n in factories.outbox(settings, case_id) if n.agency_id == member.agency_id]


def test_an_accepted_transfer_moves_the_case_its_place_its_follow_ups_and_access(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    case_id = _in_follow_up(client, c)
    follow_ups = factories.tasks_of(client, c.shelter, case_id, TaskKind.record_follow_up)
    assert [t["round"] for t in follow_ups] == [1, 2]
    shelter_id, other_id = str(c.shelter.agency_id), str(c.other_shelter.agency_id)
    assert _occupancy(client, c.ngo)[shelter_id] == 1
    assert _occupancy(client, c.ngo)[other_id] == 0

    response = _request(client, c.shelter, case_id, c.other_shelter)
    assert response.status_code == 201, response.text
    requested = response.json()
    assert requested["kind"] == "accept_transfer" and requested["status"] == "open"

    task = factories.open_task(client, c.other_shelter, case_id, TaskKind.accept_transfer)
    assert task["id"] == requested["id"]
    assert task["context"] == {"from_shelter_id": shelter_id, "reason": REASON}
    assert "task_assigned" in _sent_to(settings, case_id, c.other_shelter)
    # While it decides, the receiving shelter sees what a receiving shelter needs.
    assert _case(client, c.other_shelter, case_id)["your_view"] == "handover"
    # Nothing moves before the answer.
    assert _case(client, c.ngo, case_id)["travel"]["receiving_shelter_id"] == shelter_id

    response = factories.complete(client, c.other_shelter, task["id"], {"decision": "accepted"})
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "accepted"

    assert _case(client, c.ngo, case_id)["travel"]["receiving_shelter_id"] == other_id
    seen = _case(client, c.other_shelter, case_id)
    assert seen["your_view"] == "handover"
    assert seen["survivor"]["given_name"] == factories.GIVEN_NAME
    assert "birth_date" not in seen["survivor"]
    expect.error(client.get(f"/api/v1/cases/{case_id}", headers=c.shelter.headers), 404)
    expect.error(client.get(f"/api/v1/cases/{case_id}/timeline", headers=c.shelter.headers), 404)
    assert case_id not in [
        k["id"] for k in client.get("/api/v1/cases", headers=c.shelter.headers).json()
    ]
    assert _occupancy(client, c.ngo)[shelter_id] == 0
    assert _occupancy(client, c.ngo)[other_id] == 1

    # The open follow-ups went with the survivor.
    assert factories.tasks_of(client, c.shelter, case_id, TaskKind.record_follow_up) == []
    moved = factories.tasks_of(client, c.other_shelter, case_id, TaskKind.record_follow_up)
    assert [t["id"] for t in moved] == [t["id"] for t in follow_ups]
    expect.error(factories.complete(client, c.shelter, moved[0]["id"], factories.follow_up()), 404)
    assert _sent_to(settings, case_id, c.shelter)[-1] == "transfer_accepted"
    assert _sent_to(settings, case_id, c.other_shelter).count("task_assigned") == 3

    kinds = factories.timeline_kinds(client, c.ngo, case_id)
    assert kinds.index("transfer_requested") < kinds.index("transfer_accepted")

    # The new shelter records the follow-ups; the case closes and its place is freed.
    for follow_up in moved:
        done = factories.complete(client, c.other_shelter, follow_up["id"], factories.follow_up())
        assert done.status_code == 200, done.text
    assert factories.advance(settings, case_id).ended
    assert _case(client, c.ngo, case_id)["status"] == "closed"
    assert _occupancy(client, c.ngo)[other_id] == 0


def test_a_rejected_transfer_moves_nothing_and_tells_the_sender(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    case_id = _in_follow_up(client, c)
    assert _request(client, c.shelter, case_id, c.other_shelter).status_code == 201
    task = factories.open_task(client, c.other_shelter, case_id, TaskKind.accept_transfer)

    reason = "no counsellor who speaks Bangla this month"
    rejection = {"decision": "rejected", "reason": reason}
    response = factories.complete(client, c.other_shelter, task["id"], rejection)
    assert response.status_code == 200, response.text

    case = _case(client, c.shelter, case_id)
    assert case["travel"]["receiving_shelter_id"] == str(c.shelter.agency_id)
    follow_ups = factories.tasks_of(client, c.shelter, case_id, TaskKind.record_follow_up)
    assert [t["round"] for t in follow_ups] == [1, 2]
    assert factories.tasks_of(client, c.other_shelter, case_id) == []
    occupancy = _occupancy(client, c.ngo)
    assert occupancy[str(c.shelter.agency_id)] == 1
    assert occupancy[str(c.other_shelter.agency_id)] == 0
    # A shelter that said no does not keep the case.
    expect.error(client.get(f"/api/v1/cases/{case_id}", headers=c.other_shelter.headers), 404)

    rows = [n for n in factories.outbox(settings, case_id) if n.kind == "transfer_rejected"]
    assert [n.agency_id for n in rows] == [c.shelter.agency_id]
    message = render(rows[0], public_url="https://homeward.example.org")
    assert reason not in message.body and "Bangla" not in message.title + message.body
    assert "transfer_rejected" in factories.timeline_kinds(client, c.ngo, case_id)

    # The sender may ask again, now as a second round.
    again = _request(client, c.shelter, case_id, c.other_shelter)
    assert again.status_code == 201, again.text
    assert again.json()["round"] == 2


def test_a_revoked_transfer_is_withdrawn_from_the_receiver(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    case_id = _in_follow_up(client, c)
    assert _request(client, c.shelter, case_id, c.other_shelter).status_code == 201
    task = factories.open_task(client, c.other_shelter, case_id, TaskKind.accept_transfer)

    # Only the sender revokes.
    expect.error(_revoke(client, c.other_shelter, case_id), 404)
    expect.error(_revoke(client, c.ngo, case_id), 404)

    response = _revoke(client, c.shelter, case_id)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == task["id"]
    assert response.json()["status"] == "cancelled"

    assert _sent_to(settings, case_id, c.other_shelter)[-1] == "task_withdrawn"
    assert factories.tasks_of(client, c.other_shelter, case_id) == []
    detail = expect.error(
        factories.complete(client, c.other_shelter, task["id"], {"decision": "accepted"}), 409
    )
    assert "cancelled" in detail
    expect.error(client.get(f"/api/v1/cases/{case_id}", headers=c.other_shelter.headers), 404)
    assert _case(client, c.ngo, case_id)["travel"]["receiving_shelter_id"] == str(
        c.shelter.agency_id
    )
    assert "transfer_revoked" in factories.timeline_kinds(client, c.ngo, case_id)
    # Nothing left to revoke.
    expect.error(_revoke(client, c.shelter, case_id), 409)


def test_one_transfer_at_a_time(client: TestClient, corridor: Corridor) -> None:
    c = corridor
    case_id = _in_follow_up(client, c)
    third = factories.add_shelter(c, name="Khulna Shelter", capacity=6, username="khulna-user")
    assert _request(client, c.shelter, case_id, c.other_shelter).status_code == 201

    detail = expect.error(_request(client, c.shelter, case_id, third), 409)
    assert "pending" in detail
    expect.error(_request(client, c.shelter, case_id, c.other_shelter), 409)
    assert factories.tasks_of(client, third, case_id) == []
    assert len(factories.tasks_of(client, c.other_shelter, case_id)) == 1


def test_no_transfer_before_the_handover(client: TestClient, corridor: Corridor) -> None:
    c = corridor
    case_id = factories.launch(client, c.ngo)["id"]
    # The placement is accepted: the shelter holds a place, but the survivor is not there.
    factories.walk_to(client, c, case_id, TaskKind.confirm_departure)
    detail = expect.error(_request(client, c.shelter, case_id, c.other_shelter), 409)
    assert "handover" in detail
    factories.walk_to(client, c, case_id, TaskKind.confirm_handover)
    expect.error(_request(client, c.shelter, case_id, c.other_shelter), 409)
    assert factories.tasks_of(client, c.other_shelter, case_id) == []


def test_only_the_shelter_holding_the_survivor_asks(client: TestClient, corridor: Corridor) -> None:
    c = corridor
    case_id = _in_follow_up(client, c)
    for outsider in (c.ngo, c.other_ngo, c.other_shelter, c.consulate, c.escort, c.admin):
        expect.error(_request(client, outsider, case_id, c.other_shelter), 404)
    # Another officer of the same shelter may ask: the shelter holds the survivor.
    colleague = c.add_user(c.shelter, username="shelter-officer-2", role=Role.shelter_officer)
    assert _request(client, colleague, case_id, c.other_shelter).status_code == 201
    expect.error(_revoke(client, c.other_shelter, case_id), 404)
    assert _revoke(client, c.shelter, case_id).status_code == 200
    # The target must be another registered shelter.
    expect.error(_request(client, c.shelter, case_id, c.shelter), 422)
    expect.error(_request(client, c.shelter, case_id, c.escort), 422)


def test_a_full_receiving_shelter_cannot_accept(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    small = factories.add_shelter(c, name="Satkhira Shelter", capacity=1, username="satkhira-user")
    # Another survivor takes the small shelter's only place.
    factories.place_case(
        client, c, small, given_name="Nasrin", family_name="Sultana", birth_date="1990-11-02"
    )
    case_id = _in_follow_up(client, c)
    assert _occupancy(client, c.ngo)[str(small.agency_id)] == 1

    assert _request(client, c.shelter, case_id, small).status_code == 201
    task = factories.open_task(client, small, case_id, TaskKind.accept_transfer)
    detail = expect.error(
        factories.complete(client, small, task["id"], {"decision": "accepted"}), 409
    )
    assert "full" in detail

    # Refused as a whole: the task is still open and nothing moved.
    assert factories.open_task(client, small, case_id, TaskKind.accept_transfer)["id"] == task["id"]
    assert _case(client, c.ngo, case_id)["travel"]["receiving_shelter_id"] == str(
        c.shelter.agency_id
    )
    assert len(factories.tasks_of(client, c.shelter, case_id, TaskKind.record_follow_up)) == 2
    assert "transfer_accepted" not in [n.kind for n in factories.outbox(settings, case_id)]
    # It may still say no.
    rejection = {"decision": "rejected", "reason": "full"}
    assert factories.complete(client, small, task["id"], rejection).status_code == 200


def test_a_transfer_still_pending_when_the_case_closes_is_withdrawn(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    case_id = _in_follow_up(client, c)
    assert _request(client, c.shelter, case_id, c.other_shelter).status_code == 201
    task = factories.open_task(client, c.other_shelter, case_id, TaskKind.accept_transfer)
    # The sending shelter records the last follow-ups meanwhile: the case closes.
    for follow_up in factories.tasks_of(client, c.shelter, case_id, TaskKind.record_follow_up):
        done = factories.complete(client, c.shelter, follow_up["id"], factories.follow_up())
        assert done.status_code == 200, done.text
    assert factories.advance(settings, case_id).ended
    assert _case(client, c.ngo, case_id)["status"] == "closed"

    # Nothing is left in the receiving shelter's inbox, and it is told, once.
    assert factories.tasks_of(client, c.other_shelter, case_id) == []
    assert _sent_to(settings, case_id, c.other_shelter).count("task_withdrawn") == 1
    expect.error(
        factories.complete(client, c.other_shelter, task["id"], {"decision": "accepted"}), 409
    )
    # A shelter that never took the survivor in does not keep the closed case.
    expect.error(client.get(f"/api/v1/cases/{case_id}", headers=c.other_shelter.headers), 404)
    factories.advance(settings, case_id)
    assert _sent_to(settings, case_id, c.other_shelter).count("task_withdrawn") == 1


def _register(client: TestClient, c: Corridor, username: str, role: Role, **agency: Any) -> Member:
    response = client.post("/api/v1/agencies", json=agency, headers=c.admin.headers)
    assert response.status_code == 201, response.text
    agency_id = response.json()["id"]
    user_id = factories.make_user(c.settings, username=username, agency_id=agency_id, role=role)
    return Member(agency_id, user_id, username, factories.headers_for(c.settings, user_id))


def test_a_child_is_transferred_only_to_a_shelter_that_takes_children(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    today = utcnow().date()
    girl = {"birth_date": today.replace(year=today.year - 15).isoformat()}
    escort = _register(
        client,
        c,
        "child-escort-user",
        Role.escort_officer,
        name="Child Line Escorts",
        kind="escort",
        country="IN",
        escorts_children=True,
        female_escorts=True,
    )
    shelter = _register(
        client,
        c,
        "child-shelter-user",
        Role.shelter_officer,
        name="Rights Jessore Children's Home",
        kind="shelter",
        country="BD",
        capacity=10,
        accepts_children=True,
    )
    another = _register(
        client,
        c,
        "child-shelter-2-user",
        Role.shelter_officer,
        name="Aparajeyo Children's Home",
        kind="shelter",
        country="BD",
        capacity=10,
        accepts_children=True,
    )
    case_id = factories.launch(client, c.ngo, **girl)["id"]
    plan = factories.transport_plan(
        c, escort_agency_id=str(escort.agency_id), receiving_shelter_id=str(shelter.agency_id)
    )
    clearance = {"reference": "CWC/2027/118", "issued_on": today.isoformat()}
    steps: list[tuple[TaskKind, Member, dict[str, Any]]] = [
        (TaskKind.verify_nationality, c.consulate, factories.approved()),
        (TaskKind.plan_transport, c.ngo, plan),
        (TaskKind.accept_placement, shelter, {"decision": "accepted"}),
        (TaskKind.record_document, c.ngo, clearance),
        (TaskKind.confirm_departure, escort, factories.departure()),
        (TaskKind.confirm_handover, shelter, factories.handover()),
    ]
    for kind, member, body in steps:
        factories.advance(settings, case_id)
        task = factories.open_task(client, member, case_id, kind)
        response = factories.complete(client, member, task["id"], body)
        assert response.status_code == 200, (kind, response.text)
    factories.advance(settings, case_id)
    assert factories.tasks_of(client, shelter, case_id, TaskKind.record_follow_up)

    # c.other_shelter is not registered as taking children.
    detail = expect.error(_request(client, shelter, case_id, c.other_shelter), 422)
    assert "under 18" in detail and factories.GIVEN_NAME not in detail
    assert factories.tasks_of(client, c.other_shelter, case_id) == []
    assert _request(client, shelter, case_id, another).status_code == 201


def test_transfer_request_and_revocation_wake_the_case(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.record_follow_up)
    woken.clear()
    transfer = {"to_shelter_id": str(corridor.other_shelter.agency_id), "reason": "family"}

    requested = client.post(
        f"/api/v1/cases/{case_id}/transfer", json=transfer, headers=corridor.shelter.headers
    )
    assert requested.status_code == 201, requested.text
    revoked = client.post(
        f"/api/v1/cases/{case_id}/transfer/revoke", headers=corridor.shelter.headers
    )
    assert revoked.status_code == 200, revoked.text

    # Each one queues a message (the task, its withdrawal) that the case's flow run sends.
    assert woken == [uuid.UUID(case_id)] * 2

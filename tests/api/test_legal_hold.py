"""Legal holds: a survivor needed by a court stays until the hold is released."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from core.settings import Settings
from models.enums import Role, TaskKind
from notifications.messages import render
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member

COURT_CASE = "SC-KOL-2031-0457"
PERMISSION = "CRL-REV-88-2031"
HOLD = {"court_case_reference": COURT_CASE, "reason": "witness_in_trial"}


def _holds_url(case_id: str) -> str:
    return f"/api/v1/cases/{case_id}/holds"


def _place(client: TestClient, member: Member, case_id: str, body: Any = None) -> Response:
    return client.post(
        _holds_url(case_id), json=HOLD if body is None else body, headers=member.headers
    )


def _release(
    client: TestClient, member: Member, case_id: str, hold_id: str, body: dict[str, Any]
) -> Response:
    return client.post(
        f"{_holds_url(case_id)}/{hold_id}/release", json=body, headers=member.headers
    )


def _placed(client: TestClient, member: Member, case_id: str) -> dict[str, Any]:
    response = _place(client, member, case_id)
    assert response.status_code == 201, response.text
    hold: dict[str, Any] = response.json()
    return hold


def _audit(client: TestClient, c: Corridor, case_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/cases/{case_id}/audit", headers=c.ngo.headers)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


REMOTE = {"basis": "remote_testimony_arranged"}


def test_hold_refuses_departure_until_remote_testimony_is_arranged(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    departure = factories.walk_to(client, corridor, case_id, TaskKind.confirm_departure)

    hold = _placed(client, corridor.ngo, case_id)
    assert hold["case_id"] == case_id
    assert hold["court_case_reference"] == COURT_CASE and hold["reason"] == "witness_in_trial"
    assert hold["placed_by_user_id"] == str(corridor.ngo.user_id)
    assert hold["released_at"] is None and hold["release_basis"] is None
    factories.advance(settings, case_id)
    case = factories.case_of(client, corridor.ngo, case_id)
    assert case["blocked_reason"] == "legal_hold" and case["legal_hold"] is True
    # The escort sees why the case waits, not that there is a court case behind it.
    seen_by_escort = factories.case_of(client, corridor.escort, case_id)
    assert seen_by_escort["legal_hold"] is None

    detail = expect.error(_place(client, corridor.ngo, case_id), 409)
    assert "active legal hold" in detail
    detail = expect.error(
        factories.complete(client, corridor.escort, departure["id"], factories.departure()), 409
    )
    assert "legal hold is active" in detail
    assert COURT_CASE not in detail

    listed = client.get(_holds_url(case_id), headers=corridor.ngo.headers)
    assert listed.status_code == 200, listed.text
    assert [h["id"] for h in listed.json()] == [hold["id"]]

    detail = expect.error(
        _release(client, corridor.ngo, case_id, hold["id"], {"basis": "court_permission"}), 422
    )
    assert "permission_reference" in detail
    expect.error(
        factories.complete(client, corridor.escort, departure["id"], factories.departure()), 409
    )

    response = _release(client, corridor.ngo, case_id, hold["id"], REMOTE)
    assert response.status_code == 200, response.text
    released = response.json()
    assert released["release_basis"] == "remote_testimony_arranged"
    assert released["released_at"] is not None and released["permission_reference"] is None
    expect.error(_release(client, corridor.ngo, case_id, hold["id"], REMOTE), 409)
    factories.advance(settings, case_id)
    case = factories.case_of(client, corridor.ngo, case_id)
    assert case["blocked_reason"] is None and case["legal_hold"] is False

    response = factories.complete(client, corridor.escort, departure["id"], factories.departure())
    assert response.status_code == 200, response.text
    factories.advance(settings, case_id)
    assert factories.case_of(client, corridor.ngo, case_id)["stage"] == "shelter_handover"
    # After departure a hold has nothing left to block.
    expect.error(_place(client, corridor.ngo, case_id), 409)


def test_hold_released_with_the_courts_permission_and_recorded_without_its_references(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.plan_transport)
    hold = _placed(client, corridor.ngo, case_id)

    body = {"basis": "court_permission", "permission_reference": PERMISSION}
    response = _release(client, corridor.ngo, case_id, hold["id"], body)
    assert response.status_code == 200, response.text
    assert response.json()["permission_reference"] == PERMISSION
    # A second hold may follow the first.
    second = _placed(client, corridor.ngo, case_id)
    listed = client.get(_holds_url(case_id), headers=corridor.ngo.headers).json()
    assert {h["id"] for h in listed} == {hold["id"], second["id"]}

    timeline = factories.timeline_of(client, corridor.ngo, case_id)
    events = [(e["kind"], e["data"]) for e in timeline if e["kind"].startswith("legal_hold")]
    assert events == [
        ("legal_hold_placed", {"hold_id": hold["id"], "reason": "witness_in_trial"}),
        ("legal_hold_released", {"hold_id": hold["id"], "basis": "court_permission"}),
        ("legal_hold_placed", {"hold_id": second["id"], "reason": "witness_in_trial"}),
    ]
    assert all(
        e["actor_user_id"] == str(corridor.ngo.user_id)
        for e in timeline
        if e["kind"].startswith("legal_hold")
    )
    audit = _audit(client, corridor, case_id)
    actions = [(a["action"], a["detail"].get("hold_id")) for a in audit]
    assert ("place_hold", hold["id"]) in actions
    assert ("release_hold", hold["id"]) in actions
    assert ("place_hold", second["id"]) in actions
    assert "read_holds" in [a["action"] for a in audit]
    for text in (str(timeline), str(audit)):
        assert COURT_CASE not in text and PERMISSION not in text


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "witness_in_trial"},
        {"court_case_reference": COURT_CASE},
        {"court_case_reference": COURT_CASE, "reason": "because"},
        {"court_case_reference": " ", "reason": "investigation"},
        {**HOLD, "note": "she is the main witness"},
    ],
    ids=["no-reference", "no-reason", "unknown-reason", "blank-reference", "extra-field"],
)
def test_malformed_hold_is_refused(
    client: TestClient, corridor: Corridor, body: dict[str, Any]
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]

    detail = expect.error(_place(client, corridor.ngo, case_id, body), 422)

    assert COURT_CASE not in detail and "main witness" not in detail
    assert client.get(_holds_url(case_id), headers=corridor.ngo.headers).json() == []


def test_only_the_coordinating_ngo_manages_holds(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.confirm_departure)
    hold = _placed(client, corridor.ngo, case_id)
    case_worker = corridor.add_user(corridor.ngo, username="ngo-case-worker", role=Role.case_worker)
    supervisor = corridor.add_user(corridor.ngo, username="ngo-supervisor", role=Role.supervisor)

    # Agencies that do not see the case: as if it did not exist.
    for outsider in (corridor.other_ngo, corridor.other_shelter):
        expect.error(client.get(_holds_url(case_id), headers=outsider.headers), 404)
        expect.error(_place(client, outsider, case_id), 404)
        expect.error(_release(client, outsider, case_id, hold["id"], REMOTE), 404)
    # Agencies and roles that see the case but do not keep its holds.
    for bystander in (corridor.consulate, corridor.escort, corridor.shelter, case_worker):
        expect.error(client.get(_holds_url(case_id), headers=bystander.headers), 403)
        expect.error(_place(client, bystander, case_id), 403)
        expect.error(_release(client, bystander, case_id, hold["id"], REMOTE), 403)
    expect.error(client.get(_holds_url(case_id), headers=corridor.admin.headers), 403)
    expect.error(_release(client, corridor.admin, case_id, hold["id"], REMOTE), 403)
    # Still held: none of that released it.
    assert factories.case_of(client, corridor.ngo, case_id)["legal_hold"] is True

    # A supervisor of the coordinating NGO may; an unknown hold is not found.
    expect.error(_release(client, supervisor, case_id, str(uuid.uuid4()), REMOTE), 404)
    response = _release(client, supervisor, case_id, hold["id"], REMOTE)
    assert response.status_code == 200, response.text
    other_case = factories.launch(
        client, corridor.ngo, given_name="Shirin", family_name="Akter", birth_date="1994-07-02"
    )["id"]
    # A hold is released only on its own case.
    second = _placed(client, supervisor, case_id)
    expect.error(_release(client, corridor.ngo, other_case, second["id"], REMOTE), 404)


def test_hold_placed_early_keeps_the_escort_out_until_it_is_released(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.advance(settings, case_id)
    hold = _placed(client, corridor.ngo, case_id)

    # The preparations go on: the transport is planned and the shelter accepts.
    placement = factories.walk_to(client, corridor, case_id, TaskKind.accept_placement)
    response = factories.complete(
        client, corridor.shelter, placement["id"], {"decision": "accepted"}
    )
    assert response.status_code == 200, response.text
    factories.advance(settings, case_id)

    # But the escort is not asked to depart while the survivor may not leave.
    assert factories.case_of(client, corridor.ngo, case_id)["blocked_reason"] == "legal_hold"
    assert factories.tasks_of(client, corridor.escort, case_id) == []
    assert _told(settings, case_id, corridor.escort) == []

    response = _release(client, corridor.ngo, case_id, hold["id"], REMOTE)
    assert response.status_code == 200, response.text
    factories.advance(settings, case_id)
    departure = factories.open_task(client, corridor.escort, case_id, TaskKind.confirm_departure)
    response = factories.complete(client, corridor.escort, departure["id"], factories.departure())
    assert response.status_code == 200, response.text
    factories.advance(settings, case_id)
    assert factories.case_of(client, corridor.ngo, case_id)["stage"] == "shelter_handover"
    # Asked once, when the survivor could leave; never told of a hold it did not hold.
    assert _told(settings, case_id, corridor.escort) == [("task_assigned", departure["id"])]


def test_escort_holding_the_departure_is_told_once_of_the_hold_and_once_of_its_release(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    departure = factories.walk_to(client, corridor, case_id, TaskKind.confirm_departure)
    asked = [("task_assigned", departure["id"])]

    hold = _placed(client, corridor.ngo, case_id)
    # Every pass replays the workflow: the escort is still told once.
    for _ in range(2):
        factories.advance(settings, case_id)
    on_hold = [("departure_on_hold", departure["id"])]
    assert _told(settings, case_id, corridor.escort) == asked + on_hold
    # The same task stays in the escort's inbox, on hold.
    assert (
        factories.open_task(client, corridor.escort, case_id, TaskKind.confirm_departure)["id"]
        == departure["id"]
    )
    [row] = [n for n in factories.outbox(settings, case_id) if n.kind == "departure_on_hold"]
    assert row.task_kind == TaskKind.confirm_departure and row.due_at is None
    message = render(row, public_url=settings.resolved_public_url)
    text = f"{message.title}\n{message.body}"
    reference = factories.case_of(client, corridor.ngo, case_id)["reference"]
    assert reference in message.title and "departure on hold" in message.title
    assert message.body.endswith("/inbox")
    # No reason: not the hold, let alone the court case behind it.
    for secret in (COURT_CASE, "legal", "court", "witness", "hold is active"):
        assert secret not in text

    _release(client, corridor.ngo, case_id, hold["id"], REMOTE)
    for _ in range(2):
        factories.advance(settings, case_id)
    lifted = [("departure_hold_lifted", departure["id"])]
    assert _told(settings, case_id, corridor.escort) == asked + on_hold + lifted

    # A second hold on the same task is a second message, once, and so is its release.
    second = _placed(client, corridor.ngo, case_id)
    factories.advance(settings, case_id)
    _release(client, corridor.ngo, case_id, second["id"], REMOTE)
    for _ in range(2):
        factories.advance(settings, case_id)
    assert _told(settings, case_id, corridor.escort) == asked + 2 * (on_hold + lifted)
    timeline = factories.timeline_kinds(client, corridor.ngo, case_id)
    assert [k for k in timeline if k.startswith("departure_")] == 2 * [
        "departure_on_hold",
        "departure_hold_lifted",
    ]

    response = factories.complete(client, corridor.escort, departure["id"], factories.departure())
    assert response.status_code == 200, response.text
    factories.advance(settings, case_id)
    assert factories.case_of(client, corridor.ngo, case_id)["stage"] == "shelter_handover"
    assert len(_told(settings, case_id, corridor.escort)) == 5


def _told(settings: Settings, case_id: str, member: Member) -> list[tuple[str, str]]:
    """What the member's agency was sent about the case: (kind, task id), in order."""
    return [
        (n.kind, str(n.task_id))
        for n in factories.outbox(settings, case_id)
        if n.agency_id == member.agency_id
    ]

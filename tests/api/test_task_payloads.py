"""Each task kind refuses the payloads that do not fit it, and echoes none of them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from core.clock import utcnow
from models.enums import TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member

SENTINEL = "Zzyzx-Secret"


def _refuses_each(
    client: TestClient,
    member: Member,
    task: dict[str, Any],
    invalid: list[tuple[Any, str]],
    woken: list[uuid.UUID],
) -> None:
    """Every payload is a 422 that names the problem; the task stays open, nobody is woken."""
    before = len(woken)
    for body, mention in invalid:
        response = factories.complete(client, member, task["id"], body)

        detail = expect.error(response, 422)
        assert mention in detail, (body, detail)
        assert SENTINEL not in response.text, (body, detail)
    assert len(woken) == before
    still_open = factories.tasks_of(client, member, task["case_id"], TaskKind(task["kind"]))
    assert task["id"] in {t["id"] for t in still_open}


def _days_from_today(days: int) -> str:
    return (utcnow().date() + timedelta(days=days)).isoformat()


def _ago(**delta: float) -> str:
    return (utcnow() - timedelta(**delta)).isoformat()


def test_verify_nationality_refuses_invalid_decisions(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)
    approved = factories.approved() | {"travel_document_number": SENTINEL}
    without_number = {k: v for k, v in approved.items() if k != "travel_document_number"}
    invalid: list[tuple[Any, str]] = [
        ({"travel_document_number": SENTINEL}, "decision"),
        (without_number, "travel_document_number"),
        ({"decision": "rejected"}, "reason"),
        ({"decision": "maybe", "reason": SENTINEL}, "decision"),
        ({"decision": "APPROVED", "reason": SENTINEL}, "decision"),
        (approved | {"notes": SENTINEL}, "notes"),
        ({"decision": "rejected", "reason": SENTINEL, "travel_document_number": "X"}, "remove it"),
        (approved | {"travel_document_expires_on": _days_from_today(-1)}, "expired"),
        (approved | {"travel_document_expires_on": _days_from_today(0)}, "expired"),
        (approved | {"travel_document_expires_on": "30/06/2027"}, "travel_document_expires_on"),
        (approved | {"travel_document_number": ""}, "travel_document_number"),
        ({"decision": "rejected", "reason": "   "}, "reason"),
        ([approved], "dictionary"),
    ]

    _refuses_each(client, corridor.consulate, task, invalid, woken)

    ok = factories.complete(client, corridor.consulate, task["id"], factories.approved())
    assert ok.status_code == 200, ok.text


def test_a_wrong_decision_is_not_echoed(client: TestClient, corridor: Corridor) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)

    response = factories.complete(client, corridor.consulate, task["id"], {"decision": SENTINEL})

    expect.error(response, 422)
    assert SENTINEL not in response.text


def test_plan_transport_refuses_invalid_plans(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.plan_transport)
    plan = factories.transport_plan(corridor, crossing_point=SENTINEL)
    without_crossing = {k: v for k, v in plan.items() if k != "crossing_point"}
    invalid: list[tuple[Any, str]] = [
        (without_crossing, "crossing_point"),
        ({k: v for k, v in plan.items() if k != "receiving_shelter_id"}, "receiving_shelter_id"),
        (plan | {"mode": "teleport"}, "mode"),
        (plan | {"mode": "ROAD"}, "mode"),
        (plan | {"escort_name": SENTINEL}, "escort_name"),
        (plan | {"travel_date": _days_from_today(-1)}, "past"),
        (plan | {"travel_date": "next week"}, "travel_date"),
        (plan | {"escort_agency_id": str(corridor.ngo.agency_id)}, "escort_agency_id"),
        (plan | {"escort_agency_id": str(corridor.shelter.agency_id)}, "escort_agency_id"),
        (plan | {"escort_agency_id": str(uuid.uuid4())}, "escort_agency_id"),
        (plan | {"escort_agency_id": "police"}, "escort_agency_id"),
        (plan | {"receiving_shelter_id": str(corridor.escort.agency_id)}, "receiving_shelter_id"),
        (plan | {"crossing_point": ""}, "crossing_point"),
    ]

    _refuses_each(client, corridor.ngo, task, invalid, woken)

    ok = factories.complete(client, corridor.ngo, task["id"], factories.transport_plan(corridor))
    assert ok.status_code == 200, ok.text


def test_accept_placement_refuses_invalid_answers(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.accept_placement)
    invalid: list[tuple[Any, str]] = [
        ({}, "decision"),
        ({"reason": SENTINEL}, "decision"),
        ({"decision": "declined"}, "reason"),
        ({"decision": "declined", "reason": ""}, "reason"),
        ({"decision": "maybe", "reason": SENTINEL}, "decision"),
        ({"decision": "approved"}, "decision"),
        ({"decision": "accepted", "beds": 2, "note": SENTINEL}, "beds"),
        ({"decision": "declined", "reason": "x" * 501}, "reason"),
    ]

    _refuses_each(client, corridor.shelter, task, invalid, woken)

    ok = factories.complete(client, corridor.shelter, task["id"], {"decision": "accepted"})
    assert ok.status_code == 200, ok.text


def test_confirm_departure_refuses_missing_or_impossible_times(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.confirm_departure)
    in_two_hours = (utcnow() + timedelta(hours=2)).isoformat()
    naive = utcnow().replace(tzinfo=None).isoformat()
    invalid: list[tuple[Any, str]] = [
        ({}, "departed_at"),
        ({"departed_at": in_two_hours}, "future"),
        ({"departed_at": naive}, "departed_at"),
        ({"departed_at": "this morning"}, "departed_at"),
        ({"departed_at": _ago(hours=1), "vehicle": SENTINEL}, "vehicle"),
        ({"received_at": _ago(hours=1)}, "departed_at"),
    ]

    _refuses_each(client, corridor.escort, task, invalid, woken)

    ok = factories.complete(client, corridor.escort, task["id"], factories.departure())
    assert ok.status_code == 200, ok.text


def test_confirm_handover_refuses_missing_or_impossible_times(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.confirm_handover)
    # The departure was confirmed minutes ago (factories.departure).
    invalid: list[tuple[Any, str]] = [
        ({}, "received_at"),
        ({"received_at": _ago(hours=3)}, "before the departure"),
        ({"received_at": (utcnow() + timedelta(hours=2)).isoformat()}, "future"),
        ({"received_at": utcnow().replace(tzinfo=None).isoformat()}, "received_at"),
        ({"received_at": _ago(hours=1), "received_by": SENTINEL}, "received_by"),
    ]

    _refuses_each(client, corridor.shelter, task, invalid, woken)

    ok = factories.complete(client, corridor.shelter, task["id"], factories.handover())
    assert ok.status_code == 200, ok.text


def test_record_follow_up_refuses_invalid_outcomes(
    client: TestClient, corridor: Corridor, woken: list[uuid.UUID]
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.record_follow_up)
    invalid: list[tuple[Any, str]] = [
        ({"notes": SENTINEL}, "outcome"),
        ({"outcome": "fine", "notes": SENTINEL}, "outcome"),
        ({"outcome": "Reintegrating", "notes": SENTINEL}, "outcome"),
        ({"outcome": "at_risk", "notes": SENTINEL, "address": "x"}, "address"),
        ({"outcome": "at_risk", "notes": SENTINEL * 400}, "notes"),
    ]

    _refuses_each(client, corridor.shelter, task, invalid, woken)

    ok = factories.complete(client, corridor.shelter, task["id"], factories.follow_up("at_risk"))
    assert ok.status_code == 200, ok.text

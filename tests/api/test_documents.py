"""Documents a corridor requires before departure, and a travel document that runs out."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.clock import utcnow
from core.db import session_scope
from core.settings import Settings
from domain.sweeps import cases_with_lapsed_documents
from models.enums import AgencyKind, Role, TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member

EXIT_PERMIT_EVERYWHERE = """\
defaults:
  required_documents: [travel_document, child_protection_clearance, exit_permit]
"""


def _child_agencies(client: TestClient, c: Corridor) -> tuple[Member, Member]:
    escort = factories.register(
        client,
        c,
        name="Child Escort Unit Kolkata",
        kind=AgencyKind.escort,
        country="IN",
        role=Role.escort_officer,
        escorts_children=True,
        female_escorts=True,
    )
    shelter = factories.register(
        client,
        c,
        name="Jessore Children Home",
        kind=AgencyKind.shelter,
        country="BD",
        role=Role.shelter_officer,
        capacity=6,
        accepts_children=True,
    )
    return escort, shelter


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _document(*, issued_days_ago: int = 3, expires_on: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": "CWC/KOL/2031/118",
        "issued_on": (utcnow().date() - timedelta(days=issued_days_ago)).isoformat(),
    }
    if expires_on is not None:
        body["expires_on"] = expires_on
    return body


def _verified(client: TestClient, c: Corridor, case_id: str, **approval: Any) -> None:
    task = factories.walk_to(client, c, case_id, TaskKind.verify_nationality)
    _ok(factories.complete(client, c.consulate, task["id"], factories.approved(**approval)))
    factories.advance(c.settings, case_id)


def _documents_asked(client: TestClient, c: Corridor, case_id: str) -> list[str]:
    tasks = factories.tasks_of(client, c.ngo, case_id, TaskKind.record_document)
    return sorted(t["context"]["document"] for t in tasks)


def test_minor_needs_a_child_protection_clearance_before_the_escort_is_asked(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    escort, shelter = _child_agencies(client, corridor)
    born = factories.birth_date_for(16, on=factories.travel_day())
    case_id = factories.launch(client, corridor.ngo, birth_date=born)["id"]
    _verified(client, corridor, case_id)

    record = factories.open_task(client, corridor.ngo, case_id, TaskKind.record_document)
    assert record["context"] == {"document": "child_protection_clearance"}
    plan = factories.open_task(client, corridor.ngo, case_id, TaskKind.plan_transport)
    body = factories.transport_plan(
        corridor,
        escort_agency_id=str(escort.agency_id),
        receiving_shelter_id=str(shelter.agency_id),
    )
    _ok(factories.complete(client, corridor.ngo, plan["id"], body))
    assert factories.case_of(client, corridor.ngo, case_id)["is_minor"] is True
    factories.advance(settings, case_id)
    placement = factories.open_task(client, shelter, case_id, TaskKind.accept_placement)
    _ok(factories.complete(client, shelter, placement["id"], {"decision": "accepted"}))
    factories.advance(settings, case_id)

    # Planned and placed, but the clearance is not recorded: the escort is not asked yet.
    assert factories.tasks_of(client, escort, case_id) == []
    case = factories.case_of(client, corridor.ngo, case_id)
    assert case["stage"] == "safe_transport" and case["blocked_reason"] is None

    _ok(factories.complete(client, corridor.ngo, record["id"], _document()))
    factories.advance(settings, case_id)
    departure = factories.open_task(client, escort, case_id, TaskKind.confirm_departure)
    _ok(factories.complete(client, escort, departure["id"], factories.departure()))
    factories.advance(settings, case_id)
    assert factories.case_of(client, corridor.ngo, case_id)["stage"] == "shelter_handover"
    timeline = factories.timeline_of(client, corridor.ngo, case_id)
    opened = [e["data"] for e in timeline if e["kind"] == "task_opened"]
    assert {"document": "child_protection_clearance"}.items() <= next(
        d for d in opened if d["task_kind"] == TaskKind.record_document
    ).items()


def test_adult_needs_no_child_protection_clearance(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    _verified(client, corridor, case_id)

    assert _documents_asked(client, corridor, case_id) == []
    factories.walk_to(client, corridor, case_id, TaskKind.confirm_departure)


@pytest.mark.parametrize("corridors_yaml", [EXIT_PERMIT_EVERYWHERE], ids=["exit-permit"])
@pytest.mark.parametrize(
    ("age", "expected"),
    [(30, ["exit_permit"]), (15, ["child_protection_clearance", "exit_permit"])],
    ids=["adult", "minor"],
)
def test_corridor_file_decides_the_documents(
    client: TestClient,
    corridor: Corridor,
    settings: Settings,
    age: int,
    expected: list[str],
) -> None:
    born = factories.birth_date_for(age, on=factories.travel_day())
    case_id = factories.launch(client, corridor.ngo, birth_date=born)["id"]
    _verified(client, corridor, case_id)

    assert _documents_asked(client, corridor, case_id) == expected
    # One task per document, each in its own round.
    tasks = factories.tasks_of(client, corridor.ngo, case_id, TaskKind.record_document)
    rounds = [t["round"] for t in tasks]
    assert sorted(rounds) == list(range(1, len(expected) + 1))


@pytest.mark.parametrize(
    "body",
    [
        {"issued_on": "2026-01-05"},
        {"reference": "CWC/1", "issued_on": "not-a-date"},
        {"reference": "CWC/1", "issued_on": (utcnow().date() + timedelta(days=3)).isoformat()},
        {"reference": "CWC/1", "issued_on": "2026-01-05", "expires_on": "2026-01-06"},
        {"reference": "CWC/1", "issued_on": "2026-01-05", "document": "exit_permit"},
    ],
    ids=["no-reference", "bad-date", "issued-in-future", "expires-before-travel", "extra"],
)
def test_malformed_document_is_refused(
    client: TestClient, corridor: Corridor, settings: Settings, body: dict[str, Any]
) -> None:
    born = factories.birth_date_for(16, on=factories.travel_day())
    case_id = factories.launch(client, corridor.ngo, birth_date=born)["id"]
    _verified(client, corridor, case_id)
    record = factories.open_task(client, corridor.ngo, case_id, TaskKind.record_document)

    expect.error(factories.complete(client, corridor.ngo, record["id"], body), 422)

    factories.open_task(client, corridor.ngo, case_id, TaskKind.record_document)


def _placed(
    client: TestClient, c: Corridor, case_id: str, *, travel_in_days: int
) -> dict[str, Any]:
    """Plan a journey `travel_in_days` ahead and have the shelter accept; return the plan."""
    plan_task = factories.open_task(client, c.ngo, case_id, TaskKind.plan_transport)
    plan = factories.transport_plan(c, travel_date=factories.travel_day(travel_in_days).isoformat())
    _ok(factories.complete(client, c.ngo, plan_task["id"], plan))
    factories.advance(c.settings, case_id)
    placement = factories.open_task(client, c.shelter, case_id, TaskKind.accept_placement)
    _ok(factories.complete(client, c.shelter, placement["id"], {"decision": "accepted"}))
    factories.advance(c.settings, case_id)
    return plan


def test_travel_document_expiring_before_the_journey_goes_back_to_the_consulate(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]
    _verified(client, corridor, case_id, expires_in_days=5)
    plan = _placed(client, corridor, case_id, travel_in_days=10)
    escort = corridor.escort.agency_id
    travel_date = plan["travel_date"]
    expires_on = (utcnow().date() + timedelta(days=5)).isoformat()

    reissue = factories.open_task(
        client, corridor.consulate, case_id, TaskKind.reissue_travel_document
    )
    assert reissue["context"] == {"expires_on": expires_on, "travel_date": travel_date}
    assert factories.case_of(client, corridor.ngo, case_id)["blocked_reason"] == (
        "travel_document_expired"
    )
    # The escort is asked only once the survivor can leave.
    assert factories.tasks_of(client, corridor.escort, case_id) == []

    for bad in (
        {"travel_document_number": "TP-0099999", "travel_document_expires_on": expires_on},
        {
            "travel_document_number": "TP-0099999",
            "travel_document_expires_on": (
                factories.travel_day(10) - timedelta(days=1)
            ).isoformat(),
        },
        {"travel_document_expires_on": travel_date},
        {"travel_document_number": "", "travel_document_expires_on": travel_date},
    ):
        expect.error(factories.complete(client, corridor.consulate, reissue["id"], bad), 422)
    # Still nothing for the escort: nothing was re-issued.
    factories.advance(settings, case_id)
    assert factories.tasks_of(client, corridor.escort, case_id) == []

    valid = {"travel_document_number": "TP-0099999", "travel_document_expires_on": travel_date}
    assert _ok(factories.complete(client, corridor.consulate, reissue["id"], valid))["outcome"] == (
        "reissued"
    )
    factories.advance(settings, case_id)
    case = factories.case_of(client, corridor.ngo, case_id)
    assert case["blocked_reason"] is None
    assert case["travel_document_expires_on"] == travel_date
    assert factories.tasks_of(client, corridor.consulate, case_id) == []
    departure = factories.open_task(client, corridor.escort, case_id, TaskKind.confirm_departure)
    _ok(factories.complete(client, corridor.escort, departure["id"], factories.departure()))
    factories.advance(settings, case_id)
    assert factories.case_of(client, corridor.ngo, case_id)["stage"] == "shelter_handover"
    # Asked once, and never told of a hold: the escort held no task while it lasted.
    assert [n.kind for n in factories.outbox(settings, case_id) if n.agency_id == escort] == [
        "task_assigned"
    ]


def _lapsed(settings: Settings) -> list[uuid.UUID]:
    with session_scope(settings.resolved_database_url) as session:
        return cases_with_lapsed_documents(session, today=utcnow().date())


@pytest.mark.parametrize("lapse", ["expired", "expires-before-travel"])
def test_document_that_lapses_while_the_case_waits_is_sent_back(
    client: TestClient, corridor: Corridor, settings: Settings, lapse: str
) -> None:
    waiting = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, waiting, TaskKind.confirm_departure)
    departed = factories.launch(
        client, corridor.ngo, given_name="Shirin", family_name="Akter", birth_date="1994-07-02"
    )["id"]
    factories.walk_to(client, corridor, departed, TaskKind.confirm_handover)
    verifying = factories.launch(
        client, corridor.ngo, given_name="Morium", family_name="Sarkar", birth_date="1988-11-20"
    )["id"]
    factories.advance(settings, verifying)
    assert _lapsed(settings) == []

    today = utcnow().date()
    lapsed_on = today - timedelta(days=1) if lapse == "expired" else today
    for case_id in (waiting, departed):
        factories.set_travel_document_expiry(settings, case_id, lapsed_on)
    # The travel date is tomorrow: a document running out today lapses before it.
    assert _lapsed(settings) == [uuid.UUID(waiting)]

    for case_id in _lapsed(settings):
        factories.advance(settings, case_id)

    reissue = factories.open_task(
        client, corridor.consulate, waiting, TaskKind.reissue_travel_document
    )
    assert reissue["context"]["expires_on"] == lapsed_on.isoformat()
    assert factories.case_of(client, corridor.ngo, waiting)["blocked_reason"] == (
        "travel_document_expired"
    )
    # Asked once: the sweeper finds nothing more to send back.
    assert _lapsed(settings) == []
    factories.advance(settings, waiting)
    assert len(factories.tasks_of(client, corridor.consulate, waiting)) == 1
    # The escort already held the departure: it stays, on hold, and the escort is told once.
    departure = factories.open_task(client, corridor.escort, waiting, TaskKind.confirm_departure)
    assert _told_escort(corridor, waiting) == ["task_assigned", "departure_on_hold"]
    detail = expect.error(
        factories.complete(client, corridor.escort, departure["id"], factories.departure()), 409
    )
    assert "the survivor cannot depart yet" in detail
    valid = {
        "travel_document_number": "TP-0077777",
        "travel_document_expires_on": (today + timedelta(days=200)).isoformat(),
    }
    _ok(factories.complete(client, corridor.consulate, reissue["id"], valid))
    factories.advance(settings, waiting)
    factories.advance(settings, waiting)
    assert factories.case_of(client, corridor.ngo, waiting)["blocked_reason"] is None
    assert _told_escort(corridor, waiting) == [
        "task_assigned",
        "departure_on_hold",
        "departure_hold_lifted",
    ]
    _ok(factories.complete(client, corridor.escort, departure["id"], factories.departure()))
    # The case that had left was never put on hold.
    assert "departure_on_hold" not in _told_escort(corridor, departed)


def _told_escort(c: Corridor, case_id: str) -> list[str]:
    return [
        n.kind for n in factories.outbox(c.settings, case_id) if n.agency_id == c.escort.agency_id
    ]


def test_clearance_that_runs_out_before_the_journey_is_asked_for_again(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    """Recorded before the plan, valid then; the plan's travel date falls after it ends."""
    escort, shelter = _child_agencies(client, corridor)
    born = factories.birth_date_for(16, on=factories.travel_day(10))
    case_id = factories.launch(client, corridor.ngo, birth_date=born)["id"]
    _verified(client, corridor, case_id)
    record = factories.open_task(client, corridor.ngo, case_id, TaskKind.record_document)
    short = (utcnow().date() + timedelta(days=3)).isoformat()
    _ok(factories.complete(client, corridor.ngo, record["id"], _document(expires_on=short)))
    factories.advance(settings, case_id)

    plan = factories.open_task(client, corridor.ngo, case_id, TaskKind.plan_transport)
    body = factories.transport_plan(
        corridor,
        escort_agency_id=str(escort.agency_id),
        receiving_shelter_id=str(shelter.agency_id),
        travel_date=factories.travel_day(10).isoformat(),
    )
    _ok(factories.complete(client, corridor.ngo, plan["id"], body))
    factories.advance(settings, case_id)
    placement = factories.open_task(client, shelter, case_id, TaskKind.accept_placement)
    _ok(factories.complete(client, shelter, placement["id"], {"decision": "accepted"}))
    factories.advance(settings, case_id)

    # The clearance ends before the travel date: the escort is not asked, the coordinator
    # records a clearance that covers the journey.
    assert factories.tasks_of(client, escort, case_id) == []
    again = factories.open_task(client, corridor.ngo, case_id, TaskKind.record_document, 2)
    assert again["context"] == {"document": "child_protection_clearance"}
    expect.error(
        factories.complete(client, corridor.ngo, again["id"], _document(expires_on=short)), 422
    )
    longer = factories.travel_day(60).isoformat()
    _ok(factories.complete(client, corridor.ngo, again["id"], _document(expires_on=longer)))
    factories.advance(settings, case_id)
    departure = factories.open_task(client, escort, case_id, TaskKind.confirm_departure)
    _ok(factories.complete(client, escort, departure["id"], factories.departure()))

"""Facts no one could mean are refused with a 422 that names the field and says what to
send instead: a departure before the case existed or weeks ahead of its plan, a language
by its name rather than its code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from core.clock import utcnow
from models.enums import TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor

PLANTED = expect.PLANTED


def _launch(client: TestClient, corridor: Corridor, body: Any) -> str:
    return expect.refused(client.post("/api/v1/cases", json=body, headers=corridor.ngo.headers))


def _complete(client: TestClient, member: factories.Member, task_id: str, body: Any) -> str:
    return expect.refused(factories.complete(client, member, task_id, body))


# --- implausible departures ---------------------------------------------------------------


def _departure_task(client: TestClient, corridor: Corridor, *, travel_in_days: int = 1) -> str:
    """A case's open confirm_departure task, its journey planned `travel_in_days` ahead."""
    case_id = factories.launch(client, corridor.ngo)["id"]
    travel_date = (utcnow().date() + timedelta(days=travel_in_days)).isoformat()
    steps: list[tuple[TaskKind, factories.Member, dict[str, Any]]] = [
        (TaskKind.verify_nationality, corridor.consulate, factories.approved()),
        (
            TaskKind.plan_transport,
            corridor.ngo,
            factories.transport_plan(corridor, travel_date=travel_date),
        ),
        (TaskKind.accept_placement, corridor.shelter, {"decision": "accepted"}),
    ]
    for kind, member, body in steps:
        factories.advance(corridor.settings, case_id)
        task = factories.open_task(client, member, case_id, kind)
        response = factories.complete(client, member, task["id"], body)
        assert response.status_code == 200, response.text
    factories.advance(corridor.settings, case_id)
    task_id: str = factories.open_task(
        client, corridor.escort, case_id, TaskKind.confirm_departure
    )["id"]
    return task_id


def test_departure_before_the_launch_is_refused(client: TestClient, corridor: Corridor) -> None:
    task_id = _departure_task(client, corridor)
    detail = _complete(client, corridor.escort, task_id, factories.departure(minutes_ago=60))
    assert detail.startswith("departed_at: the departure time is before the case was launched")
    assert "2026-12-01T10:00:00+05:30" in detail


def test_departure_minutes_before_the_launch_passes_as_clock_slack(
    client: TestClient, corridor: Corridor
) -> None:
    task_id = _departure_task(client, corridor)
    response = factories.complete(
        client, corridor.escort, task_id, factories.departure(minutes_ago=8)
    )
    assert response.status_code == 200, response.text


def test_departure_weeks_before_the_travel_date_is_refused(
    client: TestClient, corridor: Corridor
) -> None:
    task_id = _departure_task(client, corridor, travel_in_days=20)
    detail = _complete(client, corridor.escort, task_id, factories.departure())
    travel_date = (utcnow().date() + timedelta(days=20)).isoformat()
    assert detail == (
        "departed_at: the departure is more than 14 days before the planned travel date "
        f"({travel_date}); check the date and its zone"
    )


def test_departure_days_before_the_travel_date_is_recorded(
    client: TestClient, corridor: Corridor
) -> None:
    task_id = _departure_task(client, corridor, travel_in_days=10)
    response = factories.complete(client, corridor.escort, task_id, factories.departure())
    assert response.status_code == 200, response.text


# --- languages ----------------------------------------------------------------------------


def test_language_names_are_refused_for_iso_639_codes(
    client: TestClient, corridor: Corridor
) -> None:
    for name in ("Bengali", "Bangla", "english", "xx", PLANTED):
        detail = _launch(client, corridor, factories.launch_case(languages=["bn", name]))
        assert detail.startswith("survivor.languages.1: not a language code: "), detail
        assert "ISO 639 code such as bn, ne, hi, ur" in detail


def test_language_codes_are_kept_in_their_short_form(
    client: TestClient, corridor: Corridor
) -> None:
    case = factories.launch(client, corridor.ngo, languages=["BN", "ben", "rhg", " ur "])
    assert case["survivor"]["languages"] == ["bn", "rhg", "ur"]


def test_openapi_lists_the_accepted_language_codes(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    survivor = document["components"]["schemas"]["SurvivorIn"]
    items = survivor["properties"]["languages"]["items"]
    assert "ISO 639" in items["description"]
    two_letter = items["anyOf"][0]["enum"]
    assert {"bn", "ne", "hi", "ur", "si", "ta", "ar", "en"} <= set(two_letter)
    assert "Bengali" not in two_letter
    assert items["anyOf"][1]["pattern"] == "^[a-z]{3}$"

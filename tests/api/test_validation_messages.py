"""A 422 a person can act on: it names each field by its dotted path and says what to send
instead, never what was sent; and a decision without what it needs is never accepted."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from models.enums import TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor

PLANTED = expect.PLANTED


def _launch(client: TestClient, corridor: Corridor, body: Any) -> str:
    return expect.refused(client.post("/api/v1/cases", json=body, headers=corridor.ngo.headers))


def _complete(client: TestClient, member: factories.Member, task_id: str, body: Any) -> str:
    return expect.refused(factories.complete(client, member, task_id, body))


# --- the messages of the field reports ---------------------------------------------------


def test_empty_body_says_to_send_an_object_with_the_required_fields(
    client: TestClient, corridor: Corridor
) -> None:
    response = client.post(
        "/api/v1/cases",
        content=b"",
        headers={**corridor.ngo.headers, "Content-Type": "application/json"},
    )
    assert expect.error(response, 422) == (
        "body: no body was sent; send a JSON object with the required fields survivor, "
        "current_country, trafficking_status, consent"
    )


def test_each_missing_field_is_named(client: TestClient, corridor: Corridor) -> None:
    detail = _launch(client, corridor, {})
    for field in ("survivor", "current_country", "trafficking_status", "consent"):
        assert f"{field}: this field is required; add it" in detail, detail


def test_time_without_zone_shows_a_time_with_its_zone(
    client: TestClient, corridor: Corridor
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.confirm_handover)
    detail = _complete(client, corridor.shelter, task["id"], {"received_at": "2026-12-01T10:00:00"})
    assert detail == ("received_at: must be a time with its zone, e.g. 2026-12-01T10:00:00+05:30")


def test_date_in_another_format_asks_for_year_month_day(
    client: TestClient, corridor: Corridor
) -> None:
    detail = _launch(client, corridor, factories.launch_case(birth_date="04/03/2001"))
    assert detail == "survivor.birth_date: must be a date as YYYY-MM-DD, e.g. 2001-03-04"
    assert "invalid character" not in detail


def test_unknown_field_is_named_and_is_to_be_removed(
    client: TestClient, corridor: Corridor
) -> None:
    detail = _launch(client, corridor, factories.launch_case(religion=PLANTED))
    assert detail == ("survivor.religion: this is not a field Homeward accepts here; remove it")


def test_a_choice_lists_the_accepted_values(client: TestClient, corridor: Corridor) -> None:
    detail = _launch(client, corridor, factories.launch_case(sex=PLANTED))
    assert detail == "survivor.sex: must be one of female, male, other, unknown"


def test_a_rule_of_the_case_names_its_field(client: TestClient, corridor: Corridor) -> None:
    body = factories.launch_case(
        consent={"repatriation": True, "data_sharing": False, "follow_up": True}
    )
    assert _launch(client, corridor, body).startswith("consent.data_sharing: ")
    assert _launch(client, corridor, factories.launch_case(birth_date=None)).startswith(
        "survivor.birth_date: "
    )


def test_several_problems_are_each_named(client: TestClient, corridor: Corridor) -> None:
    body = factories.launch_case(birth_date="01-01-1990", sex="F", languages=["x"])
    body["consent"]["follow_up"] = PLANTED
    detail = _launch(client, corridor, body)
    for path in (
        "survivor.birth_date: ",
        "survivor.sex: ",
        "survivor.languages.0: ",
        "consent.follow_up: must be true or false",
    ):
        assert path in detail, detail


def test_query_parameter_choices_are_listed(client: TestClient, corridor: Corridor) -> None:
    response = client.get("/api/v1/tasks", params={"status": PLANTED}, headers=corridor.ngo.headers)
    assert expect.error(response, 422) == "status: must be one of open, done, cancelled"
    assert PLANTED not in response.text


# --- task outcomes: each agency's words, nothing accepted silently ----------------------


def test_shelter_that_declines_must_give_a_reason(client: TestClient, corridor: Corridor) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.accept_placement)
    detail = _complete(client, corridor.shelter, task["id"], {"decision": "declined"})
    # The decision word is not part of the path.
    assert detail == "reason: this field is required; add it"
    empty = _complete(client, corridor.shelter, task["id"], {"decision": "declined", "reason": " "})
    assert empty == "reason: must not be empty"


def test_shelter_declines_where_the_consulate_rejects(
    client: TestClient, corridor: Corridor
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.accept_placement)
    body = {"decision": "rejected", "reason": PLANTED}
    detail = _complete(client, corridor.shelter, task["id"], body)
    assert detail == "decision: must be one of accepted, declined"


def test_missing_decision_lists_the_decisions(client: TestClient, corridor: Corridor) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)
    detail = _complete(client, corridor.consulate, task["id"], {"reason": PLANTED})
    assert detail == (
        "decision: this field is required; send one of approved, rejected, information_requested"
    )


def test_an_acceptance_with_a_reason_is_refused(client: TestClient, corridor: Corridor) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.accept_placement)
    body = {"decision": "accepted", "reason": PLANTED}
    detail = _complete(client, corridor.shelter, task["id"], body)
    assert detail == "reason: this is not a field Homeward accepts here; remove it"


def test_empty_completion_body_says_to_send_the_fields(
    client: TestClient, corridor: Corridor
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)
    response = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        content=b"",
        headers={**corridor.consulate.headers, "Content-Type": "application/json"},
    )
    assert expect.error(response, 422).startswith("body: no body was sent; send a JSON object")

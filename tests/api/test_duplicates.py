"""One survivor registered twice, by two NGOs, with the name romanised differently."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from models.enums import Role, TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member

# Each side: (given_name, family_name, birth_date) as another NGO wrote them down.
RAHMAN: dict[str, Any] = {
    "given_name": "Mohammad",
    "family_name": "Rahman",
    "sex": "male",
    "birth_date": "1998-04-02",
    "nationality": "BD",
    "languages": ["bn"],
}
RAHAMAN: dict[str, Any] = {
    "given_name": "Mohammed",
    "family_name": "Rahaman",
    "sex": "male",
    "birth_date": "1999-01-20",
    "nationality": "BD",
    "languages": ["bn", "hi"],
}
SITA: dict[str, Any] = {
    "given_name": "Sita",
    "family_name": "Tamang",
    "sex": "female",
    "birth_date": None,
    "age_estimate": 24,
    "nationality": "NP",
    "languages": ["ne"],
}
SEETA: dict[str, Any] = {
    **SITA,
    "given_name": "Seeta",
    "age_estimate": 26,
    "languages": ["ne", "hi"],
}


def _survivor_values(person: dict[str, Any], own: dict[str, Any]) -> list[str]:
    """What of the other survivor record must never reach an NGO: its names, birth date
    and age, where they differ from the NGO's own record (sex and nationality are shared
    by both sides of any match, so they prove nothing)."""
    values = []
    for key in ("given_name", "family_name", "birth_date"):
        if person.get(key) and person[key] != own.get(key):
            values.append(str(person[key]))
    if person.get("age_estimate") is not None and person["age_estimate"] != own.get("age_estimate"):
        values.append(f'"age_estimate":{person["age_estimate"]}')
    assert values
    return values


def _duplicate_tasks(client: TestClient, member: Member, case_id: str) -> list[dict[str, Any]]:
    return factories.tasks_of(client, member, case_id, TaskKind.resolve_duplicate)


def _case(client: TestClient, member: Member, case_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case_id}", headers=member.headers)
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()
    return case


def _launch_pair(
    client: TestClient, c: Corridor, first: dict[str, Any], second: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The first survivor launched by c.ngo, then the second by c.other_ngo; returns both
    cases and the second launch's response text."""
    one = factories.launch(client, c.ngo, **first)
    response = client.post(
        "/api/v1/cases", json=factories.launch_case(**second), headers=c.other_ngo.headers
    )
    assert response.status_code == 201, response.text
    return one, response.json(), response.text


@pytest.mark.parametrize(
    ("first", "second"), [(RAHMAN, RAHAMAN), (SITA, SEETA)], ids=["rahman", "tamang"]
)
def test_both_coordinators_are_asked_and_see_only_the_other_reference_and_agency(
    client: TestClient,
    corridor: Corridor,
    settings: Settings,
    first: dict[str, Any],
    second: dict[str, Any],
) -> None:
    c = corridor
    one, two, launched = _launch_pair(client, c, first, second)
    for secret in _survivor_values(first, second):
        assert secret not in launched

    mine = _duplicate_tasks(client, c.ngo, one["id"])
    theirs = _duplicate_tasks(client, c.other_ngo, two["id"])
    assert len(mine) == 1 and len(theirs) == 1
    assert mine[0]["context"] == {
        "other_reference": two["reference"],
        "other_agency": "Mumbai Outreach",
    }
    assert theirs[0]["context"] == {
        "other_reference": one["reference"],
        "other_agency": "Rescue Foundation Kolkata",
    }
    for member, own, other in ((c.ngo, first, second), (c.other_ngo, second, first)):
        inbox = client.get("/api/v1/tasks", params={"status": "open"}, headers=member.headers)
        assert inbox.status_code == 200
        for secret in _survivor_values(other, own):
            assert secret not in inbox.text, (member.username, secret)
        timeline = client.get(
            f"/api/v1/cases/{one['id'] if member is c.ngo else two['id']}/timeline",
            headers=member.headers,
        )
        assert "duplicate_suspected" in timeline.text
        for secret in _survivor_values(other, own):
            assert secret not in timeline.text
    # Neither NGO may open the other's case.
    expect.error(client.get(f"/api/v1/cases/{two['id']}", headers=c.ngo.headers), 404)
    expect.error(client.get(f"/api/v1/cases/{one['id']}", headers=c.other_ngo.headers), 404)
    # The messages name the task only.
    assigned = [n for n in factories.outbox(settings, one["id"]) if n.kind == "task_assigned"]
    assert [(n.agency_id, n.task_kind) for n in assigned] == [
        (c.ngo.agency_id, TaskKind.resolve_duplicate)
    ]


_BORN = {"birth_date": "1996-05-05", "age_estimate": None}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (SITA, {**SITA, "given_name": "Gita"}),
        (SITA, {**SEETA, "age_estimate": 29}),
        ({**SITA, **_BORN}, {**SEETA, **_BORN, "birth_date": "2001-05-06"}),
        (SITA, {**SEETA, "sex": "male"}),
        (SITA, {**SEETA, "nationality": "BD"}),
    ],
    ids=["gita", "estimates-5-years-apart", "born-5-years-apart", "other-sex", "other-nationality"],
)
def test_different_people_are_not_flagged(
    client: TestClient, corridor: Corridor, first: dict[str, Any], second: dict[str, Any]
) -> None:
    one, two, _ = _launch_pair(client, corridor, first, second)
    assert _duplicate_tasks(client, corridor.ngo, one["id"]) == []
    assert _duplicate_tasks(client, corridor.other_ngo, two["id"]) == []


def _linked_pair(client: TestClient, c: Corridor) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both registrations, each past launch with a verification open at the consulate."""
    one, two, _ = _launch_pair(client, c, RAHMAN, RAHAMAN)
    for case in (one, two):
        factories.advance(c.settings, case["id"])
        factories.open_task(client, c.consulate, case["id"], TaskKind.verify_nationality)
    return one, two


@pytest.mark.parametrize("side", ["earlier", "later"])
def test_linking_closes_the_later_case_as_a_duplicate(
    client: TestClient, corridor: Corridor, settings: Settings, side: str
) -> None:
    c = corridor
    one, two = _linked_pair(client, c)
    decider, case, partner, partner_case = (
        (c.ngo, one, c.other_ngo, two) if side == "earlier" else (c.other_ngo, two, c.ngo, one)
    )
    task = _duplicate_tasks(client, decider, case["id"])[0]
    partner_task = _duplicate_tasks(client, partner, partner_case["id"])[0]
    verify_two = factories.open_task(client, c.consulate, two["id"], TaskKind.verify_nationality)

    response = factories.complete(client, decider, task["id"], {"decision": "linked"})
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "linked"

    later = _case(client, c.other_ngo, two["id"])
    assert later["status"] == "closed"
    assert later["closed_reason"] == "duplicate"
    assert later["duplicate_of_case_id"] == one["id"]
    assert later["closed_at"] is not None
    # Its other work is withdrawn, and the consulate told.
    assert factories.tasks_of(client, c.consulate, two["id"]) == []
    cancelled = factories.tasks_of(client, c.consulate, two["id"], status="cancelled")
    assert [t["id"] for t in cancelled] == [verify_two["id"]]
    consulate_rows = [
        n.kind
        for n in factories.outbox(settings, two["id"])
        if n.agency_id == c.consulate.agency_id
    ]
    assert consulate_rows[-1] == "task_withdrawn"
    assert "case_duplicate" in [n.kind for n in factories.outbox(settings, two["id"])]

    # The partner's task is settled: completing it now is a conflict.
    settled = factories.tasks_of(client, partner, partner_case["id"], status="done")
    assert [(t["id"], t["outcome"]) for t in settled] == [(partner_task["id"], "linked")]
    for body in ({"decision": "linked"}, {"decision": "dismissed"}):
        expect.error(factories.complete(client, partner, partner_task["id"], body), 409)

    # The earlier case goes on; the later one has ended.
    assert factories.advance(settings, two["id"]).ended
    assert not factories.advance(settings, one["id"]).ended
    earlier = _case(client, c.ngo, one["id"])
    assert (earlier["status"], earlier["closed_reason"]) == ("open", None)
    assert factories.open_task(client, c.consulate, one["id"], TaskKind.verify_nationality)
    assert "duplicate_linked" in factories.timeline_kinds(client, c.ngo, one["id"])
    assert "duplicate_linked" in factories.timeline_kinds(client, c.other_ngo, two["id"])
    # The NGO whose case was closed still cannot see the earlier one.
    expect.error(client.get(f"/api/v1/cases/{one['id']}", headers=c.other_ngo.headers), 404)


def test_dismissing_settles_both_and_both_cases_go_on(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    one, two = _linked_pair(client, c)
    mine = _duplicate_tasks(client, c.ngo, one["id"])[0]
    theirs = _duplicate_tasks(client, c.other_ngo, two["id"])[0]
    # A supervisor of the NGO may decide as well as a coordinator; a case worker may not.
    worker = c.add_user(c.ngo, username="ngo-case-worker", role=Role.case_worker)
    body = {"decision": "dismissed", "reason": "different fathers' names"}
    expect.error(factories.complete(client, worker, mine["id"], body), 403)
    supervisor = factories.supervisor_of(c, c.ngo)

    response = factories.complete(client, supervisor, mine["id"], body)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "dismissed"
    expect.error(factories.complete(client, c.other_ngo, theirs["id"], {"decision": "linked"}), 409)
    settled = factories.tasks_of(client, c.other_ngo, two["id"], status="done")
    assert [(t["id"], t["outcome"]) for t in settled] == [(theirs["id"], "dismissed")]
    # The reason stays with the NGO that gave it.
    assert "fathers" not in str(settled[0]["result"])

    for case, member in ((one, c.ngo), (two, c.other_ngo)):
        assert not factories.advance(settings, case["id"]).ended
        seen = _case(client, member, case["id"])
        assert (seen["status"], seen["closed_reason"], seen["duplicate_of_case_id"]) == (
            "open",
            None,
            None,
        )
        assert factories.open_task(client, c.consulate, case["id"], TaskKind.verify_nationality)
        assert "duplicate_dismissed" in factories.timeline_kinds(client, member, case["id"])

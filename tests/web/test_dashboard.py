"""The coordinator's dashboard: counts of the NGO's own cases, each linking to its list."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from core.settings import Settings
from tests import factories
from tests.web.conftest import sign_in


def count_on(html: str, href: str) -> int:
    found = re.search(rf'<a href="{re.escape(href)}"><span class="count">(\d+)</span>', html)
    assert found is not None, f"no count linking to {href}"
    return int(found.group(1))


def test_counts_link_to_the_lists_they_count(
    client: TestClient, corridor: factories.Corridor, settings: Settings
) -> None:
    waiting = factories.launch(client, corridor.ngo)
    factories.advance(settings, waiting["id"])
    factories.shift_tasks_back(settings, waiting["id"], timedelta(days=400))
    # No consulate serves Nepal in this corridor: the case cannot move on.
    stuck = factories.launch(client, corridor.ngo, nationality="NP")
    factories.advance(settings, stuck["id"])
    factories.launch(client, corridor.other_ngo)  # another NGO's: not counted

    sign_in(client, corridor.ngo.username)
    html = client.get("/dashboard").text

    assert count_on(html, "/cases?stage=consular_verification&amp;case_status=open") == 1
    assert count_on(html, "/cases?stage=identification&amp;case_status=open") == 1
    assert count_on(html, "/cases?overdue=true") == 1
    assert count_on(html, "/cases?blocked=true") == 1
    assert count_on(html, "/cases?case_status=halted") == 0

    listed = client.get("/cases?blocked=true").text
    assert stuck["reference"] in listed and waiting["reference"] not in listed
    late = client.get("/cases?overdue=true").text
    assert waiting["reference"] in late and stuck["reference"] not in late
    api = client.get("/api/v1/cases", params={"blocked": "true"}, headers=corridor.ngo.headers)
    assert [c["reference"] for c in api.json()] == [stuck["reference"]]


def test_the_dashboard_is_for_those_who_answer_for_the_cases(
    client: TestClient, corridor: factories.Corridor
) -> None:
    sign_in(client, corridor.consulate.username)
    assert client.get("/dashboard").status_code == 403
    assert 'href="/dashboard"' not in client.get("/inbox").text


def test_the_case_list_keeps_one_corridor(client: TestClient, corridor: factories.Corridor) -> None:
    to_bangladesh = factories.launch(client, corridor.ngo)
    to_nepal = factories.launch(client, corridor.ngo, nationality="NP")
    sign_in(client, corridor.ngo.username)
    listed = client.get("/cases?corridor=IN-BD").text
    assert to_bangladesh["reference"] in listed and to_nepal["reference"] not in listed
    api = client.get("/api/v1/cases", params={"corridor": "in>np"}, headers=corridor.ngo.headers)
    assert [c["reference"] for c in api.json()] == [to_nepal["reference"]]
    wrong = client.get("/api/v1/cases", params={"corridor": "India"}, headers=corridor.ngo.headers)
    assert wrong.status_code == 422 and "e.g. IN-BD" in wrong.json()["detail"]

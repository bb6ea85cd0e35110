"""Follow-ups that go badly, a supervisor's decision on closure, and reopening a case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from core.clock import utcnow
from core.settings import Settings
from models.enums import Role, TaskKind
from notifications.messages import render
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member

NOTE = "seen at the bus stand in Jessore with a recruiter"


def _case(client: TestClient, member: Member, case_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case_id}", headers=member.headers)
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()
    return case


def _follow_ups(client: TestClient, c: Corridor) -> tuple[str, list[dict[str, Any]]]:
    """A handed-over case with its two follow-ups (both due at once here) open."""
    case_id: str = factories.launch(client, c.ngo)["id"]
    factories.walk_to(client, c, case_id, TaskKind.record_follow_up)
    follow_ups = factories.tasks_of(client, c.shelter, case_id, TaskKind.record_follow_up)
    assert [t["round"] for t in follow_ups] == [1, 2]
    return case_id, follow_ups


def _record(client: TestClient, c: Corridor, task: dict[str, Any], outcome: str) -> None:
    body = {"outcome": outcome, "notes": NOTE}
    response = factories.complete(client, c.shelter, task["id"], body)
    assert response.status_code == 200, response.text


def _closed(client: TestClient, c: Corridor) -> str:
    """A case whose follow-ups all went well, closed by the flow."""
    case_id, follow_ups = _follow_ups(client, c)
    for task in follow_ups:
        _record(client, c, task, "reintegrating")
    assert factories.advance(c.settings, case_id).ended
    return case_id


def _reopen(client: TestClient, member: Member, case_id: str, **body: Any) -> Any:
    return client.post(
        f"/api/v1/cases/{case_id}/reopen",
        json={"reason": "re_trafficked", **body},
        headers=member.headers,
    )


def test_an_alerting_follow_up_tells_the_coordinator_at_once_and_closure_waits(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    case_id, (first, last) = _follow_ups(client, c)
    before = len(factories.outbox(settings, case_id))

    _record(client, c, first, "re_trafficked")
    # At once: written with the decision, before any flow pass.
    new = factories.outbox(settings, case_id)[before:]
    assert [(n.agency_id, n.kind) for n in new] == [(c.ngo.agency_id, "follow_up_alert")]
    message = render(new[0], public_url="https://homeward.example.org")
    for secret in (NOTE, "recruiter", "trafficked", factories.GIVEN_NAME, factories.FAMILY_NAME):
        assert secret not in message.title + message.body
    assert _case(client, c.ngo, case_id)["closure_review"] == "required"
    assert "follow_up_alert" in factories.timeline_kinds(client, c.ngo, case_id)

    # A good last follow-up does not close the case: a supervisor decides.
    _record(client, c, last, "reintegrating")
    assert not factories.advance(settings, case_id).ended
    review = factories.open_task(client, c.ngo, case_id, TaskKind.approve_closure)
    assert _case(client, c.ngo, case_id)["status"] == "open"
    expect.error(
        factories.complete(client, c.ngo, review["id"], {"decision": "close", "reason": "ok"}), 403
    )
    assert factories.open_task(client, c.ngo, case_id, TaskKind.approve_closure) == review
    # Only one alert for the one follow-up, however often the case is woken.
    factories.advance(settings, case_id)
    kinds = [n.kind for n in factories.outbox(settings, case_id)]
    assert kinds.count("follow_up_alert") == 1


def test_lost_contact_alerts_too(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    case_id, (first, last) = _follow_ups(client, c)
    _record(client, c, last, "lost_contact")
    assert [n.kind for n in factories.outbox(settings, case_id)][-1] == "follow_up_alert"
    _record(client, c, first, "reintegrating")
    factories.advance(settings, case_id)
    assert factories.open_task(client, c.ngo, case_id, TaskKind.approve_closure)


def test_a_supervisor_continues_the_follow_up_then_closes(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    supervisor = factories.supervisor_of(c, c.ngo)
    case_id, (first, last) = _follow_ups(client, c)
    _record(client, c, first, "re_trafficked")
    _record(client, c, last, "reintegrating")
    factories.advance(settings, case_id)
    review = factories.open_task(client, supervisor, case_id, TaskKind.approve_closure)

    body = {"decision": "continue_follow_up", "reason": "one more visit after the trial"}
    response = factories.complete(client, supervisor, review["id"], body)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "continue_follow_up"
    started = utcnow()
    assert not factories.advance(settings, case_id).ended
    extra = factories.open_task(client, c.shelter, case_id, TaskKind.record_follow_up, 3)
    assert datetime.fromisoformat(extra["opened_at"]) >= started.replace(microsecond=0)
    assert factories.tasks_of(client, c.ngo, case_id, TaskKind.approve_closure) == []

    _record(client, c, extra, "reintegrating")
    factories.advance(settings, case_id)
    second = factories.open_task(client, supervisor, case_id, TaskKind.approve_closure, 2)
    response = factories.complete(
        client, supervisor, second["id"], {"decision": "close", "reason": "settled with family"}
    )
    assert response.status_code == 200, response.text
    assert factories.advance(settings, case_id).ended
    case = _case(client, c.ngo, case_id)
    assert (case["status"], case["stage"]) == ("closed", "closed")
    assert case["closed_at"] is not None


def test_good_follow_ups_close_the_case_without_a_supervisor(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    c = corridor
    case_id, (first, last) = _follow_ups(client, c)
    _record(client, c, first, "reintegrating")
    assert not factories.advance(settings, case_id).ended
    assert _case(client, c.ngo, case_id)["status"] == "open"
    _record(client, c, last, "reintegrating")
    assert factories.advance(settings, case_id).ended
    case = _case(client, c.ngo, case_id)
    assert (case["status"], case["closure_review"]) == ("closed", None)
    assert factories.tasks_of(client, c.ngo, case_id, TaskKind.approve_closure) == []
    assert "follow_up_alert" not in [n.kind for n in factories.outbox(settings, case_id)]


def test_reopening_a_closed_case_asks_for_a_follow_up_and_a_supervisor_to_close_it(
    client: TestClient, corridor: Corridor, settings: Settings, woken: list[Any]
) -> None:
    c = corridor
    supervisor = factories.supervisor_of(c, c.ngo)
    case_id = _closed(client, c)

    started = utcnow()
    response = _reopen(client, c.ngo, case_id, note="a neighbour called the helpline")
    assert response.status_code == 200, response.text
    reopened = response.json()
    assert (reopened["status"], reopened["stage"]) == ("open", "reintegration_followup")
    assert reopened["closed_at"] is None
    assert reopened["closure_review"] == "required"
    assert str(woken[-1]) == case_id
    assert "case_reopened" in factories.timeline_kinds(client, c.ngo, case_id)

    assert not factories.advance(settings, case_id).ended
    follow_up = factories.open_task(client, c.shelter, case_id, TaskKind.record_follow_up, 3)
    assert datetime.fromisoformat(follow_up["opened_at"]) >= started.replace(microsecond=0)
    _record(client, c, follow_up, "reintegrating")
    assert not factories.advance(settings, case_id).ended
    review = factories.open_task(client, c.ngo, case_id, TaskKind.approve_closure)
    expect.error(
        factories.complete(client, c.ngo, review["id"], {"decision": "close", "reason": "x"}), 403
    )
    body = {"decision": "close", "reason": "back in school"}
    assert factories.complete(client, supervisor, review["id"], body).status_code == 200
    assert factories.advance(settings, case_id).ended
    assert _case(client, c.ngo, case_id)["status"] == "closed"

    # A supervisor may reopen it too.
    response = _reopen(client, supervisor, case_id, reason="lost_contact")
    assert response.status_code == 200, response.text


def test_only_a_closed_case_of_ones_own_ngo_is_reopened(
    client: TestClient, corridor: Corridor
) -> None:
    c = corridor
    case_id, _ = _follow_ups(client, c)
    detail = expect.error(_reopen(client, c.ngo, case_id), 409)
    assert "closed" in detail

    factories.walk_to(client, c, case_id, TaskKind.record_follow_up)
    for task in factories.tasks_of(client, c.shelter, case_id, TaskKind.record_follow_up):
        _record(client, c, task, "reintegrating")
    assert factories.advance(c.settings, case_id).ended
    expect.error(_reopen(client, c.other_ngo, case_id), 404)
    # The shelter still sees the case it followed up, but reopening is the NGO's call.
    expect.error(_reopen(client, c.shelter, case_id), 403)
    case_worker = c.add_user(c.ngo, username="ngo-case-worker", role=Role.case_worker)
    expect.error(_reopen(client, case_worker, case_id), 403)
    expect.error(_reopen(client, c.ngo, case_id, reason="homesick"), 422)
    assert _case(client, c.ngo, case_id)["status"] == "closed"
    assert "case_reopened" not in factories.timeline_kinds(client, c.ngo, case_id)

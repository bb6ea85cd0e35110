"""Every route against every outsider: no access, and no survivor data in any answer.

The routes come from the application's own OpenAPI document, so a route added without an
expectation here fails `test_every_route_has_an_expectation` until someone decides who may
call it. Each case route is called with the case's id and again with its reference.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from core.db import session_scope
from core.settings import Settings
from models import Notification
from models.enums import TaskKind
from tests import factories
from tests.factories import BIRTH_DATE, FAMILY_NAME, GIVEN_NAME, Corridor, Member


@dataclass(frozen=True)
class Target:
    """The first NGO's case, taken to follow-up, and one of its tasks."""

    case_id: str
    reference: str
    task_id: str
    user_id: str
    notification_id: str

    def case_key(self, by: str) -> str:
        """How the caller names the case in a path: by id, or by reference (any case)."""
        return self.reference.lower() if by == "reference" else self.case_id


Body = Callable[[Corridor], dict[str, Any] | None]

# (method, path) → the body a legitimate caller would send (so that a refusal is about
# who calls, not about a malformed request).
ROUTES: dict[tuple[str, str], Body] = {
    ("get", "/api/v1/health"): lambda c: None,
    ("get", "/api/v1/health/live"): lambda c: None,
    ("post", "/api/v1/auth/token"): lambda c: None,
    ("get", "/api/v1/agencies"): lambda c: None,
    ("post", "/api/v1/agencies"): lambda c: {"name": "X", "kind": "escort", "country": "IN"},
    ("post", "/api/v1/users"): lambda c: {
        "username": "intruder-made",
        "password": "a-long-password-1",
        "agency_id": str(c.other_ngo.agency_id),
        "role": "coordinator",
    },
    ("post", "/api/v1/users/{user_id}/deactivate"): lambda c: None,
    # A different survivor: the other NGO's own case must not trip the leak check.
    ("post", "/api/v1/cases"): lambda c: factories.launch_case(
        given_name="Anjali", family_name="Tamang", birth_date="1995-07-09", nationality="NP"
    ),
    ("get", "/api/v1/cases"): lambda c: None,
    ("get", "/api/v1/cases/{case_id}"): lambda c: None,
    ("get", "/api/v1/cases/{case_id}/timeline"): lambda c: None,
    ("get", "/api/v1/cases/{case_id}/audit"): lambda c: None,
    ("post", "/api/v1/cases/{case_id}/consent"): lambda c: {"data_sharing": False},
    ("get", "/api/v1/tasks"): lambda c: None,
    ("post", "/api/v1/tasks/{task_id}/complete"): lambda c: factories.follow_up(),
    ("post", "/api/v1/cases/{case_id}/reopen"): lambda c: {"reason": "re_trafficked"},
    ("get", "/api/v1/cases/{case_id}/holds"): lambda c: None,
    ("post", "/api/v1/cases/{case_id}/holds"): lambda c: {
        "court_case_reference": "SC-12/2027",
        "reason": "witness_in_trial",
    },
    ("post", "/api/v1/cases/{case_id}/holds/{hold_id}/release"): lambda c: {
        "basis": "remote_testimony_arranged"
    },
    ("post", "/api/v1/cases/{case_id}/transfer"): lambda c: {
        "to_shelter_id": str(c.shelter.agency_id),
        "reason": "closer to the survivor's family",
    },
    ("post", "/api/v1/cases/{case_id}/transfer/revoke"): lambda c: None,
    ("get", "/api/v1/notifications"): lambda c: None,
    ("post", "/api/v1/notifications/{notification_id}/retry"): lambda c: None,
}

# Routes any signed-in user may call: checked for leaks, not for refusal.
OPEN_TO_ALL = {
    ("get", "/api/v1/health"),
    ("get", "/api/v1/health/live"),
    ("post", "/api/v1/auth/token"),
    ("get", "/api/v1/agencies"),
    ("get", "/api/v1/cases"),
    ("get", "/api/v1/tasks"),
}
# Routes an outsider of the right role may use for its own agency: a coordinator of
# another NGO may launch its own case.
OWN_WORK = {("post", "/api/v1/cases")}
# Outbox rows hold no survivor data; an administrator follows and retries every agency's
# (the target's notification is not failed, so its retry is a conflict, not a change).
ADMIN_OUTBOX = {
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/{notification_id}/retry"),
}

OUTSIDERS = ["other_ngo", "other_shelter", "admin"]
CASE_KEYS = ["id", "reference"]


@pytest.fixture
def target(client: TestClient, corridor: Corridor) -> Target:
    case = factories.launch(client, corridor.ngo)
    case_id = case["id"]
    task = factories.walk_to(client, corridor, case_id, TaskKind.record_follow_up)
    with session_scope(corridor.settings.resolved_database_url) as session:
        notification_id = session.exec(
            select(Notification.id).where(Notification.case_id == uuid.UUID(case_id))
        ).first()
    return Target(
        case_id, case["reference"], task["id"], str(corridor.shelter.user_id), str(notification_id)
    )


def _call(
    client: TestClient,
    member: Member | None,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    target: Target,
    by: str = "id",
) -> Any:
    url = path.format(
        case_id=target.case_key(by),
        task_id=target.task_id,
        user_id=target.user_id,
        hold_id=target.case_id,  # no such hold: the case itself must stay hidden first
        notification_id=target.notification_id,
    )
    headers = member.headers if member else {}
    if path == "/api/v1/auth/token":
        return client.post(url, data={"username": "nobody", "password": "x" * 12})
    return client.request(method.upper(), url, json=body, headers=headers)


def _assert_no_survivor_data(text: str) -> None:
    for secret in (GIVEN_NAME, FAMILY_NAME, BIRTH_DATE):
        assert secret not in text


def test_every_route_has_an_expectation(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    published = {(m, p) for p, item in document["paths"].items() for m in item}
    assert published == set(ROUTES), "decide who may call the new route, then add it here"


@pytest.mark.parametrize("by", CASE_KEYS)
@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsiders_are_refused_and_see_no_survivor_data(
    client: TestClient,
    corridor: Corridor,
    settings: Settings,
    target: Target,
    outsider: str,
    by: str,
) -> None:
    member = corridor.members[outsider]
    for (method, path), body in ROUTES.items():
        admin_work = path.startswith(("/api/v1/agencies", "/api/v1/users"))
        if admin_work and method == "post" and outsider == "admin":
            continue  # the administrator's own work, tested in test_agencies/test_users
        response = _call(client, member, method, path, body(corridor), target, by)
        where = f"{outsider} {method.upper()} {path} (case by {by})"
        _assert_no_survivor_data(response.text)
        if (method, path) in OPEN_TO_ALL:
            assert response.status_code < 500, where
            assert target.case_id not in response.text, where
            assert target.reference not in response.text.upper(), where
            assert target.task_id not in response.text, where
            continue
        if (method, path) in ADMIN_OUTBOX and outsider == "admin":
            assert response.status_code in (200, 409), f"{where}: {response.status_code}"
            continue
        if (method, path) in OWN_WORK and outsider == "other_ngo":
            assert response.status_code == 201, where
            continue
        if admin_work:
            assert response.status_code == 403, where
            continue
        assert response.status_code in (403, 404), f"{where}: {response.status_code}"
        if any(f"{{{name}}}" in path for name in ("case_id", "task_id", "notification_id")):
            # Never reveal that another agency's case or task exists: only an admin (no
            # case reader at all) may get 403 here.
            assert response.status_code == 404 or outsider == "admin", where
    # Asked for by reference, the list of cases does not show it either; an administrator
    # lists no cases at all.
    listed = client.get(
        "/api/v1/cases", params={"reference": target.reference.lower()}, headers=member.headers
    )
    assert listed.status_code == (403 if outsider == "admin" else 200), listed.text
    assert outsider == "admin" or listed.json() == []
    _assert_no_survivor_data(listed.text)
    # Nothing was changed by all of this.
    case = client.get(f"/api/v1/cases/{target.case_id}", headers=corridor.ngo.headers).json()
    assert (case["status"], case["consent"]["data_sharing"]) == ("open", True)
    assert factories.open_task(client, corridor.shelter, target.case_id, TaskKind.record_follow_up)


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_a_reference_is_answered_exactly_as_the_id(
    client: TestClient, corridor: Corridor, target: Target, outsider: str
) -> None:
    member = corridor.members[outsider]
    for (method, path), body in ROUTES.items():
        if "{case_id}" not in path:
            continue
        by_id = _call(client, member, method, path, body(corridor), target, "id")
        by_reference = _call(client, member, method, path, body(corridor), target, "reference")
        where = f"{outsider} {method.upper()} {path}"
        assert by_reference.status_code == by_id.status_code, where
        assert by_reference.json() == by_id.json(), where


@pytest.mark.parametrize("by", CASE_KEYS)
def test_without_a_token_every_protected_route_is_401(
    client: TestClient, corridor: Corridor, target: Target, by: str
) -> None:
    for (method, path), body in ROUTES.items():
        if path in ("/api/v1/health", "/api/v1/health/live", "/api/v1/auth/token"):
            continue
        response = _call(client, None, method, path, body(corridor), target, by)
        assert response.status_code == 401, f"{method.upper()} {path} (case by {by})"
        _assert_no_survivor_data(response.text)

"""Logging in, and what happens to requests without a valid token."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.security import issue_token
from core.clock import utcnow
from core.settings import Settings
from models.enums import TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor


def test_health_answers_without_a_token(client: TestClient) -> None:
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_login_returns_a_bearer_token_that_opens_the_api(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    response = client.post(
        "/api/v1/auth/token",
        data={"username": corridor.escort.username, "password": factories.PASSWORD},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.token_minutes * 60
    headers = factories.bearer(body["access_token"])
    assert client.get("/api/v1/agencies", headers=headers).status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_401(
    client: TestClient, corridor: Corridor
) -> None:
    wrong_password = client.post(
        "/api/v1/auth/token",
        data={"username": corridor.ngo.username, "password": "not-the-password-1"},
    )
    unknown_user = client.post(
        "/api/v1/auth/token", data={"username": "nobody-here", "password": factories.PASSWORD}
    )

    expect.error(wrong_password, 401)
    expect.error(unknown_user, 401)
    assert wrong_password.json() == unknown_user.json()


def _credentials(kind: str, settings: Settings, user_id: uuid.UUID) -> dict[str, str]:
    match kind:
        case "missing":
            return {}
        case "garbage":
            return factories.bearer("not.a.token")
        case "expired":
            return factories.expired_headers(settings, user_id)
        case "foreign_key":
            elsewhere = Settings(data_dir=settings.data_dir, jwt_secret=secrets.token_urlsafe(36))
            return factories.bearer(issue_token(elsewhere, user_id=user_id, now=utcnow()))
        case "unknown_user":
            return factories.headers_for(settings, uuid.uuid4())
    raise ValueError(kind)


@pytest.mark.parametrize(
    "credentials", ["missing", "garbage", "expired", "foreign_key", "unknown_user"]
)
def test_every_route_but_health_and_login_needs_a_valid_token(
    client: TestClient,
    corridor: Corridor,
    settings: Settings,
    woken: list[uuid.UUID],
    credentials: str,
) -> None:
    case = factories.launch(client, corridor.ngo)
    task = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)
    agency = {"name": "Nepal Embassy", "kind": "consulate", "country": "IN"}
    agencies_before = client.get("/api/v1/agencies", headers=corridor.ngo.headers).json()
    user = {
        "username": "new-user",
        "password": factories.PASSWORD,
        "agency_id": str(corridor.ngo.agency_id),
        "role": "coordinator",
    }
    routes: list[tuple[str, str, Any]] = [
        ("GET", "/api/v1/agencies", None),
        ("POST", "/api/v1/agencies", {**agency, "nationality_served": "NP"}),
        ("POST", "/api/v1/users", user),
        ("POST", "/api/v1/cases", factories.launch_case()),
        ("GET", "/api/v1/cases", None),
        ("GET", f"/api/v1/cases/{case['id']}", None),
        ("GET", f"/api/v1/cases/{case['id']}/timeline", None),
        ("GET", "/api/v1/tasks?status=open", None),
        ("POST", f"/api/v1/tasks/{task['id']}/complete", factories.approved()),
    ]
    # Each route with the credentials of a user who could otherwise use it.
    owner = {"/api/v1/agencies": corridor.admin, "/api/v1/users": corridor.admin}
    for method, path, body in routes:
        member = corridor.consulate if "/tasks" in path else owner.get(path, corridor.ngo)
        headers = _credentials(credentials, settings, member.user_id)

        response = client.request(method, path, json=body, headers=headers)

        assert response.status_code == 401, f"{method} {path}: {response.text}"
        expect.error(response, 401)
    # Nothing was written: no agency, user, case or decision, and no flow was woken.
    assert woken == [uuid.UUID(case["id"])]
    assert factories.open_task(client, corridor.consulate, case["id"], task["kind"])
    assert client.get("/api/v1/agencies", headers=corridor.ngo.headers).json() == agencies_before
    assert [c["id"] for c in client.get("/api/v1/cases", headers=corridor.ngo.headers).json()] == [
        case["id"]
    ]
    expect.error(
        client.post(
            "/api/v1/auth/token", data={"username": "new-user", "password": factories.PASSWORD}
        ),
        401,
    )

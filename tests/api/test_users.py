"""Creating user accounts."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests import factories
from tests.api import expect
from tests.factories import Corridor


def _new_user(corridor: Corridor, **fields: Any) -> dict[str, Any]:
    body = {
        "username": "anjali.sen",
        "password": factories.PASSWORD,
        "agency_id": str(corridor.ngo.agency_id),
        "role": "case_worker",
    }
    body.update(fields)
    return body


def test_admin_creates_a_user_who_can_then_log_in(client: TestClient, corridor: Corridor) -> None:
    response = client.post(
        "/api/v1/users", json=_new_user(corridor), headers=corridor.admin.headers
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert uuid.UUID(body["id"])
    assert body["username"] == "anjali.sen"
    assert body["agency_id"] == str(corridor.ngo.agency_id)
    assert body["role"] == "case_worker"
    assert factories.PASSWORD not in response.text
    assert "password" not in body
    assert "argon2" not in response.text
    headers = factories.login(client, "anjali.sen")
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200


def test_registering_a_taken_username_is_a_conflict(client: TestClient, corridor: Corridor) -> None:
    taken = corridor.shelter.username
    response = client.post(
        "/api/v1/users", json=_new_user(corridor, username=taken), headers=corridor.admin.headers
    )

    expect.error(response, 409)
    # The account that held the name is untouched.
    assert factories.login(client, taken)


def test_only_an_admin_creates_users(client: TestClient, corridor: Corridor) -> None:
    for member in (corridor.ngo, corridor.consulate, corridor.shelter):
        response = client.post("/api/v1/users", json=_new_user(corridor), headers=member.headers)

        expect.error(response, 403)
    unknown = client.post(
        "/api/v1/auth/token",
        data={"username": "anjali.sen", "password": factories.PASSWORD},
    )
    expect.error(unknown, 401)


def test_user_creation_refuses_invalid_accounts(client: TestClient, corridor: Corridor) -> None:
    invalid: list[tuple[dict[str, Any], str]] = [
        (_new_user(corridor, password="Zzyzx-Secre"), "password"),
        (_new_user(corridor, role="consular_officer"), "consular_officer"),
        (_new_user(corridor, role="warden"), "role"),
        (_new_user(corridor, agency_id=str(uuid.uuid4())), "agency_id"),
        (_new_user(corridor, agency_id="Zzyzx-Secret"), "agency_id"),
        (_new_user(corridor, username="no spaces allowed"), "username"),
        (_new_user(corridor, is_active=False), "is_active"),
        ({"username": "anjali.sen", "role": "case_worker"}, "password"),
    ]
    for body, mention in invalid:
        response = client.post("/api/v1/users", json=body, headers=corridor.admin.headers)

        detail = expect.error(response, 422)
        assert mention in detail, (body, detail)
        assert "Zzyzx-Secre" not in response.text, (body, detail)
    unknown = client.post(
        "/api/v1/auth/token",
        data={"username": "anjali.sen", "password": factories.PASSWORD},
    )
    expect.error(unknown, 401)

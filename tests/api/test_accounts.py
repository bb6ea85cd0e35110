"""Accounts: login limits, audited logins, deactivation, token lifetime, password length."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import col, select

from core.clock import utcnow
from core.db import session_scope
from core.settings import Settings
from domain.agencies import TooManyLogins, authenticate
from domain.audit import LOGIN_FAILURES_ALLOWED, LOGIN_WINDOW, Action
from models import AuditEntry
from models.enums import Role
from tests import factories
from tests.api import expect
from tests.factories import Corridor

WRONG_PASSWORD = "Zzyzx-not-the-password"
# TestClient's own address, unless a test gives its client another one.
TEST_ADDRESS = "testclient"


def _login(client: TestClient, username: str, password: str = factories.PASSWORD) -> Response:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def _fail(client: TestClient, username: str, times: int = LOGIN_FAILURES_ALLOWED) -> None:
    for _ in range(times):
        expect.error(_login(client, username, WRONG_PASSWORD), 401)


def _from(client: TestClient, address: str) -> TestClient:
    """Another client of the same app, whose requests come from `address`."""
    return TestClient(client.app, client=(address, 50000))


def _too_many(response: Response) -> int:
    """Assert a 429 in the error shape with a usable Retry-After; return its seconds."""
    assert response.status_code == 429, response.text
    assert response.json() == {"error": "TooManyRequests", "detail": response.json()["detail"]}
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= LOGIN_WINDOW.total_seconds()
    assert "access_token" not in response.text
    return retry_after


def _deactivate(client: TestClient, user_id: uuid.UUID | str, headers: dict[str, str]) -> Response:
    return client.post(f"/api/v1/users/{user_id}/deactivate", headers=headers)


def _audit(settings: Settings, action: Action) -> list[AuditEntry]:
    with session_scope(settings.resolved_database_url) as session:
        return list(
            session.exec(
                select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.at))
            ).all()
        )


# --- login limits ----------------------------------------------------------------------


def test_sixth_login_after_five_failures_is_refused_even_with_the_right_password(
    client: TestClient, corridor: Corridor
) -> None:
    _fail(client, corridor.ngo.username)

    right = _login(client, corridor.ngo.username)
    wrong = _login(client, corridor.ngo.username, WRONG_PASSWORD)

    # Locked out, the answer is the same whether the password was right or not.
    _too_many(right)
    _too_many(wrong)
    assert right.json()["error"] == wrong.json()["error"]
    assert abs(int(right.headers["Retry-After"]) - int(wrong.headers["Retry-After"])) <= 1
    # The refused attempts are not counted as failures: the lockout ends when the window
    # has passed over the five real ones.
    assert len(_audit(corridor.settings, Action.login_failure)) == LOGIN_FAILURES_ALLOWED


def test_four_failures_still_let_the_right_password_in(
    client: TestClient, corridor: Corridor
) -> None:
    _fail(client, corridor.ngo.username, LOGIN_FAILURES_ALLOWED - 1)

    assert _login(client, corridor.ngo.username).status_code == 200


def test_an_address_is_locked_out_after_failures_across_different_usernames(
    client: TestClient, corridor: Corridor
) -> None:
    attacker = _from(client, "203.0.113.9")
    for name in ("nobody-1", "nobody-2", corridor.shelter.username, "nobody-3", "nobody-4"):
        expect.error(_login(attacker, name, WRONG_PASSWORD), 401)

    # From that address even an untouched account with its right password is refused...
    _too_many(_login(attacker, corridor.consulate.username))
    # ...while from elsewhere that account, and the one tried once, log in.
    elsewhere = _from(client, "198.51.100.20")
    assert _login(elsewhere, corridor.consulate.username).status_code == 200
    assert _login(elsewhere, corridor.shelter.username).status_code == 200


def test_a_username_is_locked_out_after_failures_from_different_addresses(
    client: TestClient, corridor: Corridor
) -> None:
    for n in range(LOGIN_FAILURES_ALLOWED):
        expect.error(
            _login(_from(client, f"203.0.113.{n + 1}"), corridor.escort.username, WRONG_PASSWORD),
            401,
        )

    fresh = _from(client, "198.51.100.30")
    _too_many(_login(fresh, corridor.escort.username))
    # The fresh address itself is not under suspicion.
    assert _login(fresh, corridor.ngo.username).status_code == 200


def test_a_success_resets_nothing_but_is_audited(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    _fail(client, corridor.ngo.username, LOGIN_FAILURES_ALLOWED - 1)
    assert _login(client, corridor.ngo.username).status_code == 200
    _fail(client, corridor.ngo.username, 1)

    _too_many(_login(client, corridor.ngo.username))
    successes = _audit(settings, Action.login_success)
    assert [(s.user_id, s.username) for s in successes] == [
        (corridor.ngo.user_id, corridor.ngo.username)
    ]


def test_every_login_is_audited_with_the_attempted_name_and_the_address(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    started = utcnow()
    factories.login(client, corridor.ngo.username)
    expect.error(_login(client, corridor.ngo.username, WRONG_PASSWORD), 401)
    expect.error(_login(client, "nobody-here"), 401)
    assert _deactivate(client, corridor.shelter.user_id, corridor.admin.headers).status_code == 200
    expect.error(_login(_from(client, "198.51.100.41"), corridor.shelter.username), 401)

    successes = _audit(settings, Action.login_success)
    failures = _audit(settings, Action.login_failure)
    assert [(e.user_id, e.agency_id, e.username, e.address) for e in successes] == [
        (corridor.ngo.user_id, corridor.ngo.agency_id, corridor.ngo.username, TEST_ADDRESS)
    ]
    # A failure names no account, even when the name is a real one: only the attempt.
    assert [(e.user_id, e.username, e.address) for e in failures] == [
        (None, corridor.ngo.username, TEST_ADDRESS),
        (None, "nobody-here", TEST_ADDRESS),
        (None, corridor.shelter.username, "198.51.100.41"),
    ]
    for entry in successes + failures:
        assert started - timedelta(seconds=1) <= entry.at <= utcnow()
        assert factories.PASSWORD not in str(entry.detail)
        assert WRONG_PASSWORD not in str(entry.detail)


def test_the_lockout_ends_when_the_oldest_failure_leaves_the_window(
    corridor: Corridor, settings: Settings
) -> None:
    start = utcnow() - timedelta(hours=1)
    address = "203.0.113.77"
    with session_scope(settings.resolved_database_url) as session:
        for minute in range(LOGIN_FAILURES_ALLOWED):
            user = authenticate(
                session,
                username=corridor.ngo.username,
                password=WRONG_PASSWORD,
                address=address,
                now=start + timedelta(minutes=minute),
            )
            assert user is None
    locked_at = start + timedelta(minutes=5)
    with (
        session_scope(settings.resolved_database_url) as session,
        pytest.raises(TooManyLogins) as refused,
    ):
        authenticate(
            session,
            username=corridor.ngo.username,
            password=factories.PASSWORD,
            address=address,
            now=locked_at,
        )
    assert refused.value.status_code == 429
    assert refused.value.kind == "TooManyRequests"
    # The first failure (at `start`) leaves the window 15 minutes after it: 10 minutes on.
    assert refused.value.retry_after_seconds == 10 * 60
    with session_scope(settings.resolved_database_url) as session:
        user = authenticate(
            session,
            username=corridor.ngo.username,
            password=factories.PASSWORD,
            address=address,
            now=start + LOGIN_WINDOW + timedelta(seconds=1),
        )
        assert user is not None and user.id == corridor.ngo.user_id


# --- deactivation ----------------------------------------------------------------------


def test_deactivation_revokes_existing_tokens_at_once_and_blocks_login(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    token_headers = factories.login(client, corridor.ngo.username)
    assert client.get("/api/v1/cases", headers=token_headers).status_code == 200

    response = _deactivate(client, corridor.ngo.user_id, corridor.admin.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == str(corridor.ngo.user_id)
    assert body["is_active"] is False
    assert "password" not in body
    # Both the token from the login and the one issued beforehand stop working.
    for headers in (token_headers, corridor.ngo.headers):
        expect.error(client.get("/api/v1/cases", headers=headers), 401)
    expect.error(_login(client, corridor.ngo.username), 401)
    # Nobody else is affected.
    assert client.get("/api/v1/cases", headers=corridor.other_ngo.headers).status_code == 200
    deactivations = _audit(settings, Action.deactivate_user)
    assert [(e.user_id, e.detail) for e in deactivations] == [
        (corridor.admin.user_id, {"deactivated_user_id": str(corridor.ngo.user_id)})
    ]


def test_deactivating_again_changes_and_audits_nothing(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    assert _deactivate(client, corridor.escort.user_id, corridor.admin.headers).status_code == 200

    again = _deactivate(client, corridor.escort.user_id, corridor.admin.headers)

    assert again.status_code == 200, again.text
    assert again.json()["is_active"] is False
    assert len(_audit(settings, Action.deactivate_user)) == 1


def test_an_admin_cannot_deactivate_themselves(client: TestClient, corridor: Corridor) -> None:
    response = _deactivate(client, corridor.admin.user_id, corridor.admin.headers)

    expect.error(response, 409)
    assert client.get("/api/v1/agencies", headers=corridor.admin.headers).status_code == 200


def test_deactivating_an_unknown_user_is_not_found(client: TestClient, corridor: Corridor) -> None:
    expect.error(_deactivate(client, uuid.uuid4(), corridor.admin.headers), 404)
    expect.error(_deactivate(client, "not-a-uuid", corridor.admin.headers), 422)


def test_only_an_admin_deactivates(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    for member in (corridor.ngo, corridor.consulate, corridor.shelter, corridor.escort):
        expect.error(_deactivate(client, corridor.other_ngo.user_id, member.headers), 403)
    expect.error(_deactivate(client, corridor.other_ngo.user_id, {}), 401)

    assert client.get("/api/v1/cases", headers=corridor.other_ngo.headers).status_code == 200
    assert _audit(settings, Action.deactivate_user) == []


def test_an_admin_deactivates_another_admin(client: TestClient, corridor: Corridor) -> None:
    second = corridor.add_user(corridor.admin, username="second-admin", role=Role.admin)

    response = _deactivate(client, second.user_id, corridor.admin.headers)

    assert response.status_code == 200, response.text
    expect.error(client.get("/api/v1/agencies", headers=second.headers), 401)


def test_creating_a_user_is_audited_with_the_admin_who_did_it(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    body: dict[str, Any] = {
        "username": "anjali.sen",
        "password": factories.PASSWORD,
        "agency_id": str(corridor.ngo.agency_id),
        "role": "case_worker",
    }
    before = {e.id for e in _audit(settings, Action.create_user)}

    response = client.post("/api/v1/users", json=body, headers=corridor.admin.headers)

    assert response.status_code == 201, response.text
    created = [e for e in _audit(settings, Action.create_user) if e.id not in before]
    assert [(e.user_id, e.agency_id, e.detail) for e in created] == [
        (
            corridor.admin.user_id,
            corridor.admin.agency_id,
            {
                "created_user_id": response.json()["id"],
                "role": "case_worker",
                "in_agency_id": str(corridor.ngo.agency_id),
            },
        )
    ]
    assert factories.PASSWORD not in str(created[0].detail)


# --- token lifetime and passwords ------------------------------------------------------


def test_a_token_lasts_eight_hours(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    assert settings.token_minutes == 8 * 60
    fresh = factories.headers_for(
        settings, corridor.ngo.user_id, now=utcnow() - timedelta(hours=7, minutes=59)
    )
    stale = factories.headers_for(
        settings, corridor.ngo.user_id, now=utcnow() - timedelta(hours=8, minutes=1)
    )

    assert client.get("/api/v1/cases", headers=fresh).status_code == 200
    detail = expect.error(client.get("/api/v1/cases", headers=stale), 401)
    assert "expired" in detail


def test_passwords_need_twelve_characters(client: TestClient, corridor: Corridor) -> None:
    def register(username: str, password: str) -> Response:
        body = {
            "username": username,
            "password": password,
            "agency_id": str(corridor.ngo.agency_id),
            "role": "case_worker",
        }
        return client.post("/api/v1/users", json=body, headers=corridor.admin.headers)

    short = register("short.password", "Zzyzx-elevn")
    detail = expect.error(short, 422)
    assert "password" in detail
    assert "Zzyzx" not in short.text
    assert register("long.enough", "Zzyzx-twelve").status_code == 201
    assert _login(client, "long.enough", "Zzyzx-twelve").status_code == 200
    expect.error(_login(client, "short.password", "Zzyzx-elevn"), 401)

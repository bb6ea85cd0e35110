"""Undelivered notifications through the API: on the case for its coordinators, across
agencies for administrators, and sent again on request; and no request ever sends."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.clock import utcnow
from core.db import engine_for
from models import Notification
from models.enums import NotificationStatus
from notifications.dispatcher import fingerprint
from notifications.outbox import claim, due_notification_ids, record_result
from tests import factories
from tests.api import expect
from tests.factories import Corridor
from tests.support.outbox import ERROR, attempt_fails, fail_for_good, launched

SECRETS = ("hook-secret-9f3", "hook-user", "notify.example.org", "json://")
SENDER_IMPORT = re.compile(
    r"^\s*(from|import)\s+(apprise|notifications|flows\.delivery|flows\.sweeper)\b", re.M
)


def case_as(client: TestClient, member: factories.Member, case_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case_id}", headers=member.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_case_lists_notifications_being_retried_then_failed(
    client: TestClient, corridor: Corridor, database_url: str
) -> None:
    case_id, notification_id = launched(client, corridor)
    assert case_as(client, corridor.ngo, case_id)["undelivered"] == []  # not tried yet

    attempt_fails(database_url, notification_id, max_attempts=5)
    [retrying] = case_as(client, corridor.ngo, case_id)["undelivered"]
    assert retrying["id"] == str(notification_id)
    assert retrying["status"] == "pending"
    assert retrying["attempts"] == 1
    assert retrying["next_attempt_at"] is not None
    assert retrying["kind"] == "task_assigned"
    assert retrying["task_kind"] == "verify_nationality"
    assert retrying["agency_name"] == "Bangladesh Deputy High Commission Kolkata"
    assert retrying["last_error"] == ERROR

    fail_for_good(database_url, notification_id)
    case = case_as(client, corridor.ngo, case_id)
    [failed] = case["undelivered"]
    assert (failed["status"], failed["attempts"], failed["next_attempt_at"]) == ("failed", 2, None)
    assert case["undelivered_notifications"] == 1
    # Other agencies in the case do not follow the coordinating NGO's outbox.
    assert case_as(client, corridor.consulate, case_id)["undelivered"] == []
    for secret in SECRETS:
        assert secret not in str(case["undelivered"])


def test_administrators_list_failed_notifications_of_every_agency(
    client: TestClient, corridor: Corridor, database_url: str
) -> None:
    first_case, first = launched(client, corridor)
    # Another survivor: the same one launched twice would be flagged as a likely duplicate.
    other_case = factories.launch(client, corridor.other_ngo, given_name="Rupa", family_name="Das")[
        "id"
    ]
    factories.advance(corridor.settings, other_case)
    with Session(engine_for(database_url)) as session:
        second = session.exec(
            select(Notification.id).where(Notification.case_id == uuid.UUID(other_case))
        ).one()
    fail_for_good(database_url, first)
    fail_for_good(database_url, second)

    response = client.get(
        "/api/v1/notifications", params={"status": "failed"}, headers=corridor.admin.headers
    )

    assert response.status_code == 200, response.text
    listed = response.json()
    assert {n["id"] for n in listed} == {str(first), str(second)}
    assert {n["case_id"] for n in listed} == {first_case, other_case}
    assert all(n["status"] == "failed" and n["last_error"] == ERROR for n in listed)
    for personal in (factories.GIVEN_NAME, factories.FAMILY_NAME, factories.BIRTH_DATE):
        assert personal not in response.text
    for secret in SECRETS:
        assert secret not in response.text
    sent = client.get(
        "/api/v1/notifications", params={"status": "sent"}, headers=corridor.admin.headers
    )
    assert sent.json() == []
    undelivered = client.get("/api/v1/notifications", headers=corridor.admin.headers)
    assert {n["id"] for n in undelivered.json()} == {str(first), str(second)}
    for member in (corridor.ngo, corridor.consulate, corridor.other_ngo):
        expect.error(client.get("/api/v1/notifications", headers=member.headers), 403)
    expect.error(
        client.get(
            "/api/v1/notifications", params={"status": "lost"}, headers=corridor.admin.headers
        ),
        422,
    )


def test_the_coordinator_sends_a_failed_notification_again_and_it_is_audited(
    client: TestClient, corridor: Corridor, database_url: str
) -> None:
    case_id, notification_id = launched(client, corridor)
    fail_for_good(database_url, notification_id)
    before = utcnow()

    response = client.post(
        f"/api/v1/notifications/{notification_id}/retry", headers=corridor.ngo.headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["attempts"]) == ("pending", 0)
    with Session(engine_for(database_url)) as session:
        assert notification_id in due_notification_ids(session, now=utcnow())
        stored = session.get_one(Notification, notification_id)
        assert stored.next_attempt_at >= before - timedelta(seconds=1)
    # Back in the queue with fresh attempts: not undelivered until an attempt misses.
    assert case_as(client, corridor.ngo, case_id)["undelivered"] == []
    trail = client.get(f"/api/v1/cases/{case_id}/audit", headers=corridor.ngo.headers).json()
    [entry] = [e for e in trail if e["action"] == "retry_notification"]
    assert entry["username"] == corridor.ngo.username
    assert entry["detail"]["notification_id"] == str(notification_id)
    assert entry["detail"]["agency_id"] == str(corridor.consulate.agency_id)
    # Already waiting: a second retry is a conflict.
    expect.error(
        client.post(f"/api/v1/notifications/{notification_id}/retry", headers=corridor.ngo.headers),
        409,
    )


def test_who_may_send_a_notification_again(
    client: TestClient, corridor: Corridor, database_url: str
) -> None:
    _, notification_id = launched(client, corridor)
    fail_for_good(database_url, notification_id)
    path = f"/api/v1/notifications/{notification_id}/retry"

    # Another NGO, or a shelter outside the case, does not learn that it exists.
    expect.error(client.post(path, headers=corridor.other_ngo.headers), 404)
    expect.error(client.post(path, headers=corridor.other_shelter.headers), 404)
    # The consulate takes part in the case but does not run it.
    expect.error(client.post(path, headers=corridor.consulate.headers), 403)
    expect.error(
        client.post(f"/api/v1/notifications/{uuid.uuid4()}/retry", headers=corridor.ngo.headers),
        404,
    )
    expect.error(
        client.post(f"/api/v1/notifications/{uuid.uuid4()}/retry", headers=corridor.admin.headers),
        404,
    )
    with Session(engine_for(database_url)) as session:
        assert session.get_one(Notification, notification_id).status == NotificationStatus.failed

    assert client.post(path, headers=corridor.admin.headers).status_code == 200


def test_a_delivered_notification_cannot_be_sent_again(
    client: TestClient, corridor: Corridor, database_url: str
) -> None:
    _, notification_id = launched(client, corridor)
    with Session(engine_for(database_url)) as session:
        now = session.get_one(Notification, notification_id).next_attempt_at
        claimed = claim(session, notification_id, now=now, claim_seconds=60)
        assert claimed is not None
        record_result(
            session,
            notification_id,
            delivered=[fingerprint(u) for u in claimed.notify_urls],
            error=None,
            now=now,
            max_attempts=5,
        )
        assert session.get_one(Notification, notification_id).status == NotificationStatus.sent

    detail = expect.error(
        client.post(f"/api/v1/notifications/{notification_id}/retry", headers=corridor.ngo.headers),
        409,
    )
    assert "delivered" in detail


def test_the_api_process_never_loads_the_sender(tmp_path: Path) -> None:
    # No route can send inline if the API never imports Apprise or the outbox's sender:
    # notifications leave only from the flow runs and the sweeper.
    code = (
        "import sys\n"
        "from api.app import create_app\n"
        "from core.settings import Settings\n"
        f"create_app(Settings(data_dir={str(tmp_path)!r}))\n"
        "loaded = [m for m in ('apprise', 'notifications.dispatcher', 'notifications.outbox',"
        " 'flows.delivery') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == ""
    root = Path(__file__).resolve().parents[2]
    for package in ("api", "domain"):
        for source in (root / package).rglob("*.py"):
            text = source.read_text(encoding="utf-8")
            assert not SENDER_IMPORT.search(text), source
            assert "deliver(" not in text and "deliver_notifications" not in text, source

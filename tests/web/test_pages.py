"""The pages in process: sign-in, CSRF, errors beside fields, conflicts, not-yours pages,
double submissions. The walk of a whole case in a real browser is in test_browser.py."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta
from pathlib import Path

import jwt
from fastapi.testclient import TestClient
from sqlmodel import select

from core.clock import utcnow
from core.db import session_scope
from core.settings import Settings
from models import AuditEntry
from tests import factories
from tests.web.conftest import KEY, browser, csrf_of, sign_in
from web.app import CONTENT_SECURITY_POLICY
from web.session import AUDIENCE, COOKIE

STATIC = Path(__file__).parents[2] / "web" / "static"

LAUNCH_FORM = {
    "survivor.given_name": "Amina",
    "survivor.family_name": "Begum",
    "survivor.sex": "female",
    "survivor.birth_date": "2001-03-04",
    "survivor.nationality": "BD",
    "survivor.languages": "bn, hi",
    "current_country": "IN",
    "trafficking_status": "actual",
    "consent.repatriation": "yes",
    "consent.data_sharing": "yes",
    "consent.follow_up": "yes",
}


def launch_from_page(client: TestClient, **changes: str) -> tuple[int, str, str]:
    form_page = client.get("/cases/new")
    form = {
        **LAUNCH_FORM,
        "csrf": csrf_of(form_page.text),
        "idempotency_key": _key(form_page.text),
        **changes,
    }
    answer = client.post("/cases/new", data=form, follow_redirects=False)
    return answer.status_code, answer.headers.get("location", ""), answer.text


def _key(html: str) -> str:
    found = KEY.search(html)
    assert found is not None
    return found.group(1)


def open_task_id(client: TestClient) -> str:
    inbox = client.get("/inbox")
    found = re.search(r'href="/tasks/([0-9a-f-]{36})"', inbox.text)
    assert found is not None, "no task in the inbox"
    return found.group(1)


def test_pages_carry_the_security_headers_and_serve_htmx_themselves(
    client: TestClient,
) -> None:
    front = client.get("/")
    assert front.status_code == 200
    assert front.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert front.headers["x-content-type-options"] == "nosniff"
    assert front.headers["referrer-policy"] == "same-origin"
    assert "<script>" not in front.text and "style=" not in front.text
    assert re.findall(r'<script src="([^"]+)"', front.text) == [
        "/static/htmx.min.js",
        "/static/homeward.js",
    ]
    served = client.get("/static/htmx.min.js")
    assert served.status_code == 200
    recorded = re.search(r"`([0-9a-f]{64})`", (STATIC / "VENDORED.md").read_text())
    assert recorded is not None
    assert hashlib.sha256(served.content).hexdigest() == recorded.group(1)
    assert b"2.0.11" in served.content
    # The JSON API keeps its own answers.
    assert client.get("/api/v1/health/live").headers.get("content-security-policy") is None


def test_wrong_password_keeps_the_username_never_the_password(
    client: TestClient, corridor: factories.Corridor
) -> None:
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={
            "username": corridor.ngo.username,
            "password": "not-the-password-xyz",
            "csrf": csrf_of(form.text),
        },
    )
    assert answer.status_code == 401
    assert "Wrong username or password" in answer.text
    assert f'value="{corridor.ngo.username}"' in answer.text
    assert "not-the-password-xyz" not in answer.text
    assert COOKIE not in answer.cookies


def test_repeated_failures_are_throttled_as_the_api_login_is(
    client: TestClient, corridor: factories.Corridor
) -> None:
    codes = []
    for _ in range(6):
        form = client.get("/login")
        codes.append(
            client.post(
                "/login",
                data={
                    "username": corridor.ngo.username,
                    "password": "wrong",
                    "csrf": csrf_of(form.text),
                },
            ).status_code
        )
    assert codes == [401] * 5 + [429]
    # The API counts the same failures.
    api = client.post(
        "/api/v1/auth/token",
        data={"username": corridor.ngo.username, "password": factories.PASSWORD},
    )
    assert api.status_code == 429


def test_sign_in_form_without_its_token_is_refused(
    client: TestClient, corridor: factories.Corridor
) -> None:
    answer = client.post(
        "/login", data={"username": corridor.ngo.username, "password": factories.PASSWORD}
    )
    assert answer.status_code == 403
    assert COOKIE not in answer.cookies


def test_session_cookie_is_http_only_and_lax(
    client: TestClient, corridor: factories.Corridor
) -> None:
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={
            "username": corridor.ngo.username,
            "password": factories.PASSWORD,
            "csrf": csrf_of(form.text),
            "next": "https://elsewhere.example/steal",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/inbox"  # never another site
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # reached over plain HTTP here


def test_front_door_is_the_sign_in_page_then_the_inbox(
    client: TestClient, corridor: factories.Corridor
) -> None:
    assert 'action="/login"' in client.get("/").text
    sign_in(client, corridor.consulate.username)
    front = client.get("/", follow_redirects=False)
    assert (front.status_code, front.headers["location"]) == (303, "/inbox")


def test_a_page_asked_for_signed_out_comes_back_after_sign_in(
    client: TestClient, corridor: factories.Corridor
) -> None:
    target = f"/tasks/{uuid.uuid4()}"
    answer = client.get(target, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={target}"
    form = client.get(answer.headers["location"])
    assert f'name="next" value="{target}"' in form.text


def test_sign_out_ends_the_session_and_needs_the_token(
    client: TestClient, corridor: factories.Corridor, settings: Settings
) -> None:
    sign_in(client, corridor.ngo.username)
    inbox = client.get("/inbox")
    assert client.post("/logout", data={}).status_code == 403
    out = client.post("/logout", data={"csrf": csrf_of(inbox.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert "signed_out" in out.headers["location"]
    assert client.get("/inbox", follow_redirects=False).status_code == 303
    with session_scope(settings.resolved_database_url) as session:
        actions = session.exec(
            select(AuditEntry.action).where(AuditEntry.user_id == corridor.ngo.user_id)
        ).all()
    assert actions.count("login_success") == 1 and actions.count("logout") == 1


def test_an_idle_session_ends(
    client: TestClient, corridor: factories.Corridor, settings: Settings
) -> None:
    signed_in_at = utcnow() - timedelta(hours=1)
    stale = jwt.encode(
        {
            "sub": str(corridor.ngo.user_id),
            "aud": AUDIENCE,
            "auth": int(signed_in_at.timestamp()),
            "exp": int((signed_in_at + timedelta(minutes=settings.web_idle_minutes)).timestamp()),
            "csrf": "token",
        },
        settings.signing_key(),
        algorithm="HS256",
    )
    client.cookies.set(COOKIE, stale)
    answer = client.get("/inbox")
    assert "Sign in to Homeward" in answer.text


def test_an_api_token_is_not_a_session_cookie(
    client: TestClient, corridor: factories.Corridor
) -> None:
    token = corridor.ngo.headers["Authorization"].removeprefix("Bearer ")
    client.cookies.set(COOKIE, token)
    assert client.get("/inbox", follow_redirects=False).status_code == 303


def test_a_deactivated_user_is_signed_out(client: TestClient, corridor: factories.Corridor) -> None:
    sign_in(client, corridor.consulate.username)
    assert client.get("/inbox").status_code == 200
    gone = client.post(
        f"/api/v1/users/{corridor.consulate.user_id}/deactivate", headers=corridor.admin.headers
    )
    assert gone.status_code == 200, gone.text
    assert client.get("/inbox", follow_redirects=False).status_code == 303


def test_launch_refused_shows_the_message_beside_the_field_and_keeps_the_input(
    client: TestClient, corridor: factories.Corridor
) -> None:
    sign_in(client, corridor.ngo.username)
    status, _, html = launch_from_page(client, **{"survivor.birth_date": "2090-01-01"})
    assert status == 422
    assert re.search(r'id="survivor-birth_date-problem">the date is in the future', html), (
        "the problem is not beside the birth date"
    )
    assert 'value="Amina"' in html and 'value="2090-01-01"' in html
    assert 'aria-invalid="true" aria-describedby="survivor-birth_date-problem"' in html


def test_launch_without_consent_names_the_consent(
    client: TestClient, corridor: factories.Corridor
) -> None:
    sign_in(client, corridor.ngo.username)
    status, _, html = launch_from_page(client, **{"consent.data_sharing": ""})
    assert status == 422
    assert 'id="consent-data_sharing-problem">repatriation is voluntary' in html


def test_a_launch_sent_twice_records_one_case(
    client: TestClient, corridor: factories.Corridor, woken: list[uuid.UUID]
) -> None:
    sign_in(client, corridor.ngo.username)
    form_page = client.get("/cases/new")
    form = {**LAUNCH_FORM, "csrf": csrf_of(form_page.text), "idempotency_key": _key(form_page.text)}
    first = client.post("/cases/new", data=form, follow_redirects=False)
    again = client.post("/cases/new", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    listed = client.get("/api/v1/cases", headers=corridor.ngo.headers).json()
    assert len(listed) == 1
    assert len(woken) == 1


def test_a_form_without_its_csrf_token_is_refused(
    client: TestClient, corridor: factories.Corridor
) -> None:
    sign_in(client, corridor.ngo.username)
    answer = client.post("/cases/new", data=LAUNCH_FORM)
    assert answer.status_code == 403
    assert "did not come from Homeward" in answer.text
    assert client.get("/api/v1/cases", headers=corridor.ngo.headers).json() == []


def _launched_and_advanced(
    client: TestClient, corridor: factories.Corridor, settings: Settings
) -> str:
    sign_in(client, corridor.ngo.username)
    status, location, _ = launch_from_page(client)
    assert status == 303
    reference = location.split("/")[2].split("?")[0]
    case = client.get(f"/api/v1/cases/{reference}", headers=corridor.ngo.headers).json()
    factories.advance(settings, case["id"])
    return reference


def test_a_refused_decision_is_shown_beside_its_field(
    client: TestClient, corridor: factories.Corridor, settings: Settings
) -> None:
    _launched_and_advanced(client, corridor, settings)
    consul = browser(client)
    sign_in(consul, corridor.consulate.username)
    task_id = open_task_id(consul)
    task_page = consul.get(f"/tasks/{task_id}")
    assert "Amina" in task_page.text  # the consulate sees the identity it verifies
    answer = consul.post(
        f"/tasks/{task_id}",
        data={
            "csrf": csrf_of(task_page.text),
            "idempotency_key": _key(task_page.text),
            "decision": "approved",
            "travel_document_number": "TP-0012345",
        },
    )
    assert answer.status_code == 422
    assert (
        'id="f-approved-travel_document_expires_on-problem">this field is required' in answer.text
    )
    assert 'value="TP-0012345"' in answer.text
    assert re.search(r'value="approved"\s+checked', answer.text)


def test_a_stale_form_gets_the_conflict_page_with_where_the_case_stands(
    client: TestClient, corridor: factories.Corridor, settings: Settings
) -> None:
    reference = _launched_and_advanced(client, corridor, settings)
    consul = browser(client)
    sign_in(consul, corridor.consulate.username)
    task_id = open_task_id(consul)
    stale = consul.get(f"/tasks/{task_id}")
    decided = factories.complete(client, corridor.consulate, task_id, factories.approved())
    assert decided.status_code == 200, decided.text
    answer = consul.post(
        f"/tasks/{task_id}",
        data={
            "csrf": csrf_of(stale.text),
            "idempotency_key": _key(stale.text),
            "decision": "rejected",
            "reason": "no record found",
        },
    )
    assert answer.status_code == 409
    assert "already done" in answer.text
    assert f'href="/cases/{reference}"' in answer.text


def test_a_decision_sent_twice_is_recorded_once(
    client: TestClient,
    corridor: factories.Corridor,
    settings: Settings,
    woken: list[uuid.UUID],
) -> None:
    _launched_and_advanced(client, corridor, settings)
    consul = browser(client)
    sign_in(consul, corridor.consulate.username)
    task_id = open_task_id(consul)
    task_page = consul.get(f"/tasks/{task_id}")
    form = {
        "csrf": csrf_of(task_page.text),
        "idempotency_key": _key(task_page.text),
        "decision": "approved",
        "travel_document_number": "TP-0012345",
        "travel_document_expires_on": (utcnow() + timedelta(days=365)).date().isoformat(),
    }
    first = consul.post(f"/tasks/{task_id}", data=form, follow_redirects=False)
    again = consul.post(f"/tasks/{task_id}", data=form, follow_redirects=False)
    assert (first.status_code, again.status_code) == (303, 303)
    assert again.headers["location"] == first.headers["location"]
    case_id = woken[-1]
    kinds = factories.timeline_kinds(client, corridor.ngo, str(case_id))
    assert kinds.count("task_completed") == 1


def test_another_agencys_case_and_task_read_as_not_found(
    client: TestClient, corridor: factories.Corridor, settings: Settings
) -> None:
    reference = _launched_and_advanced(client, corridor, settings)
    consul = browser(client)
    sign_in(consul, corridor.consulate.username)
    task_id = open_task_id(consul)
    outsider = browser(client)
    sign_in(outsider, corridor.other_ngo.username)
    theirs = outsider.get(f"/cases/{reference}")
    nothing = outsider.get("/cases/HW-AAAA-AAAA")
    their_task = outsider.get(f"/tasks/{task_id}")
    no_task = outsider.get(f"/tasks/{uuid.uuid4()}")
    assert theirs.status_code == nothing.status_code == their_task.status_code == 404
    assert no_task.status_code == 404
    # The same page but for the address it was asked for (the language menu returns there).
    assert theirs.text.replace(reference, "X") == nothing.text.replace("HW-AAAA-AAAA", "X")
    assert their_task.text.replace(task_id, "X") == no_task.text.replace(
        no_task.url.path.rsplit("/", 1)[1], "X"
    )
    assert "Amina" not in theirs.text + their_task.text
    assert "Traceback" not in theirs.text


def test_the_escort_sees_no_name(
    client: TestClient, corridor: factories.Corridor, settings: Settings
) -> None:
    reference = _launched_and_advanced(client, corridor, settings)
    case = client.get(f"/api/v1/cases/{reference}", headers=corridor.ngo.headers).json()
    factories.walk_to(client, corridor, case["id"], factories.TaskKind.confirm_departure)
    escort = browser(client)
    sign_in(escort, corridor.escort.username)
    task_page = escort.get(f"/tasks/{open_task_id(escort)}")
    assert task_page.status_code == 200
    assert "Confirm departure" in task_page.text
    assert "Amina" not in task_page.text and "Begum" not in task_page.text
    assert "2001-03-04" not in task_page.text
    assert "Age band" in task_page.text
    assert 'type="datetime-local"' in task_page.text


def test_the_case_page_lists_the_documents_for_the_coordinator_only(
    client: TestClient, corridor: factories.Corridor, settings: Settings
) -> None:
    reference = _launched_and_advanced(client, corridor, settings)
    case = client.get(f"/api/v1/cases/{reference}", headers=corridor.ngo.headers).json()
    factories.walk_to(client, corridor, case["id"], factories.TaskKind.confirm_departure)
    page = client.get(f"/cases/{reference}").text
    assert 'id="documents-heading"' in page and "TP-0012345" in page
    escort = browser(client)
    sign_in(escort, corridor.escort.username)
    theirs = escort.get(f"/cases/{reference}").text
    assert "TP-0012345" not in theirs and 'id="documents-heading"' not in theirs

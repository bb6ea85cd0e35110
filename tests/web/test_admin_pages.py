"""The administrator's pages: only for administrators, the same domain rules as the API,
notification URLs never shown back, problems beside their fields, CSRF on every form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.db import engine_for
from models import Agency, Notification, User
from models.enums import NotificationStatus
from tests import factories
from tests.support.outbox import ERROR, fail_for_good, launched
from tests.web.conftest import KEY, csrf_of, sign_in

ADMIN_PAGES = (
    "/admin",
    "/admin/agencies",
    "/admin/users",
    "/admin/notifications",
    "/admin/corridors",
)
HOOK = "json://page-user:page-secret-7c1@hooks.example.net/homeward"
HOOK_PARTS = ("page-secret-7c1", "page-user", "hooks.example.net")


def _key(html: str) -> str:
    found = KEY.search(html)
    assert found is not None, "the form has no idempotency key"
    return found.group(1)


def _form(client: TestClient, path: str) -> dict[str, str]:
    shown = client.get(path)
    assert shown.status_code == 200, shown.text
    return {"csrf": csrf_of(shown.text), "idempotency_key": _key(shown.text)}


def as_admin(client: TestClient, corridor: factories.Corridor) -> TestClient:
    sign_in(client, corridor.admin.username)
    return client


def test_only_an_administrator_opens_the_admin_pages(
    client: TestClient, corridor: factories.Corridor
) -> None:
    for path in ADMIN_PAGES:
        anonymous = client.get(path, follow_redirects=False)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/login")
    sign_in(client, corridor.ngo.username)
    for path in ADMIN_PAGES:
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "only an administrator" in refused.text
    csrf = csrf_of(client.get("/inbox").text)
    refused = client.post(
        "/admin/agencies",
        data={"csrf": csrf, "name": "Sneaky NGO", "kind": "ngo", "country": "IN"},
    )
    assert refused.status_code == 403
    with Session(engine_for(corridor.settings.resolved_database_url)) as session:
        assert session.exec(select(Agency).where(Agency.name == "Sneaky NGO")).first() is None


def test_the_overview_links_every_admin_page(
    client: TestClient, corridor: factories.Corridor
) -> None:
    overview = as_admin(client, corridor).get("/admin")
    assert overview.status_code == 200
    for path in ADMIN_PAGES[1:]:
        assert f'href="{path}"' in overview.text


def test_registering_an_agency_never_shows_its_notification_urls(
    client: TestClient, corridor: factories.Corridor
) -> None:
    as_admin(client, corridor)
    form = {
        **_form(client, "/admin/agencies"),
        "name": "Sylhet Girls Shelter",
        "kind": "shelter",
        "country": "BD",
        "capacity": "12",
        "notify_urls": HOOK,
        "accepts_children": "yes",
    }
    answer = client.post("/admin/agencies", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/admin/agencies?done=agency"
    # Sent twice (a dropped connection): one agency.
    again = client.post("/admin/agencies", data=form, follow_redirects=False)
    assert again.status_code == 303
    with Session(engine_for(corridor.settings.resolved_database_url)) as session:
        [agency] = session.exec(select(Agency).where(Agency.name == "Sylhet Girls Shelter")).all()
        assert agency.notify_urls == [HOOK]
        assert (agency.capacity, agency.accepts_children) == (12, True)

    listed = client.get(answer.headers["location"])
    assert "The agency is registered." in listed.text
    row = re.search(r"<tr>\s*<td[^>]*>Sylhet Girls Shelter</td>.*?</tr>", listed.text, re.S)
    assert row is not None
    assert "0 of 12 places taken" in row.group(0)
    assert re.search(r'notification URLs">yes</td>', row.group(0))
    for path in ADMIN_PAGES:
        shown = client.get(path).text
        for part in HOOK_PARTS:
            assert part not in shown, (path, part)


def test_a_refused_agency_shows_the_problem_beside_its_field_and_keeps_the_name(
    client: TestClient, corridor: factories.Corridor
) -> None:
    as_admin(client, corridor)
    form = {
        **_form(client, "/admin/agencies"),
        "name": "Khulna Legal Aid",
        "kind": "charity",
        "country": "BD",
        "notify_urls": HOOK,
    }
    refused = client.post("/admin/agencies", data=form)
    assert refused.status_code == 422
    assert re.search(r'<p class="problem" id="kind-problem">[^<]+</p>', refused.text)
    assert 'value="Khulna Legal Aid"' in refused.text
    # The URLs come back empty, with a word beside them.
    assert re.search(r'<textarea id="notify_urls"[^>]*></textarea>', refused.text)
    assert "Type the notification URLs again" in refused.text
    for part in HOOK_PARTS:
        assert part not in refused.text

    empty_name = client.post(
        "/admin/agencies", data={**form, "kind": "shelter", "name": "  ", "capacity": "3"}
    )
    assert empty_name.status_code == 422
    assert re.search(r'<p class="problem" id="name-problem">[^<]+</p>', empty_name.text)
    assert 'value="3"' in empty_name.text

    # A rule of the whole body: a consulate needs the nationality it verifies.
    consulate = client.post(
        "/admin/agencies", data={**form, "kind": "consulate", "notify_urls": ""}
    )
    assert consulate.status_code == 422
    problem = re.search(
        r'<p class="problem" id="nationality_served-problem">([^<]+)</p>', consulate.text
    )
    assert problem is not None and "consulate needs it" in problem.group(1)
    with Session(engine_for(corridor.settings.resolved_database_url)) as session:
        assert session.exec(select(Agency).where(Agency.name == "Khulna Legal Aid")).first() is None


def test_registering_a_user_then_deactivating_it_refuses_its_token(
    client: TestClient, corridor: factories.Corridor
) -> None:
    as_admin(client, corridor)
    path = f"/admin/users?agency={corridor.ngo.agency_id}"
    form = {
        **_form(client, path),
        "username": "case-worker-2",
        "password": factories.PASSWORD,
        "agency_id": str(corridor.ngo.agency_id),
        "role": "case_worker",
    }
    answer = client.post("/admin/users", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    listed = client.get(answer.headers["location"])
    assert "The account is registered." in listed.text
    assert "case-worker-2" in listed.text
    assert factories.PASSWORD not in listed.text

    token = client.post(
        "/api/v1/auth/token", data={"username": "case-worker-2", "password": factories.PASSWORD}
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200

    with Session(engine_for(corridor.settings.resolved_database_url)) as session:
        user_id = session.exec(select(User.id).where(User.username == "case-worker-2")).one()
    button = f'action="/admin/users/{user_id}/deactivate"'
    assert button in listed.text
    refused = client.post(f"/admin/users/{user_id}/deactivate", data={})
    assert refused.status_code == 403
    assert client.get("/api/v1/cases", headers=headers).status_code == 200

    done = client.post(
        f"/admin/users/{user_id}/deactivate",
        data={"csrf": csrf_of(listed.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert "The account is deactivated" in after.text
    assert button not in after.text
    assert client.get("/api/v1/cases", headers=headers).status_code == 401
    # Not their own account: the button is not there, and the domain refuses it anyway.
    assert (
        f"/admin/users/{corridor.admin.user_id}/deactivate" not in client.get("/admin/users").text
    )
    own = client.post(
        f"/admin/users/{corridor.admin.user_id}/deactivate", data={"csrf": csrf_of(after.text)}
    )
    assert own.status_code == 409


def test_a_refused_user_keeps_what_was_typed_but_never_the_password(
    client: TestClient, corridor: factories.Corridor
) -> None:
    as_admin(client, corridor)
    form = {
        **_form(client, "/admin/users"),
        "username": "x",
        "password": "typed-9a",
        "agency_id": str(corridor.consulate.agency_id),
        "role": "consular_officer",
    }
    refused = client.post("/admin/users", data=form)
    assert refused.status_code == 422
    assert re.search(r'<p class="problem" id="username-problem">[^<]+</p>', refused.text)
    assert re.search(r'<p class="problem" id="password-problem">[^<]+</p>', refused.text)
    assert 'value="x"' in refused.text
    assert f'<option value="{corridor.consulate.agency_id}" selected>' in refused.text
    assert "typed-9a" not in refused.text

    # The domain's rule: a consulate holds consular officers only.
    wrong_role = client.post(
        "/admin/users",
        data={
            **form,
            "username": "new-coordinator",
            "password": factories.PASSWORD,
            "role": "coordinator",
        },
    )
    assert wrong_role.status_code == 422
    assert "cannot have a coordinator" in wrong_role.text
    assert 'value="new-coordinator"' in wrong_role.text

    taken = client.post(
        "/admin/users",
        data={**form, "username": corridor.ngo.username, "password": factories.PASSWORD},
    )
    assert taken.status_code == 409
    assert re.search(r'id="username-problem">[^<]*is taken', taken.text)


def test_a_failed_notification_is_sent_again_from_the_page(
    client: TestClient, corridor: factories.Corridor
) -> None:
    database_url = corridor.settings.resolved_database_url
    _, notification_id = launched(client, corridor)
    fail_for_good(database_url, notification_id)
    as_admin(client, corridor)

    listed = client.get("/admin/notifications")
    assert listed.status_code == 200
    assert ERROR in listed.text
    action = f'action="/admin/notifications/{notification_id}/retry"'
    assert action in listed.text
    for part in ("hook-secret-9f3", "notify.example.org", factories.GIVEN_NAME):
        assert part not in listed.text

    refused = client.post(f"/admin/notifications/{notification_id}/retry", data={})
    assert refused.status_code == 403
    answer = client.post(
        f"/admin/notifications/{notification_id}/retry",
        data={"csrf": csrf_of(listed.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    after = client.get(answer.headers["location"])
    assert "back in the queue" in after.text
    assert action not in after.text
    with Session(engine_for(database_url)) as session:
        stored = session.get_one(Notification, notification_id)
        assert (stored.status, stored.attempts) == (NotificationStatus.pending, 0)
    again = client.post(
        f"/admin/notifications/{notification_id}/retry", data={"csrf": csrf_of(after.text)}
    )
    assert again.status_code == 409


def test_forms_without_their_csrf_token_are_refused(
    client: TestClient, corridor: factories.Corridor
) -> None:
    as_admin(client, corridor)
    form = _form(client, "/admin/agencies")
    for path, body in (
        ("/admin/agencies", {"name": "No Token NGO", "kind": "ngo", "country": "IN"}),
        (
            "/admin/users",
            {
                "username": "no-token",
                "password": factories.PASSWORD,
                "agency_id": str(corridor.ngo.agency_id),
                "role": "case_worker",
            },
        ),
    ):
        missing = client.post(path, data={"idempotency_key": form["idempotency_key"], **body})
        assert missing.status_code == 403, path
        wrong = client.post(path, data={"csrf": "not-the-token", **body})
        assert wrong.status_code == 403, path
    with Session(engine_for(corridor.settings.resolved_database_url)) as session:
        assert session.exec(select(Agency).where(Agency.name == "No Token NGO")).first() is None
        assert session.exec(select(User).where(User.username == "no-token")).first() is None


def test_the_corridors_page_shows_what_was_loaded(
    client: TestClient, corridor: factories.Corridor
) -> None:
    shown = as_admin(client, corridor).get("/admin/corridors")
    assert shown.status_code == 200
    assert "Any other pair of countries" in shown.text
    assert "(IN → BD)" in shown.text
    assert re.search(r"Verify nationality[^<]*: <span dir=\"ltr\">\d+[dhms]</span>", shown.text)
    assert "Travel document" in shown.text


def test_an_administrator_lands_on_the_administration_not_an_inbox(
    client: TestClient, corridor: factories.Corridor
) -> None:
    sign_in(client, corridor.admin.username)
    landed = client.get("/inbox")
    assert landed.url.path == "/admin"
    assert 'href="/admin"' in landed.text and 'href="/cases/new"' not in landed.text

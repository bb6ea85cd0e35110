"""The audit log through the API: every read and change of survivor data leaves one entry,
written with the work, naming who, which agency, which case and from where; never a value."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import col, select

from core.db import session_scope
from core.settings import Settings
from models import AuditEntry
from models.enums import AgencyKind, Role, TaskKind
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member

# The TestClient's peer address, as the server sees it.
ADDRESS = "testclient"
_ID = r"[0-9a-f-]{36}"
# Values the survivor data of a launched case and its decisions hold; no entry may carry them.
PERSONAL = [
    factories.GIVEN_NAME,
    factories.FAMILY_NAME,
    factories.BIRTH_DATE,
    factories.follow_up()["notes"],
    factories.approved()["travel_document_number"],
    "hook-secret-9f3",  # in the corridor's notification URLs
]


@dataclass(frozen=True)
class Expected:
    """The audit entry one successful request should have left."""

    action: str
    username: str
    user_id: uuid.UUID
    agency_id: uuid.UUID
    case_id: uuid.UUID | None
    detail: dict[str, Any] | None = None  # checked only where the response tells what it is


def _case_id(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))


def _inbox_read(request_params: Any, body: list[dict[str, Any]]) -> dict[str, Any]:
    """GET /tasks leaves one entry per request, naming the tasks it returned by case."""
    by_case: dict[str, list[str]] = {}
    for task in body:
        by_case.setdefault(task["case_id"], []).append(task["id"])
    return {
        "status": request_params.get("status"),
        "kind": request_params.get("kind"),
        "count": len(body),
        "kinds": sorted({t["kind"] for t in body}),
        "tasks_by_case": by_case,
    }


def _read_case_detail(body: dict[str, Any]) -> dict[str, Any]:
    shown = body["survivor"] or {}
    return {
        "view": body["your_view"],
        "fields": sorted(k for k, v in shown.items() if v is not None),
    }


@dataclass
class Requests:
    """Every request the test makes, turned into the audit entries it should leave."""

    members: dict[str, Member]
    expected: list[Expected] = field(default_factory=list)

    def __call__(self, response: Response) -> None:
        if not response.is_success:
            return  # a refused request changes nothing, so it leaves nothing
        response.read()
        request = response.request
        member = self.members[request.headers["Authorization"]]
        method, path = request.method, request.url.path
        body = response.json() if response.content else None

        def expect_(action: str, case_id: uuid.UUID | None, detail: Any = None) -> None:
            self.expected.append(
                Expected(action, member.username, member.user_id, member.agency_id, case_id, detail)
            )

        if method == "POST" and path == "/api/v1/agencies":
            expect_("create_agency", None, {"agency_id": body["id"], "kind": body["kind"]})
        elif method == "POST" and path == "/api/v1/cases":
            expect_("launch_case", _case_id(body["id"]), _read_case_detail(body))
        elif method == "GET" and path == "/api/v1/cases":
            expect_("list_cases", None, {"count": len(body)})
        elif method == "GET" and (m := re.fullmatch(rf"/api/v1/cases/({_ID})", path)):
            expect_("read_case", _case_id(m[1]), _read_case_detail(body))
        elif method == "GET" and (m := re.fullmatch(rf"/api/v1/cases/({_ID})/timeline", path)):
            expect_("read_timeline", _case_id(m[1]), {"count": len(body)})
        elif method == "GET" and (m := re.fullmatch(rf"/api/v1/cases/({_ID})/audit", path)):
            expect_("read_audit", _case_id(m[1]), {"count": len(body)})
        elif method == "GET" and path == "/api/v1/tasks":
            expect_("read_tasks", None, _inbox_read(request.url.params, body))
        elif method == "POST" and re.fullmatch(rf"/api/v1/tasks/({_ID})/complete", path):
            task_detail = {
                "task_id": body["id"],
                "task_kind": body["kind"],
                "round": body["round"],
                "outcome": body["outcome"],
            }
            expect_("complete_task", _case_id(body["case_id"]), task_detail)
        else:
            raise AssertionError(f"the test made a request it has no expectation for: {path}")

    def count(self) -> Counter[str]:
        return Counter(e.action for e in self.expected)


@pytest.fixture
def calls(client: TestClient, corridor: Corridor) -> Iterator[Requests]:
    """Records the client's successful requests as the audit entries they should leave."""
    recorder = Requests({m.headers["Authorization"]: m for m in corridor.members.values()})
    client.event_hooks = {"request": [], "response": [recorder]}
    yield recorder
    client.event_hooks = {"request": [], "response": []}


# The actions of the routes these tests call (accounts and logins are audited elsewhere).
TRACKED = [
    "create_agency",
    "launch_case",
    "list_cases",
    "read_case",
    "read_timeline",
    "read_audit",
    "read_tasks",
    "complete_task",
]


def _audit_rows(settings: Settings) -> list[AuditEntry]:
    """The audit entries of the routes these tests call, oldest first."""
    with session_scope(settings.resolved_database_url) as session:
        return list(
            session.exec(
                select(AuditEntry)
                # Routes act for a signed-in user; the fixtures' setup, done directly through
                # the services (as the CLI does), is audited without one.
                .where(col(AuditEntry.action).in_(TRACKED), col(AuditEntry.user_id).is_not(None))
                .order_by(col(AuditEntry.at))
            ).all()
        )


def _as_expected(row: AuditEntry, with_detail: bool) -> Expected:
    assert row.user_id is not None and row.agency_id is not None and row.username is not None
    return Expected(
        row.action,
        row.username,
        row.user_id,
        row.agency_id,
        row.case_id,
        row.detail if with_detail else None,
    )


def _matches(rows: list[AuditEntry], expected: list[Expected]) -> None:
    """The rows are the expected entries, in the order the requests were made."""
    assert Counter(r.action for r in rows) == Counter(e.action for e in expected)
    actual = [_as_expected(r, e.detail is not None) for r, e in zip(rows, expected, strict=True)]
    assert actual == expected
    assert {r.address for r in rows} == {ADDRESS}


def _carries_personal_data(text: str) -> list[str]:
    return [value for value in PERSONAL if value in text]


def _read_everything(client: TestClient, c: Corridor, case_id: str) -> Counter[str]:
    """Every member lists cases, reads the case and its timeline; the successful reads."""
    done: Counter[str] = Counter()
    for member in c.members.values():
        for action, path in [
            ("list_cases", "/api/v1/cases"),
            ("read_case", f"/api/v1/cases/{case_id}"),
            ("read_timeline", f"/api/v1/cases/{case_id}/timeline"),
        ]:
            response = client.get(path, headers=member.headers)
            assert response.status_code in (200, 403, 404), response.text
            done[action] += response.status_code == 200
    return done


def test_a_whole_case_leaves_one_audit_entry_per_read_and_change(
    client: TestClient, corridor: Corridor, settings: Settings, calls: Requests
) -> None:
    added = client.post(
        "/api/v1/agencies",
        json={
            "name": "Khulna Safe Home",
            "kind": "shelter",
            "country": "BD",
            "capacity": 6,
            "notify_urls": [factories.NOTIFY_URL],
        },
        headers=corridor.admin.headers,
    )
    assert added.status_code == 201, added.text
    case_id = factories.launch(client, corridor.ngo)["id"]
    # Every agency tries to read the case in transport and once it is closed; which reads
    # succeed is the access policy's business, that each success is audited is this test's.
    factories.walk_to(client, corridor, case_id, TaskKind.confirm_departure)
    reads = _read_everything(client, corridor, case_id)
    followed = factories.walk_to(client, corridor, case_id, TaskKind.record_follow_up)
    for round_ in (1, 2):
        task = factories.open_task(
            client, corridor.shelter, case_id, TaskKind.record_follow_up, round_
        )
        response = factories.complete(client, corridor.shelter, task["id"], factories.follow_up())
        assert response.status_code == 200, response.text
    assert factories.advance(settings, case_id).ended
    reads += _read_everything(client, corridor, case_id)
    # Refused requests: an agency outside the case, a second completion, the audit itself.
    expect.error(client.get(f"/api/v1/cases/{case_id}", headers=corridor.other_ngo.headers), 404)
    expect.error(factories.complete(client, corridor.shelter, followed["id"], {}), 409)
    forbidden = client.get(f"/api/v1/cases/{case_id}/audit", headers=corridor.consulate.headers)
    expect.error(forbidden, 403)

    audit = client.get(f"/api/v1/cases/{case_id}/audit", headers=corridor.ngo.headers)

    assert audit.status_code == 200, audit.text
    made = calls.count()
    assert made["create_agency"] == made["launch_case"] == made["read_audit"] == 1
    assert made["complete_task"] == 7  # the happy path, with the second follow-up
    for action in ("list_cases", "read_case", "read_timeline"):
        assert made[action] == reads[action]
    assert reads["list_cases"] == 2 * 6  # all but the admin, who reads no cases
    assert reads["read_case"] >= 2 * 2  # the NGO and, still after approval, the consulate
    assert made["read_tasks"] >= 7  # walk_to reads inboxes, as many times as it needs
    rows = _audit_rows(settings)
    _matches(rows, calls.expected)
    # The endpoint: this case's entries, oldest first, before the read of the audit itself.
    # A task-list read is in the trail of each case whose tasks it returned.
    of_case = [
        e
        for e in calls.expected
        if e.case_id == uuid.UUID(case_id)
        or (e.action == "read_tasks" and case_id in (e.detail or {})["tasks_by_case"])
    ]
    entries = audit.json()
    assert [e["action"] for e in entries] == [e.action for e in of_case[:-1]]
    assert [(e["user_id"], e["agency_id"], e["username"]) for e in entries] == [
        (str(e.user_id), str(e.agency_id), e.username) for e in of_case[:-1]
    ]
    assert {e["address"] for e in entries} == {ADDRESS}
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    assert all(
        set(e) == {"at", "action", "user_id", "agency_id", "username", "address", "detail"}
        for e in entries
    )
    # Which survivor fields each view took away is on record, by name.
    reads = {(r.username, tuple(r.detail["fields"])) for r in rows if r.action == "read_case"}
    assert ("escort-user", ("age_band", "languages", "sex")) in reads
    identity = ("birth_date", "family_name", "given_name", "languages", "nationality", "sex")
    assert ("ngo-user", identity) in reads
    assert ("consulate-user", identity) in reads
    # No entry holds a survivor's name, birth date, note or a notification credential.
    details = json.dumps([r.detail for r in rows], default=str)
    assert _carries_personal_data(details) == []
    assert _carries_personal_data(audit.text) == []


def test_an_empty_inbox_read_is_audited_without_a_case(
    client: TestClient, corridor: Corridor, settings: Settings, calls: Requests
) -> None:
    assert factories.tasks_of(client, corridor.other_shelter, "none") == []

    (row,) = _audit_rows(settings)

    assert (row.action, row.case_id, row.username) == ("read_tasks", None, "other-shelter-user")
    assert row.detail == {
        "status": "open",
        "kind": None,
        "count": 0,
        "kinds": [],
        "tasks_by_case": {},
    }
    assert calls.count() == Counter({"read_tasks": 1})


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("ngo", 200),
        ("supervisor", 200),
        ("case_worker", 403),  # in the coordinating NGO, but does not answer for the case
        ("consulate", 403),  # takes part in the case: may know it exists, not who looked
        ("shelter", 404),  # not yet asked for a placement: the case is not visible to it
        ("other_ngo", 404),
        # An administrator is refused on its role alone, for every case id, existing or not,
        # as on every case route: the 403 reveals nothing about the case.
        ("admin", 403),
    ],
)
def test_only_the_coordinating_ngo_reads_a_case_audit(
    client: TestClient, corridor: Corridor, settings: Settings, who: str, status: int
) -> None:
    extra = {
        "supervisor": corridor.add_user(
            corridor.ngo, username="ngo-supervisor", role=Role.supervisor
        ),
        "case_worker": corridor.add_user(
            corridor.ngo, username="ngo-worker", role=Role.case_worker
        ),
    }
    member = {**corridor.members, **extra}[who]
    case_id = factories.launch(client, corridor.ngo)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.verify_nationality)
    path = f"/api/v1/cases/{case_id}/audit"
    before = len(_audit_rows(settings))

    response = client.get(path, headers=member.headers)

    if status == 200:
        assert response.status_code == 200, response.text
        assert [e["action"] for e in response.json()][:1] == ["launch_case"]
    else:
        expect.error(response, status)
    after = _audit_rows(settings)
    assert len(after) == before + (status == 200)
    if status == 200:
        assert (after[-1].action, after[-1].username) == ("read_audit", member.username)
    if who == "admin":
        expect.error(client.get(f"/api/v1/cases/{uuid.uuid4()}/audit", headers=member.headers), 403)
    if status == 200:
        expect.error(client.get(f"/api/v1/cases/{uuid.uuid4()}/audit", headers=member.headers), 404)


def test_the_audit_needs_a_token(client: TestClient, corridor: Corridor) -> None:
    case_id = factories.launch(client, corridor.ngo)["id"]

    expect.error(client.get(f"/api/v1/cases/{case_id}/audit"), 401)
    expect.error(client.get(f"/api/v1/cases/{case_id}/audit", headers=factories.bearer("x")), 401)


def test_no_route_changes_or_removes_audit_entries(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    audit_routes = {
        (method, path)
        for path, operations in paths.items()
        if "audit" in path
        for method in operations
    }

    assert audit_routes == {("get", "/api/v1/cases/{case_id}/audit")}


def test_a_new_agency_is_audited_without_its_notification_urls(
    client: TestClient, corridor: Corridor, settings: Settings, calls: Requests
) -> None:
    response = client.post(
        "/api/v1/agencies",
        json={
            "name": "Chittagong Consulate Desk",
            "kind": AgencyKind.consulate,
            "country": "IN",
            "nationality_served": "BD",
            "notify_urls": [factories.NOTIFY_URL],
        },
        headers=corridor.admin.headers,
    )
    assert response.status_code == 201, response.text

    (row,) = _audit_rows(settings)

    assert row.action == "create_agency" and row.case_id is None
    assert (row.user_id, row.agency_id) == (corridor.admin.user_id, corridor.admin.agency_id)
    assert row.detail == {"agency_id": response.json()["id"], "kind": "consulate"}
    assert _carries_personal_data(json.dumps(row.detail)) == []
    _matches([row], calls.expected)

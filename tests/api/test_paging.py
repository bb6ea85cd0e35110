"""The case and task lists a page at a time: a `limit`, a `Link: <...>; rel="next"` header
with an opaque cursor, filters that combine with paging and never widen what an agency
sees, and one audit entry per page read."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from core.clock import utcnow
from core.db import session_scope
from core.settings import Settings
from models import AuditEntry, Case, Task
from models.enums import CaseStatus, Stage, TaskKind, TaskStatus
from tests import factories
from tests.api import expect
from tests.factories import Corridor, Member

# Different enough that no two launches look like the same survivor.
NAMES = ["Rupali", "Shirin", "Moushumi", "Tahmina", "Nasrin", "Farzana", "Jharna"]
OTHER_NAMES = ["Kavita", "Lakshmi", "Parvati"]


def _launch_many(client: TestClient, member: Member, names: list[str]) -> list[str]:
    return [factories.launch(client, member, given_name=n)["id"] for n in names]


def _set_cases(settings: Settings, case_ids: list[str], **fields: Any) -> None:
    with session_scope(settings.resolved_database_url) as session:
        for case_id in case_ids:
            case = session.get_one(Case, uuid.UUID(case_id))
            for name, value in fields.items():
                setattr(case, name, value)
            session.add(case)


def _sorted_newest_first(settings: Settings, case_ids: list[str]) -> list[str]:
    with session_scope(settings.resolved_database_url) as session:
        cases = session.exec(
            select(Case).where(col(Case.id).in_([uuid.UUID(i) for i in case_ids]))
        ).all()
        return [str(c.id) for c in sorted(cases, key=lambda c: (c.created_at, c.id), reverse=True)]


@pytest.fixture
def cases(client: TestClient, corridor: Corridor, settings: Settings) -> list[str]:
    """The NGO's seven cases, four of them launched at the same instant (ties broken by
    id), and three of another NGO's that the first never sees."""
    ours = _launch_many(client, corridor.ngo, NAMES)
    _launch_many(client, corridor.other_ngo, OTHER_NAMES)
    _set_cases(settings, ours[1:5], created_at=utcnow() - timedelta(hours=1))
    return ours


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def _next_url(response: Any) -> str | None:
    url: str | None = response.links.get("next", {}).get("url")
    return url


# --- the case list ------------------------------------------------------------------------


def test_case_pages_walk_every_visible_case_once_newest_first(
    client: TestClient, corridor: Corridor, settings: Settings, cases: list[str]
) -> None:
    pages = factories.pages(client, corridor.ngo, "/api/v1/cases", {"limit": 3})

    assert [len(p) for p in pages] == [3, 3, 1]
    walked = [i for p in pages for i in _ids(p)]
    assert walked == _sorted_newest_first(settings, cases)
    assert len(set(walked)) == len(walked)


def test_the_last_page_has_no_link_and_a_full_list_is_one_page(
    client: TestClient, corridor: Corridor, cases: list[str]
) -> None:
    whole = client.get("/api/v1/cases", headers=corridor.ngo.headers)
    exact = client.get("/api/v1/cases", params={"limit": 7}, headers=corridor.ngo.headers)

    assert whole.status_code == exact.status_code == 200
    assert "link" not in whole.headers and "link" not in exact.headers
    assert sorted(_ids(whole.json())) == sorted(_ids(exact.json())) == sorted(cases)


def test_the_next_link_keeps_the_filters_and_the_limit(
    client: TestClient, corridor: Corridor, cases: list[str]
) -> None:
    params = {"limit": 2, "status": "open", "overdue": "false"}
    response = client.get("/api/v1/cases", params=params, headers=corridor.ngo.headers)

    assert response.status_code == 200
    assert response.headers["link"].endswith('>; rel="next"')
    url = _next_url(response)
    assert url is not None and urlsplit(url).path == "/api/v1/cases"
    query = parse_qs(urlsplit(url).query)
    assert query["limit"] == ["2"] and query["status"] == ["open"]
    assert query["overdue"] == ["false"] and len(query["cursor"]) == 1


def test_no_page_shows_another_agencys_cases(
    client: TestClient, corridor: Corridor, cases: list[str]
) -> None:
    theirs = factories.every_page(client, corridor.other_ngo, "/api/v1/cases", {"limit": 1})
    # A shelter not asked for any placement takes part in no case, on any page.
    shelter = factories.pages(client, corridor.shelter, "/api/v1/cases", {"limit": 1})

    assert len(theirs) == len(OTHER_NAMES)
    assert not set(_ids(theirs)) & set(cases)
    assert shelter == [[]]


def test_a_cursor_never_widens_what_an_agency_sees(
    client: TestClient, corridor: Corridor, cases: list[str]
) -> None:
    first = client.get("/api/v1/cases", params={"limit": 1}, headers=corridor.ngo.headers)
    url = _next_url(first)
    assert url is not None

    # Another agency following the NGO's link gets the rest of its own list, nothing more.
    followed = client.get(url, headers=corridor.other_ngo.headers)

    assert followed.status_code == 200
    assert not set(_ids(followed.json())) & set(cases)


def test_stage_and_status_filters_combine_with_paging(
    client: TestClient, corridor: Corridor, settings: Settings, cases: list[str]
) -> None:
    _set_cases(settings, cases[:4], stage=Stage.consular_verification)
    _set_cases(settings, cases[2:3], status=CaseStatus.rejected)

    at_stage = factories.every_page(
        client, corridor.ngo, "/api/v1/cases", {"limit": 1, "stage": "consular_verification"}
    )
    open_at_stage = factories.every_page(
        client,
        corridor.ngo,
        "/api/v1/cases",
        {"limit": 2, "stage": "consular_verification", "status": "open"},
    )
    rejected = factories.every_page(client, corridor.ngo, "/api/v1/cases", {"status": "rejected"})
    elsewhere = factories.every_page(
        client, corridor.other_ngo, "/api/v1/cases", {"stage": "consular_verification"}
    )

    assert sorted(_ids(at_stage)) == sorted(cases[:4])
    assert sorted(_ids(open_at_stage)) == sorted(cases[:2] + cases[3:4])
    assert _ids(rejected) == [cases[2]]
    assert elsewhere == []


def test_an_unknown_stage_or_status_is_refused_naming_the_field(
    client: TestClient, corridor: Corridor
) -> None:
    stage = client.get("/api/v1/cases?stage=departed", headers=corridor.ngo.headers)
    status = client.get("/api/v1/cases?status=lost", headers=corridor.ngo.headers)

    assert expect.error(stage, 422).startswith("stage: must be one of identification")
    assert expect.error(status, 422).startswith("status: must be one of open")


# --- the task list ------------------------------------------------------------------------


def _add_tasks(
    settings: Settings, agency_id: uuid.UUID, case_ids: list[str], *, first_round: int = 10
) -> list[str]:
    """Tasks for the agency, two per case, due at only three distinct times so that the
    id breaks most ties; every third one done, the others open."""
    due = utcnow() + timedelta(days=3)
    opened = utcnow() - timedelta(days=1)
    made = []
    with session_scope(settings.resolved_database_url) as session:
        for n, case_id in enumerate(case_ids * 2):
            task = Task(
                case_id=uuid.UUID(case_id),
                kind=TaskKind.verify_nationality if n % 2 else TaskKind.reissue_travel_document,
                round=first_round + n,
                agency_id=agency_id,
                status=TaskStatus.done if n % 3 == 0 else TaskStatus.open,
                opened_at=opened,
                due_at=due + timedelta(hours=n % 3),
            )
            session.add(task)
            session.flush()
            made.append(str(task.id))
    return made


def _in_list_order(settings: Settings, task_ids: list[str]) -> list[str]:
    with session_scope(settings.resolved_database_url) as session:
        tasks = session.exec(
            select(Task).where(col(Task.id).in_([uuid.UUID(i) for i in task_ids]))
        ).all()
        return [str(t.id) for t in sorted(tasks, key=lambda t: (t.due_at, t.opened_at, t.id))]


def test_task_pages_walk_every_task_once_earliest_due_first(
    client: TestClient, corridor: Corridor, settings: Settings, cases: list[str]
) -> None:
    ours = _add_tasks(settings, corridor.consulate.agency_id, cases)
    others = _add_tasks(settings, corridor.other_shelter.agency_id, cases[:2], first_round=50)

    pages = factories.pages(client, corridor.consulate, "/api/v1/tasks", {"limit": 4})

    assert [len(p) for p in pages] == [4, 4, 4, 2]
    walked = [i for p in pages for i in _ids(p)]
    assert walked == _in_list_order(settings, ours)
    assert not set(walked) & set(others)


def test_kind_and_status_filters_combine_with_paging(
    client: TestClient, corridor: Corridor, settings: Settings, cases: list[str]
) -> None:
    _add_tasks(settings, corridor.consulate.agency_id, cases)
    params = {"limit": 2, "kind": "verify_nationality", "status": "open"}

    walked = factories.every_page(client, corridor.consulate, "/api/v1/tasks", params)
    everything = factories.every_page(client, corridor.consulate, "/api/v1/tasks", {"limit": 200})

    expected = [
        t for t in everything if t["kind"] == "verify_nationality" and t["status"] == "open"
    ]
    assert walked == expected and len(expected) == 5
    bad = client.get("/api/v1/tasks?kind=fly_home", headers=corridor.consulate.headers)
    assert expect.error(bad, 422).startswith("kind: must be one of verify_nationality")


# --- limits and cursors -------------------------------------------------------------------

LISTS = ["/api/v1/cases", "/api/v1/tasks"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("limit", ["0", "201", "-5"])
def test_a_limit_out_of_bounds_is_refused_naming_the_bounds(
    client: TestClient, corridor: Corridor, path: str, limit: str
) -> None:
    response = client.get(path, params={"limit": limit}, headers=corridor.ngo.headers)

    assert expect.error(response, 422) == "limit: must be between 1 and 200 (default 50)"


@pytest.mark.parametrize("path", LISTS)
def test_the_largest_limit_is_accepted(client: TestClient, corridor: Corridor, path: str) -> None:
    response = client.get(path, params={"limit": 200}, headers=corridor.ngo.headers)

    assert response.status_code == 200, response.text


def _encoded(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor!",
        "",
        _encoded({"after": 3}),
        _encoded(["cases", "yesterday", str(uuid.uuid4())]),
        _encoded(["cases", "2026-12-01T10:00:00", str(uuid.uuid4())]),  # no time zone
        _encoded(["tasks", "2026-12-01T10:00:00+00:00", str(uuid.uuid4())]),  # too short
    ],
)
def test_a_bad_cursor_is_refused_naming_it(
    client: TestClient, corridor: Corridor, path: str, cursor: str
) -> None:
    response = client.get(path, params={"cursor": cursor}, headers=corridor.ngo.headers)

    assert expect.error(response, 422).startswith("cursor: ")


def test_a_cursor_of_one_list_is_refused_by_the_other(
    client: TestClient, corridor: Corridor, cases: list[str]
) -> None:
    first = client.get("/api/v1/cases", params={"limit": 1}, headers=corridor.ngo.headers)
    url = _next_url(first)
    assert url is not None
    (cursor,) = parse_qs(urlsplit(url).query)["cursor"]

    response = client.get("/api/v1/tasks", params={"cursor": cursor}, headers=corridor.ngo.headers)

    assert expect.error(response, 422).startswith("cursor: ")


# --- the audit ----------------------------------------------------------------------------


def _task_reads(settings: Settings) -> list[AuditEntry]:
    with session_scope(settings.resolved_database_url) as session:
        return list(
            session.exec(
                select(AuditEntry)
                .where(AuditEntry.action == "read_tasks")
                .order_by(col(AuditEntry.at))
            ).all()
        )


def test_an_inbox_read_over_many_cases_leaves_one_audit_entry(
    client: TestClient, corridor: Corridor, settings: Settings, cases: list[str]
) -> None:
    _add_tasks(settings, corridor.consulate.agency_id, cases)

    response = client.get("/api/v1/tasks", headers=corridor.consulate.headers)

    assert response.status_code == 200 and len(response.json()) == 2 * len(cases)
    (row,) = _task_reads(settings)
    assert row.detail["count"] == 2 * len(cases)
    assert sorted(row.detail["tasks_by_case"]) == sorted(cases)


def test_a_task_page_read_leaves_one_audit_entry(
    client: TestClient, corridor: Corridor, settings: Settings, cases: list[str]
) -> None:
    _add_tasks(settings, corridor.consulate.agency_id, cases)

    pages = factories.pages(client, corridor.consulate, "/api/v1/tasks", {"limit": 5})

    rows = _task_reads(settings)
    assert len(pages) == 3 and len(rows) == 3
    for page, row in zip(pages, rows, strict=True):
        assert row.case_id is None and row.username == corridor.consulate.username
        assert row.detail["count"] == len(page)
        listed = {case_id: sorted(ids) for case_id, ids in row.detail["tasks_by_case"].items()}
        expected: dict[str, list[str]] = {}
        for task in page:
            expected.setdefault(task["case_id"], []).append(task["id"])
        assert listed == {case_id: sorted(ids) for case_id, ids in expected.items()}
    # Pages spanning several cases still leave one entry each.
    assert len(rows[0].detail["tasks_by_case"]) > 1


def test_a_case_audit_shows_task_reads_of_its_own_tasks_only(
    client: TestClient, corridor: Corridor, settings: Settings, cases: list[str]
) -> None:
    made = _add_tasks(settings, corridor.consulate.agency_id, cases)
    listed = client.get("/api/v1/tasks", params={"limit": 200}, headers=corridor.consulate.headers)
    assert listed.status_code == 200 and len(listed.json()) == len(made)
    case_id = cases[0]
    own = sorted(t["id"] for t in listed.json() if t["case_id"] == case_id)

    audit = client.get(f"/api/v1/cases/{case_id}/audit", headers=corridor.ngo.headers)

    assert audit.status_code == 200, audit.text
    (read,) = [e for e in audit.json() if e["action"] == "read_tasks"]
    assert read["username"] == corridor.consulate.username
    assert read["detail"]["count"] == len(own) == 2
    assert sorted(read["detail"]["task_ids"]) == own
    # The trail of one case never names the other cases the consulate works on.
    assert not any(other in audit.text for other in cases[1:])

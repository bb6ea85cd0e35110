"""A real Homeward stack on loopback (Prefect server, runner, API) with a seeded corridor."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import col, select

from cli.stack import Stack
from core.clock import utcnow
from core.crypto import Keyring, install_keyring
from core.db import session_scope
from core.settings import Settings
from domain.agencies import NewAgency, NewUser, create_agency, create_user
from models import AuditEntry, Case, Event, Notification, Survivor, Task
from models.enums import NotificationStatus, Role, TaskStatus
from models.migrations import upgrade
from notifications.messages import render
from tests.support.sink import Sink

PASSWORD = "integration-password-1"
SESSION_KEYS = Keyring.generate(source="the test session")


def one_of_many(family_name: str) -> str:
    """The family name with a random word added: each launch is another survivor, so that
    cases launched in numbers are not flagged as likely duplicates of one another."""
    return f"{family_name} {''.join(secrets.choice('bcdfghjklmnpqrstvwxz') for _ in range(9))}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Live:
    """The running stack and the HTTP conveniences the tests drive it with."""

    stack: Stack
    settings: Settings
    sink: Sink
    http: httpx.Client
    agencies: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def login(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            response = self.http.post(
                "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
            )
            response.raise_for_status()
            self.tokens[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self.tokens[username]

    def get(self, who: str, path: str, **params: Any) -> Any:
        """The answer's body; for a paged list, every page's items, following `Link`."""
        response = self.http.get(f"/api/v1{path}", headers=self.login(who), params=params)
        response.raise_for_status()
        body = response.json()
        while isinstance(body, list) and "next" in response.links:
            response = self.http.get(response.links["next"]["url"], headers=self.login(who))
            response.raise_for_status()
            body += response.json()
        return body

    def post(self, who: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(f"/api/v1{path}", headers=self.login(who), json=body)

    def open_task(self, who: str, case_id: str, kind: str, timeout: float = 120) -> dict[str, Any]:
        """Wait until the agency's inbox holds a task of this kind for the case (a pass is a
        new process: on a loaded two-core machine it has taken over a minute to start)."""
        found: list[dict[str, Any]] = []

        def ready() -> bool:
            found[:] = [
                t
                for t in self.get(who, "/tasks", status="open")
                if t["case_id"] == case_id and t["kind"] == kind
            ]
            return bool(found)

        eventually(ready, timeout, f"{who} to receive a {kind} task")
        return found[0]

    def complete(self, who: str, case_id: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        task = self.open_task(who, case_id, kind)
        response = self.post(who, f"/tasks/{task['id']}/complete", body)
        # 202: recorded, but Prefect did not take the wake within its wait (a loaded
        # machine); the case moves on all the same, which is what the callers check.
        assert response.status_code in (200, 202), response.text
        return task

    def add_agency(self, name: str, body: dict[str, Any], *, role: str | None = None) -> str:
        """Register one more agency, notified at the sink under `name`; with `role`, a user
        called `name` too (password PASSWORD). Returns the agency's id."""
        response = self.post(
            "admin", "/agencies", {**body, "notify_urls": [self.sink.url_for(name)]}
        )
        assert response.status_code == 201, response.text
        self.agencies[name] = response.json()["id"]
        if role is not None:
            self.add_user(name, agency=name, role=role)
        return self.agencies[name]

    def add_user(self, username: str, *, agency: str, role: str) -> None:
        """A user of an agency registered above (its name as in `agencies`)."""
        response = self.post(
            "admin",
            "/users",
            {
                "username": username,
                "password": PASSWORD,
                "agency_id": self.agencies[agency],
                "role": role,
            },
        )
        assert response.status_code == 201, response.text

    def timeline(self, who: str, case_id: str) -> list[dict[str, Any]]:
        return list(self.get(who, f"/cases/{case_id}/timeline"))

    def case(self, who: str, case_id: str) -> dict[str, Any]:
        return dict(self.get(who, f"/cases/{case_id}"))

    def wait_case(
        self,
        case_id: str,
        predicate: Callable[[dict[str, Any]], bool],
        what: str,
        timeout: float = 60,
    ) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        def ready() -> bool:
            seen.update(self.case("coordinator", case_id))
            return predicate(seen)

        eventually(ready, timeout, what)
        return seen


@dataclass(frozen=True)
class Ledger:
    """Notifications the outbox holds (one per case, task or notice, and target) against
    what reached the sink."""

    expected: int
    delivered: int
    duplicated: int
    missing: int
    unsent: int  # outbox rows not yet marked sent

    @property
    def complete(self) -> bool:
        return self.missing == 0 and self.unsent == 0


def ledger(live: Live, case_ids: Iterable[str]) -> Ledger:
    """Count, per (case, task or notice, agency), outbox rows and sink arrivals."""
    ids = [uuid.UUID(c) for c in case_ids]
    names = {uuid.UUID(agency_id): name for name, agency_id in live.agencies.items()}
    expected: Counter[tuple[str, str]] = Counter()
    unsent = 0
    with session_scope(live.settings.resolved_database_url) as session:
        rows = session.exec(select(Notification).where(col(Notification.case_id).in_(ids))).all()
        references = set(session.exec(select(Case.reference).where(col(Case.id).in_(ids))).all())
        for row in rows:
            title = render(row, public_url=live.settings.resolved_public_url).title
            expected[(names.get(row.agency_id, str(row.agency_id)), title)] += 1
            unsent += row.status != NotificationStatus.sent
    arrived: Counter[tuple[str, str]] = Counter()
    for name in names.values():
        for message in live.sink.messages(name):
            title = str(message.get("title"))
            if any(reference in title for reference in references):
                arrived[(name, title)] += 1
    keys = set(expected) | set(arrived)
    return Ledger(
        expected=sum(expected.values()),
        delivered=sum(min(arrived[k], expected[k]) for k in keys),
        duplicated=sum(max(0, arrived[k] - expected[k]) for k in keys),
        missing=sum(max(0, expected[k] - arrived[k]) for k in keys),
        unsent=unsent,
    )


def wait_delivered(live: Live, case_ids: Iterable[str], timeout: float = 90) -> Ledger:
    """Wait until every queued notification of these cases has arrived; assert no duplicate."""
    ids = list(case_ids)
    seen: list[Ledger] = []

    def done() -> bool:
        seen[:] = [ledger(live, ids)]
        return seen[0].complete

    try:
        eventually(done, timeout, "every notification to arrive")
    finally:
        if seen:
            assert seen[0].duplicated == 0, seen[0]
    return seen[0]


def inconsistencies(live: Live) -> list[str]:
    """What would show a decision or a launch half-recorded in Homeward's database."""
    found: list[str] = []
    with session_scope(live.settings.resolved_database_url) as session:
        completed = Counter(
            str(e.data.get("task_id"))
            for e in session.exec(select(Event).where(Event.kind == "task_completed")).all()
        )
        audited = Counter(
            str(a.detail.get("task_id"))
            for a in session.exec(
                select(AuditEntry).where(AuditEntry.action == "complete_task")
            ).all()
        )
        assigned = Counter(
            str(n.task_id)
            for n in session.exec(
                select(Notification).where(Notification.kind == "task_assigned")
            ).all()
        )
        for task in session.exec(select(Task)).all():
            key = str(task.id)
            done = task.status == TaskStatus.done
            if completed[key] != (1 if done else 0):
                found.append(f"task {key} is {task.status} with {completed[key]} completions")
            if audited[key] != (1 if done else 0):
                found.append(f"task {key} is {task.status} with {audited[key]} audit entries")
            if assigned[key] != 1:
                found.append(f"task {key} has {assigned[key]} task_assigned outbox rows")
        survivors = set(session.exec(select(Survivor.id)).all())
        launched = Counter(
            e.case_id
            for e in session.exec(select(Event).where(Event.kind == "case_launched")).all()
        )
        for case in session.exec(select(Case)).all():
            if case.survivor_id not in survivors:
                found.append(f"case {case.reference} has no survivor")
            if launched[case.id] != 1:
                found.append(f"case {case.reference} has {launched[case.id]} launch events")
        cased = set(session.exec(select(Case.survivor_id)).all())
        orphans = len(survivors - cased)
        if orphans:
            found.append(f"{orphans} survivor(s) without a case")
    return found


def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


# --- what the case walks share ---------------------------------------------------------

GIVEN_NAME = "Nasrin"
FAMILY_NAME = "Akhter-Testcase"

APPROVED = {
    "decision": "approved",
    "travel_document_number": "TP-0001",
    "travel_document_expires_on": (date.today() + timedelta(days=365)).isoformat(),
}


def plan(live: Live, shelter: str = "shelter") -> dict[str, Any]:
    return {
        "travel_date": (date.today() + timedelta(days=3)).isoformat(),
        "mode": "road",
        "crossing_point": "Petrapole-Benapole",
        "escort_agency_id": live.agencies["escort"],
        "receiving_shelter_id": live.agencies[shelter],
    }


def flow_run(live: Live, flow_run_id: str) -> dict[str, Any]:
    response = httpx.get(f"{live.stack.prefect_api_url}/flow_runs/{flow_run_id}", timeout=10)
    response.raise_for_status()
    return dict(response.json())


def wait_suspended(live: Live, case_id: str) -> dict[str, Any]:
    case = live.wait_case(case_id, lambda c: c["flow_run_id"] is not None, "a flow run")
    run: dict[str, Any] = {}

    def suspended() -> bool:
        run.update(flow_run(live, case["flow_run_id"]))
        return run["state"]["name"] == "Suspended"

    eventually(suspended, 60, "the flow run to suspend")
    return run


def messages_for(live: Live, agency: str, reference: str) -> list[dict[str, Any]]:
    return [m for m in live.sink.messages(agency) if reference in str(m["body"]) + str(m["title"])]


@contextmanager
def running_stack(
    data_dir: Path, *, sink: Sink | None = None, seed: bool = True, **overrides: str
) -> Iterator[Live]:
    """Start Homeward as `homeward up` does, seed one corridor, stop everything afterwards.

    With `sink`, the agencies are notified at that sink (which may outlive the stack);
    with `seed=False`, the database is taken as it is (a restored one, say)."""
    env = {
        "HOMEWARD_DATA_DIR": str(data_dir),
        "HOMEWARD_API_PORT": str(free_port()),
        "HOMEWARD_PREFECT_PORT": str(free_port()),
        "HOMEWARD_FOLLOW_UP_DAYS": "0,0",
        "HOMEWARD_SWEEP_SECONDS": "15",
        "HOMEWARD_STUCK_RUN_SECONDS": "30",
        "HOMEWARD_JWT_SECRET": secrets.token_urlsafe(40),
        # Every stack of the session and the test process itself share one key ring, so a
        # row written by a test (or another stack's fixture) decrypts in every process.
        "HOMEWARD_ENCRYPTION_KEYS": SESSION_KEYS.serialize(),
        **overrides,
    }
    # The stack reads its configuration from the environment, as `homeward up` does; it is
    # restored at once so that nothing later in the test session inherits this stack's.
    saved = {key: os.environ.get(key) for key in [*env, "PREFECT_API_URL"]}
    os.environ.update(env)
    os.environ.pop("PREFECT_API_URL", None)
    try:
        settings = Settings()
        stack = Stack.for_settings(settings)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    install_keyring(SESSION_KEYS)
    upgrade(settings.resolved_database_url)
    with contextlib.ExitStack() as cleanup:
        sink = sink or cleanup.enter_context(Sink())
        try:
            stack.start()
            with httpx.Client(base_url=stack.api_url, timeout=30) as http:
                live = Live(stack, settings, sink, http)
                if seed:
                    _seed(live)
                yield live
        finally:
            stack.stop()


def _seed(live: Live) -> None:
    """One corridor (India → Bangladesh) with a user per agency, notified at the sink."""
    with session_scope(live.settings.resolved_database_url) as session:
        admin_agency, _ = create_agency(
            session,
            data=NewAgency(name="Task force", kind="government", country="IN"),
            now=utcnow(),
        )
        create_user(
            session,
            data=NewUser(
                username="admin", password=PASSWORD, agency_id=admin_agency.id, role=Role.admin
            ),
            now=utcnow(),
        )
    agencies = {
        "coordinator": {"name": "NGO Kolkata", "kind": "ngo", "country": "IN"},
        "consul": {
            "name": "BD consulate Kolkata",
            "kind": "consulate",
            "country": "IN",
            "nationality_served": "BD",
        },
        "escort": {"name": "Escort unit", "kind": "escort", "country": "IN"},
        "shelter": {"name": "Shelter Jashore", "kind": "shelter", "country": "BD", "capacity": 20},
        "shelter2": {"name": "Shelter Dhaka", "kind": "shelter", "country": "BD", "capacity": 20},
    }
    roles = {
        "coordinator": "coordinator",
        "consul": "consular_officer",
        "escort": "escort_officer",
        "shelter": "shelter_officer",
        "shelter2": "shelter_officer",
    }
    for name, body in agencies.items():
        response = live.post(
            "admin", "/agencies", {**body, "notify_urls": [live.sink.url_for(name)]}
        )
        assert response.status_code == 201, response.text
        live.agencies[name] = response.json()["id"]
        response = live.post(
            "admin",
            "/users",
            {
                "username": name,
                "password": PASSWORD,
                "agency_id": live.agencies[name],
                "role": roles[name],
            },
        )
        assert response.status_code == 201, response.text

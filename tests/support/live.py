"""A real Homeward stack on loopback (Prefect server, runner, API) with a seeded corridor."""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from cli.stack import Stack
from core.clock import utcnow
from core.crypto import Keyring, install_keyring
from core.db import session_scope
from core.settings import Settings
from domain.agencies import NewAgency, NewUser, create_agency, create_user
from models.enums import Role
from models.migrations import upgrade
from tests.support.sink import Sink

PASSWORD = "integration-password-1"
SESSION_KEYS = Keyring.generate(source="the test session")


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
        response = self.http.get(f"/api/v1{path}", headers=self.login(who), params=params)
        response.raise_for_status()
        return response.json()

    def post(self, who: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(f"/api/v1{path}", headers=self.login(who), json=body)

    def open_task(self, who: str, case_id: str, kind: str, timeout: float = 60) -> dict[str, Any]:
        """Wait until the agency's inbox holds a task of this kind for the case."""
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
        assert response.status_code == 200, response.text
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


def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@contextmanager
def running_stack(data_dir: Path, **overrides: str) -> Iterator[Live]:
    """Start Homeward as `homeward up` does, seed one corridor, stop everything afterwards."""
    env = {
        "HOMEWARD_DATA_DIR": str(data_dir),
        "HOMEWARD_API_PORT": str(free_port()),
        "HOMEWARD_PREFECT_PORT": str(free_port()),
        "HOMEWARD_FOLLOW_UP_DAYS": "0,0",
        "HOMEWARD_SWEEP_SECONDS": "5",
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
    with Sink() as sink:
        try:
            stack.start()
            with httpx.Client(base_url=stack.api_url, timeout=30) as http:
                live = Live(stack, settings, sink, http)
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

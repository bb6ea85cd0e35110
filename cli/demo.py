"""A demo India → Bangladesh corridor with one user per agency, and a console inbox."""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlmodel import Session, select

from core.clock import utcnow
from domain.agencies import NewAgency, NewUser, create_agency, create_user
from models import Agency, User
from models.enums import AgencyKind, Role

DEMO_PASSWORD_FILE = "demo-password"  # noqa: S105  (a file name)


@dataclass(frozen=True)
class DemoAgency:
    slug: str
    name: str
    kind: AgencyKind
    country: str
    username: str
    role: Role
    nationality_served: str | None = None
    capacity: int | None = None
    child_capable: bool = False  # escorts children (female escorts too) / takes children


DEMO_AGENCIES = (
    DemoAgency(
        "ngo",
        "Demo Rescue Foundation, Kolkata",
        AgencyKind.ngo,
        "IN",
        "demo-coordinator",
        Role.coordinator,
    ),
    DemoAgency(
        "consulate",
        "Demo Bangladesh Deputy High Commission, Kolkata",
        AgencyKind.consulate,
        "IN",
        "demo-consul",
        Role.consular_officer,
        nationality_served="BD",
    ),
    DemoAgency(
        "escort",
        "Demo Border Escort Unit, Petrapole",
        AgencyKind.escort,
        "IN",
        "demo-escort",
        Role.escort_officer,
        child_capable=True,
    ),
    DemoAgency(
        "shelter",
        "Demo Shelter, Jashore",
        AgencyKind.shelter,
        "BD",
        "demo-shelter",
        Role.shelter_officer,
        capacity=40,
        child_capable=True,
    ),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    agency: str


def demo_password(data_dir: Path) -> str:
    """One random password for every demo account, kept in the data directory."""
    path = data_dir / DEMO_PASSWORD_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def create_demo(
    session: Session, *, password: str, inbox_url: str | None, focal_point: str | None = None
) -> list[DemoLogin]:
    """Create the demo agencies and users unless they exist; returns their logins. The
    corridor's focal point (`focal_point`, the name the corridors file gives it) is
    registered too, so that overdue tasks have someone to escalate to."""
    logins: list[DemoLogin] = []
    if (
        focal_point
        and session.exec(select(Agency).where(Agency.name == focal_point)).first() is None
    ):
        create_agency(
            session,
            data=NewAgency(
                name=focal_point,
                kind=AgencyKind.government,
                country="BD",
                notify_urls=[f"{inbox_url}/focal-point"] if inbox_url else [],
            ),
            now=utcnow(),
        )
    for demo in DEMO_AGENCIES:
        agency = session.exec(select(Agency).where(Agency.name == demo.name)).first()
        if agency is None:
            urls = [f"{inbox_url}/{demo.slug}"] if inbox_url else []
            agency, _ = create_agency(
                session,
                data=NewAgency(
                    name=demo.name,
                    kind=demo.kind,
                    country=demo.country,
                    nationality_served=demo.nationality_served,
                    capacity=demo.capacity,
                    notify_urls=urls,
                    escorts_children=demo.child_capable and demo.kind == AgencyKind.escort,
                    female_escorts=demo.child_capable and demo.kind == AgencyKind.escort,
                    accepts_children=demo.child_capable and demo.kind == AgencyKind.shelter,
                ),
                now=utcnow(),
            )
        if session.exec(select(User).where(User.username == demo.username)).first() is None:
            create_user(
                session,
                data=NewUser(
                    username=demo.username, password=password, agency_id=agency.id, role=demo.role
                ),
                now=utcnow(),
            )
        logins.append(DemoLogin(demo.username, demo.role, demo.name))
    admin_agency = session.exec(select(Agency).where(Agency.name == DEMO_AGENCIES[0].name)).one()
    # Closing a case after re-trafficking or lost contact is a supervisor's decision.
    if session.exec(select(User).where(User.username == "demo-supervisor")).first() is None:
        create_user(
            session,
            data=NewUser(
                username="demo-supervisor",
                password=password,
                agency_id=admin_agency.id,
                role=Role.supervisor,
            ),
            now=utcnow(),
        )
    logins.append(DemoLogin("demo-supervisor", Role.supervisor, admin_agency.name))
    if session.exec(select(User).where(User.username == "demo-admin")).first() is None:
        create_user(
            session,
            data=NewUser(
                username="demo-admin", password=password, agency_id=admin_agency.id, role=Role.admin
            ),
            now=utcnow(),
        )
    logins.append(DemoLogin("demo-admin", Role.admin, admin_agency.name))
    return logins


class ConsoleInbox:
    """Receives the demo agencies' notifications (Apprise json://) and prints them."""

    def __init__(self, port: int, log_path: Path) -> None:
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0") or 0)
                raw = self.rfile.read(min(length, 1_000_000))
                try:
                    message = json.loads(raw)
                except ValueError:
                    message = {"body": raw.decode("utf-8", "replace")}
                inbox.receive(self.path.strip("/"), message)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.log_path = log_path
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}"

    def receive(self, slug: str, message: dict[str, object]) -> None:
        # Apprise's json:// puts the text under "message".
        body = str(message.get("message", message.get("body", ""))).replace("\n", " / ")
        line = f"[inbox: {slug}] {message.get('title', '')} | {body}"
        print(line, flush=True)
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(line.replace("\n", " ") + "\n")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

"""Small builders for agencies, users, cases and the steps that move a case on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import select

from api.security import issue_token
from core.clock import utcnow
from core.db import session_scope
from core.settings import Settings
from domain.agencies import NewAgency, NewUser, create_agency, create_user
from domain.policy import policy_for
from domain.progress import Advanced, advance_case
from models import Case, Task
from models.enums import AgencyKind, Role, TaskKind

PASSWORD = "corridor-password-1"
# Survivor data planted in every launched case, to look for where it must not appear.
GIVEN_NAME = "Rupali"
FAMILY_NAME = "Khatun"
BIRTH_DATE = "2001-03-14"


def make_agency(
    settings: Settings,
    *,
    name: str,
    kind: AgencyKind,
    country: str,
    nationality_served: str | None = None,
    capacity: int | None = None,
    notify_urls: list[str] | None = None,
) -> uuid.UUID:
    data = NewAgency(
        name=name,
        kind=kind,
        country=country,
        nationality_served=nationality_served,
        capacity=capacity,
        notify_urls=notify_urls or [],
    )
    with session_scope(settings.resolved_database_url) as session:
        agency, _ = create_agency(session, data=data, now=utcnow())
        return agency.id


def make_user(
    settings: Settings, *, username: str, agency_id: uuid.UUID, role: Role, password: str = PASSWORD
) -> uuid.UUID:
    data = NewUser(username=username, password=password, agency_id=agency_id, role=role)
    with session_scope(settings.resolved_database_url) as session:
        return create_user(session, data=data, now=utcnow()).id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def headers_for(
    settings: Settings, user_id: uuid.UUID, *, now: datetime | None = None
) -> dict[str, str]:
    """Auth headers for a user without going through the (argon2-slow) login route."""
    return bearer(issue_token(settings, user_id=user_id, now=now or utcnow()))


def expired_headers(settings: Settings, user_id: uuid.UUID) -> dict[str, str]:
    return headers_for(settings, user_id, now=utcnow() - timedelta(hours=9))


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in through the API and return the auth headers."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


@dataclass(frozen=True)
class Member:
    """One agency of the corridor and the one user acting for it."""

    agency_id: uuid.UUID
    user_id: uuid.UUID
    username: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Corridor:
    """India → Bangladesh: everyone a Bangladeshi survivor's case needs, and bystanders."""

    settings: Settings
    admin: Member
    ngo: Member
    consulate: Member
    escort: Member
    shelter: Member
    other_ngo: Member
    other_shelter: Member

    @property
    def members(self) -> dict[str, Member]:
        return {
            "admin": self.admin,
            "ngo": self.ngo,
            "consulate": self.consulate,
            "escort": self.escort,
            "shelter": self.shelter,
            "other_ngo": self.other_ngo,
            "other_shelter": self.other_shelter,
        }

    def add_user(self, member: Member, *, username: str, role: Role) -> Member:
        """Another user in a member's agency, e.g. a case worker beside the coordinator."""
        user_id = make_user(self.settings, username=username, agency_id=member.agency_id, role=role)
        return Member(member.agency_id, user_id, username, headers_for(self.settings, user_id))


# (key, name, kind, country, nationality_served, capacity, role)
_CORRIDOR = [
    ("admin", "Ministry of Home Affairs", AgencyKind.government, "IN", None, None, Role.admin),
    ("ngo", "Rescue Foundation Kolkata", AgencyKind.ngo, "IN", None, None, Role.coordinator),
    (
        "consulate",
        "Bangladesh Deputy High Commission Kolkata",
        AgencyKind.consulate,
        "IN",
        "BD",
        None,
        Role.consular_officer,
    ),
    ("escort", "West Bengal Police AHTU", AgencyKind.escort, "IN", None, None, Role.escort_officer),
    ("shelter", "Jessore Shelter Home", AgencyKind.shelter, "BD", None, 12, Role.shelter_officer),
    ("other_ngo", "Mumbai Outreach", AgencyKind.ngo, "IN", None, None, Role.coordinator),
    ("other_shelter", "Dhaka Safe Home", AgencyKind.shelter, "BD", None, 4, Role.shelter_officer),
]

NOTIFY_URL = "json://hook-user:hook-secret-9f3@notify.example.org/homeward"


def corridor(settings: Settings) -> Corridor:
    """Agencies with one user each, created directly through the domain services."""
    members: dict[str, Member] = {}
    for key, name, kind, country, nationality, capacity, role in _CORRIDOR:
        agency_id = make_agency(
            settings,
            name=name,
            kind=kind,
            country=country,
            nationality_served=nationality,
            capacity=capacity,
            notify_urls=[NOTIFY_URL],
        )
        username = f"{key.replace('_', '-')}-user"
        user_id = make_user(settings, username=username, agency_id=agency_id, role=role)
        members[key] = Member(agency_id, user_id, username, headers_for(settings, user_id))
    return Corridor(settings=settings, **members)


# --- cases -----------------------------------------------------------------------------


def launch_case(
    *,
    nationality: str = "BD",
    current_country: str = "IN",
    consent: dict[str, bool] | None = None,
    **survivor: Any,
) -> dict[str, Any]:
    """The body of POST /cases; survivor fields given as keywords replace the defaults
    (a value of None removes the field)."""
    person: dict[str, Any] = {
        "given_name": GIVEN_NAME,
        "family_name": FAMILY_NAME,
        "sex": "female",
        "birth_date": BIRTH_DATE,
        "nationality": nationality,
        "languages": ["bn", "hi"],
    }
    person.update(survivor)
    return {
        "survivor": {k: v for k, v in person.items() if v is not None},
        "current_country": current_country,
        "trafficking_status": "actual",
        "consent": consent or {"repatriation": True, "data_sharing": True, "follow_up": True},
    }


def launch(client: TestClient, member: Member, **body: Any) -> dict[str, Any]:
    """Launch a case as `member` and return it."""
    response = client.post("/api/v1/cases", json=launch_case(**body), headers=member.headers)
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


def advance(settings: Settings, case_id: uuid.UUID | str) -> Advanced:
    """What the case's flow run does when woken: apply every automatic step."""
    with session_scope(settings.resolved_database_url) as session:
        return advance_case(
            session,
            case_id=uuid.UUID(str(case_id)),
            policy=policy_for(settings),
            now=utcnow(),
        )


# --- tasks -----------------------------------------------------------------------------


def tasks_of(
    client: TestClient,
    member: Member,
    case_id: str,
    kind: TaskKind | None = None,
    *,
    status: str = "open",
) -> list[dict[str, Any]]:
    """The member's tasks with this status for one case (optionally one kind), by round."""
    found = [
        t
        for t in every_page(client, member, "/api/v1/tasks", {"status": status})
        if t["case_id"] == str(case_id) and (kind is None or t["kind"] == kind)
    ]
    return sorted(found, key=lambda t: (t["kind"], t["round"]))


def pages(
    client: TestClient, member: Member, path: str, params: dict[str, Any] | None = None
) -> list[list[dict[str, Any]]]:
    """Every page of a list, following its `Link: <...>; rel="next"` header to the end."""
    found: list[list[dict[str, Any]]] = []
    url: str | None = path
    query: dict[str, Any] | None = params
    while url is not None:
        response = client.get(url, params=query, headers=member.headers)
        assert response.status_code == 200, response.text
        found.append(response.json())
        # The next page's URL carries every parameter, the cursor included.
        url, query = response.links.get("next", {}).get("url"), None
    return found


def every_page(
    client: TestClient, member: Member, path: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    return [item for page in pages(client, member, path, params) for item in page]


def open_task(
    client: TestClient, member: Member, case_id: str, kind: TaskKind, round_: int = 1
) -> dict[str, Any]:
    """The one open task of this kind and round in the member's inbox for the case."""
    found = [t for t in tasks_of(client, member, case_id, kind) if t["round"] == round_]
    assert len(found) == 1, f"expected one open {kind} for {member.username}, found {found}"
    return found[0]


def complete(client: TestClient, member: Member, task_id: str, body: dict[str, Any]) -> Response:
    return client.post(f"/api/v1/tasks/{task_id}/complete", json=body, headers=member.headers)


def approved(*, expires_in_days: int = 365) -> dict[str, Any]:
    expires_on = utcnow().date() + timedelta(days=expires_in_days)
    return {
        "decision": "approved",
        "travel_document_number": "TP-0012345",
        "travel_document_expires_on": expires_on.isoformat(),
    }


def transport_plan(c: Corridor, *, shelter: Member | None = None, **fields: Any) -> dict[str, Any]:
    # Tomorrow, so that a run across midnight never plans a journey in the past.
    plan: dict[str, Any] = {
        "travel_date": (utcnow().date() + timedelta(days=1)).isoformat(),
        "mode": "road",
        "crossing_point": "Petrapole-Benapole",
        "escort_agency_id": str(c.escort.agency_id),
        "receiving_shelter_id": str((shelter or c.shelter).agency_id),
    }
    plan.update(fields)
    return plan


# A test's case is launched moments before its departure, which cannot come earlier.
def departure(*, minutes_ago: float = 5) -> dict[str, Any]:
    return {"departed_at": (utcnow() - timedelta(minutes=minutes_ago)).isoformat()}


def handover(*, minutes_ago: float = 2) -> dict[str, Any]:
    return {"received_at": (utcnow() - timedelta(minutes=minutes_ago)).isoformat()}


def follow_up(outcome: str = "reintegrating") -> dict[str, Any]:
    return {"outcome": outcome, "notes": "attends vocational training"}


def happy_path(c: Corridor) -> list[tuple[TaskKind, Member, dict[str, Any]]]:
    """Each task of a case that goes well, who completes it, and with what."""
    return [
        (TaskKind.verify_nationality, c.consulate, approved()),
        (TaskKind.plan_transport, c.ngo, transport_plan(c)),
        (TaskKind.accept_placement, c.shelter, {"decision": "accepted"}),
        (TaskKind.confirm_departure, c.escort, departure()),
        (TaskKind.confirm_handover, c.shelter, handover()),
        (TaskKind.record_follow_up, c.shelter, follow_up()),
    ]


def walk_to(client: TestClient, c: Corridor, case_id: str, kind: TaskKind) -> dict[str, Any]:
    """Complete the happy path's tasks before `kind` that are not done yet; return the open
    task of `kind`."""
    for step_kind, member, body in happy_path(c):
        advance(c.settings, case_id)
        if step_kind != kind and tasks_of(client, member, case_id, step_kind, status="done"):
            continue
        task = open_task(client, member, case_id, step_kind)
        if step_kind == kind:
            return task
        response = complete(client, member, task["id"], body)
        assert response.status_code == 200, response.text
    raise AssertionError(f"{kind} is not on the happy path")


# --- field practice: minors, documents, shelters, time ------------------------------------


def register(
    client: TestClient,
    c: Corridor,
    *,
    name: str,
    kind: AgencyKind,
    country: str,
    role: Role,
    **fields: Any,
) -> Member:
    """Register an agency through the API as the corridor's administrator (with fields
    such as capacity, escorts_children, female_escorts, accepts_children) and give it one
    user."""
    body = {"name": name, "kind": kind, "country": country, "notify_urls": [NOTIFY_URL]}
    response = client.post("/api/v1/agencies", json=body | fields, headers=c.admin.headers)
    assert response.status_code == 201, response.text
    agency_id = uuid.UUID(response.json()["id"])
    username = "-".join(name.lower().split())[:40]
    user_id = make_user(c.settings, username=username, agency_id=agency_id, role=role)
    return Member(agency_id, user_id, username, headers_for(c.settings, user_id))


def birth_date_for(age: int, *, on: date) -> str:
    """A birth date that makes a survivor `age` years old on `on` and on the days around
    it: the next birthday is a month after `on`."""
    birthday = on + timedelta(days=30)
    year = birthday.year - age - 1
    if (birthday.month, birthday.day) == (2, 29):
        birthday -= timedelta(days=1)
    return birthday.replace(year=year).isoformat()


def travel_day(days: int = 1) -> date:
    return utcnow().date() + timedelta(days=days)


def case_of(client: TestClient, member: Member, case_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{case_id}", headers=member.headers)
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()
    return case


def timeline_of(client: TestClient, member: Member, case_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/cases/{case_id}/timeline", headers=member.headers)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


def shift_tasks_back(settings: Settings, case_id: str, by: timedelta) -> None:
    """Move every time on the case's tasks `by` into the past, as if all of it had
    happened that much earlier (deadlines move with the times they count from)."""
    with session_scope(settings.resolved_database_url) as session:
        for task in session.exec(select(Task).where(Task.case_id == uuid.UUID(case_id))).all():
            task.opened_at -= by
            task.due_at -= by
            if task.completed_at is not None:
                task.completed_at -= by
            session.add(task)


def set_travel_document_expiry(settings: Settings, case_id: str, expires_on: date) -> None:
    """Time passing for the travel document: it now runs out on `expires_on`."""
    with session_scope(settings.resolved_database_url) as session:
        case = session.get_one(Case, uuid.UUID(case_id))
        case.travel_document_expires_on = expires_on
        session.add(case)


# --- transfers, duplicates, closure and escalation -------------------------------------


def add_shelter(
    c: Corridor, *, name: str, capacity: int | None, username: str, country: str = "BD"
) -> Member:
    """One more receiving shelter, with a shelter officer acting for it."""
    agency_id = make_agency(
        c.settings,
        name=name,
        kind=AgencyKind.shelter,
        country=country,
        capacity=capacity,
        notify_urls=[NOTIFY_URL],
    )
    user_id = make_user(
        c.settings, username=username, agency_id=agency_id, role=Role.shelter_officer
    )
    return Member(agency_id, user_id, username, headers_for(c.settings, user_id))


def supervisor_of(c: Corridor, member: Member, *, username: str = "ngo-supervisor") -> Member:
    """A supervisor beside the member's user, in the same agency."""
    return c.add_user(member, username=username, role=Role.supervisor)


def place_case(
    client: TestClient,
    c: Corridor,
    shelter: Member,
    *,
    coordinator: Member | None = None,
    **who: Any,
) -> str:
    """Launch a case and walk it until `shelter` has accepted the placement (the survivor
    holds a place there); return the case id. Give another survivor's name in `who` when
    the corridor already has a case, or it is flagged as a likely duplicate."""
    ngo = coordinator or c.ngo
    case_id: str = launch(client, ngo, **who)["id"]
    steps: list[tuple[TaskKind, Member, dict[str, Any]]] = [
        (TaskKind.verify_nationality, c.consulate, approved()),
        (TaskKind.plan_transport, ngo, transport_plan(c, shelter=shelter)),
        (TaskKind.accept_placement, shelter, {"decision": "accepted"}),
    ]
    for kind, member, body in steps:
        advance(c.settings, case_id)
        task = open_task(client, member, case_id, kind)
        response = complete(client, member, task["id"], body)
        assert response.status_code == 200, response.text
    advance(c.settings, case_id)
    return case_id


def outbox(settings: Settings, case_id: str) -> list[Any]:
    """The case's outbox rows (models.Notification) in the order written."""
    from sqlmodel import col, select

    from models import Notification

    with session_scope(settings.resolved_database_url) as session:
        return list(
            session.exec(
                select(Notification)
                .where(Notification.case_id == uuid.UUID(str(case_id)))
                .order_by(col(Notification.created_at))
            ).all()
        )


def timeline_kinds(client: TestClient, member: Member, case_id: str) -> list[str]:
    response = client.get(f"/api/v1/cases/{case_id}/timeline", headers=member.headers)
    assert response.status_code == 200, response.text
    return [event["kind"] for event in response.json()]

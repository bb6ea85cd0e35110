"""What a page costs beside the JSON route that reads the same data, at scale.

Seeds N cases (default 100,000) on SQLite through Homeward's own tables: one NGO
coordinates them all, one consulate has an open verification task on each. Then, in
process (no network), asks each pair in turn, R times, signed in as the page user and
with a bearer token for the JSON route:

- the NGO's case list:      GET /cases            vs GET /api/v1/cases
- the consulate's inbox:    GET /inbox            vs GET /api/v1/tasks?status=open
- one case:                 GET /cases/{ref}      vs GET /api/v1/cases/{id}
- the NGO's dashboard:      GET /dashboard        (no JSON twin: its own figures)

Prints median and p95 in milliseconds and the page/JSON ratio of medians: the JSON route
is the baseline measured in the same run, on the same data.
Run: .venv/bin/python -m bench.pages [--cases 100000] [--rounds 30]
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from sqlmodel import Session

from api.app import create_app
from api.security import issue_token
from core.clock import utcnow
from core.db import engine_for
from core.settings import Settings
from domain.agencies import NewAgency, NewUser, create_agency, create_user
from domain.cases import new_reference
from models import Case, Survivor, Task
from models.enums import Role, Sex, TaskKind
from models.migrations import upgrade

PASSWORD = "bench-password-123"  # noqa: S105
BATCH = 5_000


def seed(settings: Settings, cases: int) -> dict[str, uuid.UUID]:
    now = utcnow()
    engine = engine_for(settings.resolved_database_url)
    with Session(engine) as session:
        ngo, _ = create_agency(
            session, data=NewAgency(name="Bench NGO", kind="ngo", country="IN"), now=now
        )
        consulate, _ = create_agency(
            session,
            data=NewAgency(
                name="Bench consulate", kind="consulate", country="IN", nationality_served="BD"
            ),
            now=now,
        )
        users = {}
        for name, agency, role in (
            ("bench-coordinator", ngo, Role.coordinator),
            ("bench-consul", consulate, Role.consular_officer),
        ):
            user = create_user(
                session,
                data=NewUser(username=name, password=PASSWORD, agency_id=agency.id, role=role),
                now=now,
            )
            users[name] = user.id
        session.commit()
        ngo_id, consulate_id = ngo.id, consulate.id
    references: set[str] = set()
    with Session(engine) as session:
        for start in range(0, cases, BATCH):
            survivors, rows, tasks = [], [], []
            for i in range(start, min(start + BATCH, cases)):
                survivor_id, case_id = uuid.uuid4(), uuid.uuid4()
                reference = new_reference()
                while reference in references:
                    reference = new_reference()
                references.add(reference)
                at = now - timedelta(minutes=cases - i)
                survivors.append(
                    {
                        "id": survivor_id,
                        "given_name": f"Given{i}",
                        "family_name": f"Family{i}",
                        "sex": Sex.female if i % 2 else Sex.male,
                        "age_estimate": 18 + i % 40,
                        "nationality": "BD",
                        "languages": ["bn"],
                    }
                )
                rows.append(
                    {
                        "id": case_id,
                        "reference": reference,
                        "survivor_id": survivor_id,
                        "coordinator_agency_id": ngo_id,
                        "created_by_user_id": users["bench-coordinator"],
                        "current_country": "IN",
                        "trafficking_status": "actual",
                        "consent_repatriation": True,
                        "consent_data_sharing": True,
                        "consent_follow_up": True,
                        "stage": "consular_verification",
                        "consulate_agency_id": consulate_id,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                tasks.append(
                    {
                        "id": uuid.uuid4(),
                        "case_id": case_id,
                        "kind": TaskKind.verify_nationality,
                        "agency_id": consulate_id,
                        "opened_at": at,
                        "due_at": at + timedelta(days=30),
                    }
                )
            session.execute(insert(Survivor), survivors)
            session.execute(insert(Case), rows)
            session.execute(insert(Task), tasks)
            session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
    return users


def timed(call: Callable[[], object], rounds: int) -> list[float]:
    call()  # warm: templates compiled, caches filled
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    rounds = max(3, min(args.rounds, 500))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        settings = Settings(
            data_dir=Path(tmp), database_url=url, jwt_secret=secrets.token_urlsafe(36)
        )
        start = time.perf_counter()
        users = seed(settings, args.cases)
        print(f"seeded {args.cases} cases in {time.perf_counter() - start:.1f} s")
        app = create_app(settings, wake_case=lambda _s, _c: True, prefect_healthy=lambda: True)

        def browser(username: str) -> TestClient:
            client = TestClient(app)
            form = client.get("/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
            client.post("/login", data={"username": username, "password": PASSWORD, "csrf": csrf})
            return client

        def bearer(username: str) -> dict[str, str]:
            token = issue_token(settings, user_id=users[username], now=utcnow())
            return {"Authorization": f"Bearer {token}"}

        ngo, consul = browser("bench-coordinator"), browser("bench-consul")
        ngo_api, consul_api = bearer("bench-coordinator"), bearer("bench-consul")
        first = ngo.get("/api/v1/cases", params={"limit": 1}, headers=ngo_api).json()[0]

        def check(answer: object) -> object:
            assert getattr(answer, "status_code", 200) == 200, answer
            return answer

        pairs = [
            (
                "case list (NGO)",
                lambda: check(ngo.get("/cases")),
                lambda: check(ngo.get("/api/v1/cases", headers=ngo_api)),
            ),
            (
                "inbox (consulate)",
                lambda: check(consul.get("/inbox")),
                lambda: check(consul.get("/api/v1/tasks?status=open", headers=consul_api)),
            ),
            (
                "one case (NGO)",
                lambda: check(ngo.get(f"/cases/{first['reference']}")),
                lambda: check(ngo.get(f"/api/v1/cases/{first['id']}", headers=ngo_api)),
            ),
        ]
        print(f"\n{args.cases} cases, {rounds} requests each, milliseconds")
        columns = ("page p50", "page p95", "JSON p50", "JSON p95")
        print(f"{'what':<20} " + " ".join(f"{c:>9}" for c in columns) + f" {'ratio':>6}")
        for name, page_call, json_call in pairs:
            pages, answers = timed(page_call, rounds), timed(json_call, rounds)
            ratio = statistics.median(pages) / statistics.median(answers)
            print(
                f"{name:<20} {statistics.median(pages):>9.1f} {p95(pages):>9.1f} "
                f"{statistics.median(answers):>9.1f} {p95(answers):>9.1f} {ratio:>6.2f}"
            )
        board = timed(lambda: check(ngo.get("/dashboard")), rounds)
        print(f"{'dashboard (NGO)':<20} {statistics.median(board):>9.1f} {p95(board):>9.1f}")
        engine_for(url).dispose()


if __name__ == "__main__":
    main()

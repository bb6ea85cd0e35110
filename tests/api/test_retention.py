"""Purging personal data from long-closed cases keeps every aggregate figure."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from core.clock import utcnow
from core.db import session_scope
from core.settings import Settings
from domain.retention import TOMBSTONE, cases_to_purge, purge_case
from domain.statistics import case_figures
from models import AuditEntry, Case, Survivor, Task
from models.enums import TaskKind
from tests import factories
from tests.factories import BIRTH_DATE, FAMILY_NAME, GIVEN_NAME, Corridor


def _closed_case(
    client: TestClient, corridor: Corridor, settings: Settings, **survivor: str
) -> str:
    case_id = factories.launch(client, corridor.ngo, **survivor)["id"]
    factories.walk_to(client, corridor, case_id, TaskKind.record_follow_up)
    for task in factories.tasks_of(client, corridor.shelter, case_id, TaskKind.record_follow_up):
        body = {"outcome": "at_risk", "notes": f"{GIVEN_NAME} moved to her aunt's village"}
        assert factories.complete(client, corridor.shelter, task["id"], body).status_code == 200
    factories.advance(settings, case_id)
    return case_id


def _rejected_case(client: TestClient, corridor: Corridor, settings: Settings) -> str:
    case_id = factories.launch(client, corridor.ngo, birth_date=None, age_estimate=15)["id"]
    verify = factories.walk_to(client, corridor, case_id, TaskKind.verify_nationality)
    body = {"decision": "rejected", "reason": f"{FAMILY_NAME} family unknown in the register"}
    assert factories.complete(client, corridor.consulate, verify["id"], body).status_code == 200
    factories.advance(settings, case_id)
    return case_id


def test_purge_keeps_the_figures_and_removes_what_identifies(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    closed = _closed_case(client, corridor, settings)
    rejected = _rejected_case(client, corridor, settings)
    still_open = factories.launch(client, corridor.ngo)["id"]
    url = settings.resolved_database_url
    with session_scope(url) as session:
        before = case_figures(session)
        # Closed a moment ago: nothing is due yet; with no waiting period both are.
        assert cases_to_purge(session, closed_for=timedelta(days=1), now=utcnow()) == []
        due = cases_to_purge(session, closed_for=timedelta(0), now=utcnow() + timedelta(seconds=1))
    assert sorted(map(str, due)) == sorted([closed, rejected])

    with session_scope(url) as session:
        for case_id in due:
            assert purge_case(session, case_id=case_id, now=utcnow())
    with session_scope(url) as session:
        assert case_figures(session) == before
        assert not purge_case(session, case_id=due[0], now=utcnow())  # once only
        for case_id in due:
            case = session.get_one(Case, case_id)
            survivor = session.get_one(Survivor, case.survivor_id)
            assert case.purged_at is not None and case.travel_document_number is None
            assert (survivor.given_name, survivor.family_name) == (TOMBSTONE, TOMBSTONE)
            assert survivor.birth_date is None and survivor.age_estimate is None
            payloads = [
                t.payload for t in session.exec(select(Task).where(Task.case_id == case_id))
            ]
            text = str(payloads)
            assert GIVEN_NAME not in text and FAMILY_NAME not in text
        audited = session.exec(select(AuditEntry).where(AuditEntry.action == "purge")).all()
        assert sorted(str(a.case_id) for a in audited) == sorted(map(str, due))
        kept = session.get_one(Case, uuid.UUID(still_open))
        assert kept.purged_at is None

    seen = client.get(f"/api/v1/cases/{closed}", headers=corridor.ngo.headers).json()
    assert seen["purged_at"] is not None
    assert seen["survivor"] == {
        "purged": True,
        "sex": "female",
        "age_band": "18-25",
        "nationality": "BD",
    }
    everything = client.get(f"/api/v1/cases/{closed}/timeline", headers=corridor.ngo.headers)
    assert "case_purged" in everything.text
    for response in (
        everything,
        client.get(f"/api/v1/cases/{closed}", headers=corridor.ngo.headers),
    ):
        assert GIVEN_NAME not in response.text and BIRTH_DATE not in response.text

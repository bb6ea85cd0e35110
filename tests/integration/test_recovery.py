"""Cases keep moving when a process dies or a resume never happens."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import httpx
import pytest
from sqlmodel import select

from core.clock import utcnow
from core.db import session_scope
from domain.policy import policy_for
from domain.tasks import complete_task
from models import User
from tests.integration.test_case_lifecycle import launch
from tests.support.live import APPROVED, Live, eventually, flow_run, messages_for, wait_suspended

pytestmark = pytest.mark.stack


def duplicates(live: Live, reference: str) -> list[str]:
    seen = Counter(
        (agency, m["title"])
        for agency in live.agencies
        for m in messages_for(live, agency, reference)
    )
    return [f"{agency}: {title}" for (agency, title), n in seen.items() if n > 1]


def test_runner_killed_while_case_waits_then_case_continues(live: Live) -> None:
    case = launch(live)
    case_id, reference = case["id"], case["reference"]
    wait_suspended(live, case_id)
    eventually(lambda: len(messages_for(live, "consul", reference)) == 1, 30, "consul notice")

    live.stack.kill("runner")
    try:
        task = live.open_task("consul", case_id, "verify_nationality")
        response = live.post("consul", f"/tasks/{task['id']}/complete", APPROVED)
        assert response.status_code == 200, response.text
        assert live.case("coordinator", case_id)["stage"] == "consular_verification"
    finally:
        live.stack.start_runner()

    live.open_task("coordinator", case_id, "plan_transport")
    live.wait_case(case_id, lambda c: c["stage"] == "safe_transport", "safe transport")
    eventually(
        lambda: len(messages_for(live, "coordinator", reference)) == 1,
        30,
        "the coordinator's plan_transport notice",
    )
    assert duplicates(live, reference) == []


def test_sweeper_resumes_a_case_whose_resume_never_happened(live: Live) -> None:
    case = launch(live)
    case_id = case["id"]
    wait_suspended(live, case_id)
    task = live.open_task("consul", case_id, "verify_nationality")
    # The decision is recorded, but nobody calls resume (as when Prefect was unreachable).
    with session_scope(live.settings.resolved_database_url) as session:
        consul = session.exec(select(User).where(User.username == "consul")).one()
        complete_task(
            session,
            user=consul,
            task_id=uuid.UUID(task["id"]),
            body=APPROVED,
            policy=policy_for(live.settings),
            now=utcnow(),
        )
    live.open_task("coordinator", case_id, "plan_transport", timeout=90)


def test_crashed_flow_run_is_replaced_when_the_case_is_woken(live: Live) -> None:
    case = launch(live)
    case_id, reference = case["id"], case["reference"]
    run = wait_suspended(live, case_id)
    response = httpx.post(
        f"{live.stack.prefect_api_url}/flow_runs/{run['id']}/set_state",
        json={"state": {"type": "CRASHED", "name": "Crashed"}, "force": True},
        timeout=10,
    )
    assert response.status_code in (200, 201), response.text

    live.complete("consul", case_id, "verify_nationality", APPROVED)
    live.open_task("coordinator", case_id, "plan_transport")
    moved = live.case("coordinator", case_id)
    assert moved["flow_run_id"] != run["id"]
    assert flow_run(live, moved["flow_run_id"])["name"] == reference
    timeline = [e["kind"] for e in live.get("coordinator", f"/cases/{case_id}/timeline")]
    assert timeline.count("flow_run_started") == 2
    assert duplicates(live, reference) == []


def test_case_without_consulate_waits_until_one_is_registered(live: Live) -> None:
    case = launch(live, nationality="LK")
    case_id, reference = case["id"], case["reference"]
    blocked = live.wait_case(
        case_id, lambda c: c["blocked_reason"] == "no_consulate", "the case to be blocked"
    )
    assert blocked["stage"] == "identification"
    wait_suspended(live, case_id)

    response = live.post(
        "admin",
        "/agencies",
        {
            "name": "Sri Lanka consulate Chennai",
            "kind": "consulate",
            "country": "IN",
            "nationality_served": "LK",
            "notify_urls": [live.sink.url_for("lk-consul")],
        },
    )
    assert response.status_code == 201, response.text
    moved = live.wait_case(
        case_id, lambda c: c["stage"] == "consular_verification", "verification to start"
    )
    assert moved["blocked_reason"] is None
    eventually(
        lambda: len(messages_for(live, "lk-consul", reference)) == 1,
        30,
        "the new consulate's notification",
    )


def test_run_left_running_by_a_dead_process_is_replaced(live: Live) -> None:
    case = launch(live)
    case_id = case["id"]
    run = wait_suspended(live, case_id)
    # What a runner killed mid-pass leaves behind: RUNNING, with no process behind it.
    response = httpx.post(
        f"{live.stack.prefect_api_url}/flow_runs/{run['id']}/set_state",
        json={"state": {"type": "RUNNING", "name": "Running"}, "force": True},
        timeout=10,
    )
    assert response.status_code in (200, 201), response.text
    task = live.open_task("consul", case_id, "verify_nationality")
    assert live.post("consul", f"/tasks/{task['id']}/complete", APPROVED).status_code == 200
    time.sleep(5)
    # Within the stuck threshold (30 s in this stack) the run is trusted to finish...
    assert live.case("coordinator", case_id)["flow_run_id"] == run["id"]
    # ...then the sweeper replaces it and the decision moves the case on.
    live.open_task("coordinator", case_id, "plan_transport", timeout=120)
    assert live.case("coordinator", case_id)["flow_run_id"] != run["id"]
    assert flow_run(live, run["id"])["state"]["type"] == "CRASHED"

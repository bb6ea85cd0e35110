"""No process fault loses a decision or sends a notification twice.

Each test breaks one part of a real stack (its own, so that a failure here leaves the
session's stack alone), lets it come back, and ends with every case in the stage its
decisions call for and the sink holding each notification exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.test_case_lifecycle import launch
from tests.support.live import (
    APPROVED,
    Live,
    eventually,
    flow_run,
    inconsistencies,
    one_of_many,
    plan,
    running_stack,
    wait_delivered,
    wait_suspended,
)

pytestmark = [pytest.mark.stack, pytest.mark.faults]

DECISIONS_WHILE_PREFECT_IS_DOWN = 4
REQUESTS_IN_FLIGHT = 8


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running_stack(tmp_path_factory.mktemp("homeward-faults")) as stack:
        yield stack


def report(what: str, **counts: int) -> None:
    print(f"\n{what}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


def launch_waiting(live: Live, n: int) -> list[dict[str, Any]]:
    """n cases whose flow runs are suspended, each consulate task open and notified."""
    cases = [launch(live) for _ in range(n)]
    ids = [c["id"] for c in cases]

    def suspended() -> bool:
        runs = [live.case("coordinator", case_id)["flow_run_id"] for case_id in ids]
        return all(r and flow_run(live, r)["state"]["name"] == "Suspended" for r in runs)

    eventually(suspended, 240, f"{n} flow runs to suspend")
    wait_delivered(live, ids, timeout=120)
    return cases


def departure() -> dict[str, str]:
    return {"departed_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}


def handover() -> dict[str, str]:
    return {"received_at": (datetime.now(UTC) - timedelta(minutes=2)).isoformat()}


FOLLOW_UP = {"outcome": "reintegrating", "notes": "settled"}


def test_runner_killed_while_a_run_executes_a_stage(live: Live) -> None:
    case = launch_waiting(live, 1)[0]
    case_id = case["id"]
    run_id = live.case("coordinator", case_id)["flow_run_id"]
    task = live.open_task("consul", case_id, "verify_nationality")

    assert live.post("consul", f"/tasks/{task['id']}/complete", APPROVED).status_code == 200
    deadline = time.monotonic() + 30
    while flow_run(live, run_id)["state"]["type"] != "RUNNING":
        assert time.monotonic() < deadline, "the resumed run never ran"
        time.sleep(0.05)
    live.stack.kill("runner")  # with it the run's process: the run is left RUNNING
    try:
        state = flow_run(live, run_id)["state"]["type"]
        passed = live.case("coordinator", case_id)["stage"] == "safe_transport"
        report("runner killed mid-pass", pass_committed_before_kill=int(passed))
        assert state == "RUNNING"
    finally:
        live.stack.start_service("runner")

    # The decision is applied (by the killed pass, or by the run that replaces it once the
    # sweeper finds it stuck), and the next decision moves the case on again.
    live.open_task("coordinator", case_id, "plan_transport", timeout=150)
    live.complete("coordinator", case_id, "plan_transport", plan(live))
    live.open_task("shelter", case_id, "accept_placement", timeout=150)
    assert live.case("coordinator", case_id)["stage"] == "safe_transport"
    ledger = wait_delivered(live, [case_id])
    report("runner killed mid-pass", **vars(ledger))
    assert ledger.expected == 3  # consulate, coordinator (plan), shelter (placement)
    assert inconsistencies(live) == []


def test_decisions_taken_while_prefect_is_down_wait_and_then_resume(live: Live) -> None:
    cases = launch_waiting(live, DECISIONS_WHILE_PREFECT_IS_DOWN)
    ids = [c["id"] for c in cases]
    tasks = [live.open_task("consul", case_id, "verify_nationality") for case_id in ids]

    live.stack.kill("prefect-server")
    try:
        answers = [live.post("consul", f"/tasks/{t['id']}/complete", APPROVED) for t in tasks]
        assert [a.status_code for a in answers] == [202] * len(tasks), [a.text for a in answers]
        assert all(a.json()["case_waiting_to_resume"] for a in answers)
        assert {a.headers["Location"] for a in answers} == {f"/api/v1/cases/{i}" for i in ids}
        done = {t["id"] for t in live.get("consul", "/tasks", status="done")}
        recorded = sum(t["id"] in done for t in tasks)
        assert recorded == len(tasks)
        time.sleep(6)  # past the few seconds a resume normally takes
        waiting = [live.case("coordinator", case_id) for case_id in ids]
        assert all(c["waiting_to_resume"] for c in waiting)
        assert {c["stage"] for c in waiting} == {"consular_verification"}
    finally:
        live.stack.start_service("prefect-server")

    for case_id in ids:
        live.open_task("coordinator", case_id, "plan_transport", timeout=180)
    moved = [live.case("coordinator", case_id) for case_id in ids]
    assert {c["stage"] for c in moved} == {"safe_transport"}
    assert not any(c["waiting_to_resume"] for c in moved)
    ledger = wait_delivered(live, ids)
    report(
        "Prefect down",
        decisions_posted=len(tasks),
        recorded=recorded,
        answered_202=len(answers),
        resumed=len(moved),
        **vars(ledger),
    )
    assert ledger.expected == 2 * len(ids)  # the consulate's task, the coordinator's plan
    assert inconsistencies(live) == []


def test_api_killed_with_requests_in_flight(live: Live) -> None:
    half = REQUESTS_IN_FLIGHT // 2
    waiting = launch_waiting(live, half)
    tasks = [live.open_task("consul", c["id"], "verify_nationality") for c in waiting]
    before = {c["id"] for c in live.get("coordinator", "/cases")}
    consul, coordinator = live.login("consul"), live.login("coordinator")
    url = live.stack.api_url

    def decide(task: dict[str, Any]) -> int | None:
        return send("POST", f"/api/v1/tasks/{task['id']}/complete", consul, APPROVED)

    def new_case(_: int) -> int | None:
        return send("POST", "/api/v1/cases", coordinator, launch_body())

    def send(method: str, path: str, headers: dict[str, str], body: Any) -> int | None:
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                return client.request(method, path, headers=headers, json=body).status_code
        except httpx.HTTPError:
            return None  # the API died with the request in flight

    with ThreadPoolExecutor(REQUESTS_IN_FLIGHT) as pool:
        futures = [pool.submit(decide, t) for t in tasks]
        futures += [pool.submit(new_case, n) for n in range(half)]
        # Once the first answer is out, the others are somewhere between the socket
        # and the commit: kill the API there.
        wait(futures, timeout=30, return_when=FIRST_COMPLETED)
        live.stack.kill("api")
        wait(futures, timeout=60)
    codes = [f.result() for f in futures]
    live.stack.start_service("api")

    assert inconsistencies(live) == []  # every request happened entirely or not at all
    done = {t["id"] for t in live.get("consul", "/tasks", status="done")}
    for task, code in zip(tasks, codes[:half], strict=True):
        if code is not None:
            assert code in (200, 202) and task["id"] in done
    launched = [c["id"] for c in live.get("coordinator", "/cases") if c["id"] not in before]
    answered_launches = sum(code == 201 for code in codes[half:])
    assert answered_launches <= len(launched) <= half
    report(
        "API killed",
        requests=len(codes),
        answered=sum(c is not None for c in codes),
        cut_off=sum(c is None for c in codes),
        decisions_recorded=sum(t["id"] in done for t in tasks),
        launches_recorded=len(launched),
    )

    # The restarted API takes what was lost; every case then moves on by itself.
    for task in tasks:
        if task["id"] not in done:
            response = live.post("consul", f"/tasks/{task['id']}/complete", APPROVED)
            assert response.status_code in (200, 202), response.text
    for case in waiting:
        live.open_task("coordinator", case["id"], "plan_transport", timeout=150)
    for case_id in launched:
        live.open_task("consul", case_id, "verify_nationality", timeout=150)
    ids = [c["id"] for c in waiting] + launched
    ledger = wait_delivered(live, ids)
    report("API killed", **vars(ledger))
    assert ledger.expected == 2 * len(waiting) + len(launched)
    assert inconsistencies(live) == []


def launch_body() -> dict[str, Any]:
    return {
        "survivor": {"given_name": "Rupa", "family_name": one_of_many("Khatun"), "sex": "female",
                     "age_estimate": 22, "nationality": "BD", "languages": ["bn"]},
        "current_country": "IN",
        "trafficking_status": "actual",
        "consent": {"repatriation": True, "data_sharing": True, "follow_up": True},
    }  # fmt: skip


# Where each case stands before the crash: the decisions that bring it there, the decision
# taken just before the crash, and where that decision must bring it.
STAGES: dict[str, tuple[int, str, str]] = {
    # name: (decisions before, next task's agency and kind, stage after the next decision)
    "verification": (0, "consul:verify_nationality", "safe_transport"),
    "planning": (1, "coordinator:plan_transport", "safe_transport"),
    "placement": (2, "shelter:accept_placement", "safe_transport"),
    "departure": (3, "escort:confirm_departure", "shelter_handover"),
    "handover": (4, "shelter:confirm_handover", "reintegration_followup"),
    "follow-up": (5, "shelter:record_follow_up", "reintegration_followup"),
}


def test_whole_stack_killed_with_cases_in_every_stage(live: Live) -> None:
    blocked = launch(live, nationality="LK")
    cases = {name: launch(live)["id"] for name in STAGES}
    path = ["consul:verify_nationality", "coordinator:plan_transport",
            "shelter:accept_placement", "escort:confirm_departure",
            "shelter:confirm_handover", "shelter:record_follow_up"]  # fmt: skip
    for step in range(5):  # walk every case to its place, all cases a step at a time
        for name, case_id in cases.items():
            if STAGES[name][0] > step:
                who, kind = path[step].split(":")
                live.complete(who, case_id, kind, body_for(live, kind))
    for name, case_id in cases.items():
        who, kind = STAGES[name][1].split(":")
        live.open_task(who, case_id, kind, timeout=120)
        wait_suspended(live, case_id)
    live.wait_case(blocked["id"], lambda c: c["blocked_reason"] == "no_consulate", "blocked")

    # The next decision for every case, then the power goes.
    for name, case_id in cases.items():
        who, kind = STAGES[name][1].split(":")
        live.complete(who, case_id, kind, body_for(live, kind))
    live.stack.kill_all()
    live.stack.start()

    response = live.post(
        "admin",
        "/agencies",
        {"name": "LK consulate", "kind": "consulate", "country": "IN",
         "nationality_served": "LK", "notify_urls": [live.sink.url_for("lk-consul")]},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    live.agencies["lk-consul"] = response.json()["id"]
    live.wait_case(
        blocked["id"], lambda c: c["stage"] == "consular_verification", "unblocked", timeout=180
    )
    for name, case_id in cases.items():
        expected = STAGES[name][2]
        live.wait_case(case_id, lambda c, e=expected: c["stage"] == e, f"{name}", timeout=180)
    live.open_task("coordinator", cases["verification"], "plan_transport")
    live.open_task("shelter", cases["planning"], "accept_placement")
    live.open_task("escort", cases["placement"], "confirm_departure")
    live.open_task("shelter", cases["departure"], "confirm_handover")
    live.open_task("shelter", cases["handover"], "record_follow_up")
    ids = [blocked["id"], *cases.values()]
    ledger = wait_delivered(live, ids, timeout=120)
    report("whole stack killed", decisions_posted=len(cases), **vars(ledger))
    assert inconsistencies(live) == []


def body_for(live: Live, kind: str) -> dict[str, Any]:
    return {
        "verify_nationality": APPROVED,
        "plan_transport": plan(live),
        "accept_placement": {"decision": "accepted"},
        "confirm_departure": departure(),
        "confirm_handover": handover(),
        "record_follow_up": FOLLOW_UP,
    }[kind]


@pytest.fixture(autouse=True)
def _stack_is_whole(live: Live) -> Iterator[None]:
    """A test that failed half-way must not leave the next one a broken stack."""
    yield
    for name in ("prefect-server", "runner", "api"):
        if all(s.name != name for s in live.stack.services):
            live.stack.start_service(name)

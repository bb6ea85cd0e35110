"""A burst of decisions: N consulate approvals posted at once on the embedded default.

Starts Homeward as `homeward up` does (local Prefect server on SQLite, Homeward on SQLite,
one runner, the default sweep interval and runner limit), launches N cases and waits until
each flow run is suspended on its consulate's task, then posts the N approvals concurrently
and measures:

- the response time of each decision, and how many answered 200, 202 or an error;
- decision → notification under the burst: from a decision's answer to the coordinator's
  "plan transport" message arriving at the sink;
- the drain time: from the last decision answered to every case in its next stage with
  every notification delivered;
- baseline, in the same run: decision → notification one case at a time, before the burst.

Prints a table. Run: .venv/bin/python -m bench.burst [--decisions 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import col, func, select

from core.db import session_scope
from models import Case, Task
from models.enums import Stage, TaskKind, TaskStatus
from tests.support.live import Ledger, Live, eventually, ledger, one_of_many, running_stack

APPROVAL = {
    "decision": "approved",
    "travel_document_number": "TP-BURST",
    "travel_document_expires_on": (date.today() + timedelta(days=365)).isoformat(),
}
CASE_BODY = {
    "survivor": {
        "given_name": "Burst",
        "family_name": "Case",
        "sex": "female",
        "age_estimate": 30,
        "nationality": "BD",
        "languages": ["bn"],
    },
    "current_country": "IN",
    "trafficking_status": "actual",
    "consent": {"repatriation": True, "data_sharing": True, "follow_up": True},
}
# The embedded default, not the faster sweep the test stacks use: a decision that Prefect
# could not take waits for the sweeper as it would on an operator's machine.
DEFAULTS = {"HOMEWARD_SWEEP_SECONDS": "60", "HOMEWARD_STUCK_RUN_SECONDS": "300"}
CLIENTS = 50  # concurrent HTTP connections posting the burst


@dataclass
class Burst:
    posted: int = 0
    codes: Counter[int | str] = field(default_factory=Counter)
    response_seconds: list[float] = field(default_factory=list)
    notification_seconds: list[float] = field(default_factory=list)
    drain_seconds: float = 0.0
    ledger: Ledger | None = None
    at_next_stage: int = 0


@contextmanager
def burst_stack(data_dir: Path, **overrides: str) -> Iterator[Live]:
    with running_stack(data_dir, **{**DEFAULTS, **overrides}) as live:
        yield live


def _another_case() -> dict[str, Any]:
    survivor = CASE_BODY["survivor"]
    return {**CASE_BODY, "survivor": {**survivor, "family_name": one_of_many("Khatun")}}


def launch_waiting(live: Live, n: int, timeout: float) -> list[dict[str, Any]]:
    """n cases, each with its consulate task open and notified and its flow run suspended."""
    live.login("coordinator")
    with ThreadPoolExecutor(8) as pool:
        responses = list(
            pool.map(lambda _: live.post("coordinator", "/cases", _another_case()), range(n))
        )
    cases = [r.raise_for_status().json() for r in responses]
    ids = [c["id"] for c in cases]
    eventually(
        lambda: _open_tasks(live, ids, TaskKind.verify_nationality) == n,
        timeout,
        f"{n} consulate tasks",
    )
    eventually(lambda: ledger(live, ids).complete, timeout, "the consulate notifications")
    eventually(lambda: _suspended(live, ids) == n, timeout, f"{n} suspended flow runs")
    return cases


def run_burst(live: Live, cases: list[dict[str, Any]], timeout: float) -> Burst:
    """Post one approval per case at once; wait until every case moved on and was notified."""
    tasks = {t["case_id"]: t["id"] for t in live.get("consul", "/tasks", status="open")}
    headers = live.login("consul")
    result = Burst(posted=len(cases))
    answered: dict[str, float] = {}

    def decide(case: dict[str, Any]) -> None:
        started = time.monotonic()
        path = f"/api/v1/tasks/{tasks[case['id']]}/complete"
        try:
            with httpx.Client(base_url=live.stack.api_url, timeout=60) as client:
                code: int | str = client.post(path, headers=headers, json=APPROVAL).status_code
        except httpx.HTTPError as error:
            code = type(error).__name__
        answered[case["id"]] = time.monotonic()
        result.response_seconds.append(answered[case["id"]] - started)
        result.codes[code] += 1

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(decide, cases))
    last_answer = max(answered.values())
    ids = [c["id"] for c in cases]

    def drained() -> bool:
        result.at_next_stage = _open_tasks(live, ids, TaskKind.plan_transport)
        if result.at_next_stage < len(ids):
            return False
        result.ledger = ledger(live, ids)
        return result.ledger.complete

    eventually(drained, timeout, "every case to move on and be notified")
    result.drain_seconds = time.monotonic() - last_answer
    arrivals = _first_arrivals(live, "coordinator", cases)
    result.notification_seconds = [arrivals[c["reference"]] - answered[c["id"]] for c in cases]
    return result


def baseline(live: Live, n: int, timeout: float) -> list[float]:
    """Decision → notification for n cases, one at a time, on the otherwise idle stack."""
    latencies = []
    for case in launch_waiting(live, n, timeout):
        task = live.open_task("consul", case["id"], "verify_nationality")
        started = time.monotonic()
        live.post("consul", f"/tasks/{task['id']}/complete", APPROVAL).raise_for_status()
        eventually(
            lambda c=case: c["reference"] in _first_arrivals(live, "coordinator", [c]),
            timeout,
            "the coordinator's notification",
        )
        latencies.append(_first_arrivals(live, "coordinator", [case])[case["reference"]] - started)
    return latencies


def _open_tasks(live: Live, case_ids: list[str], kind: TaskKind) -> int:
    ids = [uuid.UUID(c) for c in case_ids]
    with session_scope(live.settings.resolved_database_url) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(Task)
                .join(Case, col(Case.id) == col(Task.case_id))
                .where(
                    col(Task.case_id).in_(ids),
                    Task.kind == kind,
                    Task.status == TaskStatus.open,
                    Case.stage
                    == (
                        Stage.consular_verification
                        if kind == TaskKind.verify_nationality
                        else Stage.safe_transport
                    ),
                )
            ).one()
        )


def _suspended(live: Live, case_ids: list[str]) -> int:
    ids = [uuid.UUID(c) for c in case_ids]
    with session_scope(live.settings.resolved_database_url) as session:
        runs = [str(r) for r in session.exec(select(Case.flow_run_id).where(col(Case.id).in_(ids)))]
    response = httpx.post(
        f"{live.stack.prefect_api_url}/flow_runs/count",
        json={"flow_runs": {"id": {"any_": runs}, "state": {"type": {"any_": ["PAUSED"]}}}},
        timeout=30,
    )
    response.raise_for_status()
    return int(response.json())


def _first_arrivals(live: Live, agency: str, cases: list[dict[str, Any]]) -> dict[str, float]:
    wanted = {c["reference"] for c in cases}
    first: dict[str, float] = {}
    for at, message in live.sink.arrivals(agency):
        title = str(message.get("title"))
        for reference in wanted:
            if reference in title and reference not in first:
                first[reference] = at
    return first


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _row(name: str, values: list[float]) -> str:
    return (
        f"{name:<46}{len(values):>5}{statistics.median(values):>9.2f}"
        f"{_quantile(values, 0.95):>8.2f}{max(values):>8.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--baseline", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, burst_stack(Path(tmp)) as live:
        base = baseline(live, args.baseline, args.timeout)
        prepared = time.monotonic()
        cases = launch_waiting(live, args.decisions, args.timeout)
        setup = time.monotonic() - prepared
        result = run_burst(live, cases, args.timeout)
    assert result.ledger is not None
    print(f"\n{'measure':<46}{'n':>5}{'median s':>9}{'p95 s':>8}{'max s':>8}")
    print(_row("baseline: decision -> notification, one by one", base))
    print(_row("burst: decision response time", result.response_seconds))
    print(_row("burst: decision -> notification", result.notification_seconds))
    print(f"{'burst: drain (last answer -> all moved, notified)':<46}{1:>5}"
          f"{result.drain_seconds:>9.1f}")  # fmt: skip
    print(f"\nsetup: {args.decisions} cases launched and suspended in {setup:.0f} s")
    print(f"answers: {dict(result.codes)}; cases at next stage: {result.at_next_stage}")
    ledger_ = result.ledger
    print(
        f"notifications (burst cases, both steps): expected {ledger_.expected}, "
        f"delivered {ledger_.delivered}, duplicated {ledger_.duplicated}"
    )


if __name__ == "__main__":
    main()

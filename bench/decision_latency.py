"""How long from an agency's decision to the next agency's notification.

Starts Homeward as `homeward up` does (local Prefect server on SQLite, runner, API), with a
local HTTP sink as every agency's Apprise target, and for each of N cases measures:

- decision → notification: from posting the consulate's approval to the coordinator's
  "plan transport" message arriving at the sink (resume, new flow process, advance, send);
- baseline, in the same run: the same kind of message delivered straight through the
  outbox and Apprise to the same sink, with no Prefect in between.

Prints a table of medians and the ratio. Run: .venv/bin/python -m bench.decision_latency
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import select

from core.clock import utcnow
from core.db import session_scope
from domain.events import enqueue_notification
from models import Case, Notification
from notifications.outbox import deliver
from tests.support.live import Live, eventually, running_stack

APPROVAL = {
    "decision": "approved",
    "travel_document_number": "TP-BENCH",
    "travel_document_expires_on": (date.today() + timedelta(days=365)).isoformat(),
}
CASE_BODY = {
    "survivor": {
        "given_name": "Bench",
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
TIMEOUT = 120.0


def arrival(live: Live, agency: str, reference: str, after: float) -> float:
    found: list[float] = []

    def arrived() -> bool:
        found[:] = [
            at
            for at, m in live.sink.arrivals(agency)
            if reference in str(m.get("title")) and at >= after
        ]
        return bool(found)

    eventually(arrived, TIMEOUT, f"a message for {agency} about {reference}")
    return found[0]


def decision_to_notification(live: Live) -> float:
    response = live.post("coordinator", "/cases", CASE_BODY)
    response.raise_for_status()
    case_id, reference = response.json()["id"], response.json()["reference"]
    task = live.open_task("consul", case_id, "verify_nationality", timeout=TIMEOUT)
    arrival(live, "consul", reference, 0.0)
    time.sleep(1.0)  # let the run reach its suspension, as it would between real decisions
    started = time.monotonic()
    live.post("consul", f"/tasks/{task['id']}/complete", APPROVAL).raise_for_status()
    return arrival(live, "coordinator", reference, started) - started


def direct_delivery(live: Live, case_id: str, n: int) -> float:
    """The same message path without Prefect: enqueue an outbox row, deliver it."""
    url = live.settings.resolved_database_url
    with session_scope(url) as session:
        case = session.get_one(Case, uuid.UUID(case_id))
        reference = case.reference
        key = f"bench:{case_id}:{n}"
        enqueue_notification(
            session,
            case,
            agency_id=case.coordinator_agency_id,
            kind="task_assigned",
            dedupe_key=key,
            at=utcnow(),
            task_kind="plan_transport",
            due_at=utcnow(),
        )
    with session_scope(url) as session:
        notification_id = session.exec(
            select(Notification.id).where(Notification.dedupe_key == key)
        ).one()
    started = time.monotonic()
    deliver(notification_id, settings=live.settings)
    return arrival(live, "coordinator", reference, started) - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=12)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp), HOMEWARD_SWEEP_SECONDS="600") as live,
    ):
        latencies = [decision_to_notification(live) for _ in range(args.cases)]
        some_case = live.get("coordinator", "/cases")[0]["id"]
        baseline = [direct_delivery(live, some_case, n) for n in range(args.cases)]
    e2e, base = statistics.median(latencies), statistics.median(baseline)
    print(f"\n{'measure':<44}{'n':>4}{'median s':>10}{'min s':>8}{'max s':>8}")
    print(
        f"{'decision -> next agency notification':<44}{len(latencies):>4}"
        f"{e2e:>10.2f}{min(latencies):>8.2f}{max(latencies):>8.2f}"
    )
    print(
        f"{'baseline: outbox -> Apprise -> sink':<44}{len(baseline):>4}"
        f"{base:>10.3f}{min(baseline):>8.3f}{max(baseline):>8.3f}"
    )
    print(f"{'ratio (median / baseline median)':<44}{'':>4}{e2e / base:>10.0f}")


if __name__ == "__main__":
    main()

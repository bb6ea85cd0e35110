"""What an operator sees in the Prefect UI's list of runs: the cases, and few sweeps."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from flows.control import SWEEPER_NAME
from tests.support.live import Live, eventually

pytestmark = pytest.mark.stack


def sweeper_runs(live: Live, state: str) -> list[dict[str, Any]]:
    api = live.stack.prefect_api_url
    deployment = httpx.get(f"{api}/deployments/name/sweeper/{SWEEPER_NAME}", timeout=10)
    deployment.raise_for_status()
    response = httpx.post(
        f"{api}/flow_runs/filter",
        json={
            "deployments": {"id": {"any_": [deployment.json()["id"]]}},
            "flow_runs": {"state": {"type": {"any_": [state]}}},
            "limit": 200,
        },
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json())


def test_sweeps_are_named_as_sweeps_and_few_wait_ahead(live: Live) -> None:
    eventually(lambda: bool(sweeper_runs(live, "COMPLETED")), 60, "a sweep to complete")
    names = [run["name"] for run in sweeper_runs(live, "COMPLETED")]
    assert all(name.startswith("sweep-") for name in names), names
    # Three minutes ahead at the test stack's five-second interval, not Prefect's hour (720).
    scheduled = sweeper_runs(live, "SCHEDULED")
    assert 1 <= len(scheduled) <= 180 // live.settings.sweep_seconds + 2, len(scheduled)


def test_a_sweep_killed_with_its_runner_does_not_hold_back_later_sweeps(live: Live) -> None:
    killed: str | None = None
    for _ in range(5):  # until the runner dies with a sweep still running
        eventually(lambda: bool(sweeper_runs(live, "RUNNING")), 60, "a sweep to run")
        running = {run["id"] for run in sweeper_runs(live, "RUNNING")}
        live.stack.kill("runner")
        left = {run["id"] for run in sweeper_runs(live, "RUNNING")} & running
        if left:
            killed = left.pop()
            break
        live.stack.start_runner()
    assert killed is not None, "every sweep finished before its runner could be killed"
    done_before = {run["id"] for run in sweeper_runs(live, "COMPLETED")}
    live.stack.start_runner()
    # Prefect's engine leases a sweep's slot for 300 s at a time: without the runner's
    # clean-up every sweep would be cancelled for up to five minutes.
    eventually(
        lambda: bool({run["id"] for run in sweeper_runs(live, "COMPLETED")} - done_before),
        90,
        "a sweep to complete after the runner's restart",
    )
    assert killed not in {run["id"] for run in sweeper_runs(live, "RUNNING")}

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


def set_state(live: Live, run_id: str, state: str) -> dict[str, Any]:
    response = httpx.post(
        f"{live.stack.prefect_api_url}/flow_runs/{run_id}/set_state",
        json={"state": {"type": state}},
        timeout=10,
    )
    response.raise_for_status()
    body = dict(response.json())
    assert body["status"] == "ACCEPT", body
    return body


def make_orphan_sweep(live: Live) -> str:
    api = live.stack.prefect_api_url
    deployment = httpx.get(f"{api}/deployments/name/sweeper/{SWEEPER_NAME}", timeout=10)
    deployment.raise_for_status()
    created = httpx.post(
        f"{api}/deployments/{deployment.json()['id']}/create_flow_run", json={}, timeout=10
    )
    created.raise_for_status()
    orphan = str(created.json()["id"])
    pending = set_state(live, orphan, "PENDING")
    lease = pending["state"]["state_details"]["deployment_concurrency_lease_id"]
    assert lease, pending
    renewed = httpx.post(
        f"{api}/v2/concurrency_limits/leases/{lease}/renew",
        json={"lease_duration": 300},
        timeout=10,
    )
    assert renewed.status_code < 300, renewed.text
    set_state(live, orphan, "RUNNING")
    return orphan


def test_a_sweep_killed_with_its_runner_does_not_hold_back_later_sweeps(live: Live) -> None:
    """What a runner killed mid-sweep leaves behind, made on purpose: a sweep that took the
    deployment's slot, started, had its lease renewed for 300 s as Prefect's engine does,
    and then lost its process."""
    live.stack.kill("runner")
    try:
        # A sweep the kill caught running is such an orphan already (its engine leased the
        # slot for 300 s when it started); otherwise one is made.
        caught = sweeper_runs(live, "RUNNING") + sweeper_runs(live, "PENDING")
        orphan = caught[0]["id"] if caught else make_orphan_sweep(live)
        done_before = {run["id"] for run in sweeper_runs(live, "COMPLETED")}
    finally:
        live.stack.start_runner()
    # Without the runner's clean-up every sweep would be cancelled until the lease ran out.
    eventually(
        lambda: bool({run["id"] for run in sweeper_runs(live, "COMPLETED")} - done_before),
        90,
        "a sweep to complete after the runner's restart",
    )
    assert orphan in {run["id"] for run in sweeper_runs(live, "CRASHED")}

"""The runner: serves the case flow and the scheduled sweeper from this process."""

from __future__ import annotations

from datetime import timedelta

from prefect import get_client, serve
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import (
    ConcurrencyLimitConfig,
    ConcurrencyLimitStrategy,
    StateType,
)
from prefect.deployments.runner import RunnerDeployment
from prefect.exceptions import ObjectNotFound
from prefect.states import Crashed

from core.settings import get_settings
from flows.control import DEPLOYMENT_NAME, SWEEPER_NAME
from flows.repatriation import repatriation
from flows.sweeper import sweeper


def deployments(sweep_seconds: int) -> list[RunnerDeployment]:
    case_flow = repatriation.to_deployment(name=DEPLOYMENT_NAME)
    sweeps = sweeper.to_deployment(
        name=SWEEPER_NAME,
        interval=timedelta(seconds=sweep_seconds),
        # One sweep at a time; a sweep due while another runs is cancelled before a
        # process starts. A sweep killed with its runner keeps the slot until its lease
        # expires, so `homeward up` shortens the lease (see cli/stack.py).
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
    )
    # to_deployment is sync here; Prefect types it as possibly awaitable.
    assert isinstance(case_flow, RunnerDeployment) and isinstance(sweeps, RunnerDeployment)
    return [case_flow, sweeps]


def release_sweeps_of_a_dead_runner() -> int:
    """Mark the sweeps left running by this runner's predecessor as crashed; returns how many.

    A sweep's slot is leased for 300 s at a time by the process that runs it (Prefect's
    engine renews it so), so a sweep killed with its runner would keep every later sweep
    cancelled for up to five minutes. The embedded runner is the only one that runs sweeps:
    at its start, any sweep still running or being submitted has lost its process, and
    crashing it frees the slot at once (docs/flow-runs.md)."""
    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name(f"sweeper/{SWEEPER_NAME}")
        except ObjectNotFound:
            return 0  # the first start: nothing has run yet
        orphans = client.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[SWEEPER_NAME])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING])
                )
            ),
        )
        for run in orphans:
            client.set_flow_run_state(
                run.id, Crashed(message="Homeward: its runner stopped"), force=True
            )
    return len(orphans)


def main() -> None:
    settings = get_settings()
    release_sweeps_of_a_dead_runner()
    serve(
        *deployments(settings.sweep_seconds),
        limit=settings.runner_limit,
        print_starting_message=False,
    )


if __name__ == "__main__":
    main()

"""The runner: serves the case flow and the scheduled sweeper from this process."""

from __future__ import annotations

from datetime import timedelta

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment

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


def main() -> None:
    settings = get_settings()
    serve(
        *deployments(settings.sweep_seconds),
        limit=settings.runner_limit,
        print_starting_message=False,
    )


if __name__ == "__main__":
    main()

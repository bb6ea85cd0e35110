"""The runner: serves the case flow and the scheduled sweeper from this process."""

from __future__ import annotations

from datetime import timedelta

from prefect import serve

from core.settings import get_settings
from flows.control import DEPLOYMENT_NAME, SWEEPER_NAME
from flows.repatriation import repatriation
from flows.sweeper import sweeper


def main() -> None:
    settings = get_settings()
    serve(
        repatriation.to_deployment(name=DEPLOYMENT_NAME),
        sweeper.to_deployment(
            name=SWEEPER_NAME, interval=timedelta(seconds=settings.sweep_seconds)
        ),
        limit=settings.runner_limit,
        print_starting_message=False,
    )


if __name__ == "__main__":
    main()

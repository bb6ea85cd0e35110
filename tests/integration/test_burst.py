"""A burst of decisions on the embedded default: none lost, none failed, none notified twice.

The full 200 is `bench/burst.py`; here HOMEWARD_TEST_BURST decisions (default 12) on a runner
that takes three flow runs at a time keep the suite's time in bounds while still outnumbering
the runner's slots four times over (each pass is a new process of a few CPU-seconds).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bench.burst import burst_stack, launch_waiting, run_burst
from tests.support.live import Live, inconsistencies

pytestmark = [pytest.mark.stack, pytest.mark.burst]

DECISIONS = int(os.environ.get("HOMEWARD_TEST_BURST", "12"))
RUNNER_SLOTS = "3"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with burst_stack(
        tmp_path_factory.mktemp("homeward-burst"), HOMEWARD_RUNNER_LIMIT=RUNNER_SLOTS
    ) as stack:
        yield stack


def test_a_burst_of_decisions_moves_every_case_on_once(live: Live) -> None:
    cases = launch_waiting(live, DECISIONS, timeout=480)

    result = run_burst(live, cases, timeout=480)

    print(f"\nburst of {DECISIONS}: answers {dict(result.codes)}, ", end="")
    print(f"drain {result.drain_seconds:.1f} s, {result.ledger}")
    assert set(result.codes) <= {200, 202}, result.codes  # no client error, no lost request
    assert result.at_next_stage == DECISIONS
    assert result.ledger is not None and result.ledger.duplicated == 0
    assert result.ledger.expected == 2 * DECISIONS
    assert inconsistencies(live) == []

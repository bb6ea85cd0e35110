"""A person's decision goes before a backlog of other cases' passes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.test_case_lifecycle import launch
from tests.support.live import APPROVED, Live, running_stack, wait_suspended

pytestmark = pytest.mark.stack

BACKLOG = 5


@pytest.fixture(scope="module")
def one_slot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A runner that executes one flow run at a time: every pass queues behind the last."""
    with running_stack(tmp_path_factory.mktemp("one-slot"), HOMEWARD_RUNNER_LIMIT="1") as live:
        yield live


def first_passes_done(live: Live, case_ids: list[str]) -> int:
    """Cases whose first pass has run: it opens the consulate's verification."""
    opened = {t["case_id"] for t in live.get("consul", "/tasks", status="open")}
    return sum(case_id in opened for case_id in case_ids)


def test_a_decision_goes_before_a_backlog_of_launches(one_slot: Live) -> None:
    live = one_slot
    waiting = launch(live)["id"]
    wait_suspended(live, waiting)
    task = live.open_task("consul", waiting, "verify_nationality")

    backlog = [launch(live)["id"] for _ in range(BACKLOG)]
    response = live.post("consul", f"/tasks/{task['id']}/complete", APPROVED)
    assert response.status_code in (200, 202), response.text
    live.open_task("coordinator", waiting, "plan_transport", timeout=120)
    # In the order of arrival the decision's pass would come after all of the backlog's;
    # it came at the next free slot, with at most the pass then running (and one the
    # runner had already taken) before it.
    assert first_passes_done(live, backlog) <= 2

    for case_id in backlog:
        live.open_task("consul", case_id, "verify_nationality", timeout=120)

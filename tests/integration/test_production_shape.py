"""The production shape (deploy/compose.yaml) run for real: PostgreSQL for Homeward and for
Prefect, a Prefect server on PostgreSQL, two workers in the `homeward` process pool, two API
processes. A whole case walks to `closed`; a burst of decisions survives a killed worker and
a killed API process with nothing lost and nothing sent twice."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from bench.burst import APPROVAL, launch_waiting
from tests.integration.test_case_lifecycle import walk_to_closed
from tests.support.live import Live, eventually, inconsistencies, wait_delivered
from tests.support.production import ProductionShape, production_shape

pytestmark = [pytest.mark.stack, pytest.mark.production]

DECISIONS = 10


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    # A pass whose worker was killed is replaced after 30 s (the default is 300 s); both
    # follow-ups fall due at handover, as on the other test stacks.
    with production_shape(
        tmp_path_factory.mktemp("production"),
        HOMEWARD_STUCK_RUN_SECONDS="30",
        HOMEWARD_FOLLOW_UP_DAYS="0,0",
    ) as stack:
        yield stack


def shape_of(live: Live) -> ProductionShape:
    assert isinstance(live.stack, ProductionShape)
    return live.stack


def test_the_shape_is_what_compose_describes(live: Live) -> None:
    assert shape_of(live).names() == [
        "prefect-server",
        "worker-1",
        "worker-2",
        "api-1",
        "api-2",
    ]


def test_a_whole_case_reaches_closed(live: Live) -> None:
    walk_to_closed(live)


def test_a_burst_survives_a_killed_worker_and_a_killed_api(live: Live) -> None:
    shape = shape_of(live)
    cases = launch_waiting(live, DECISIONS, timeout=300)
    tasks = {t["case_id"]: t["id"] for t in live.get("consul", "/tasks", status="open")}
    headers = live.login("consul")
    answered = threading.Semaphore(0)
    codes: list[int] = []

    def decide(n: int, case: dict[str, Any]) -> None:
        # A client of two API processes: each decision goes to one of them and, when that
        # one is gone, again to the other with the same Idempotency-Key.
        key = str(uuid.uuid4())
        urls = shape.api_urls[n % 2 :] + shape.api_urls[: n % 2]
        for url in urls * 3:
            try:
                response = httpx.post(
                    f"{url}/api/v1/tasks/{tasks[case['id']]}/complete",
                    headers={**headers, "Idempotency-Key": key},
                    json=APPROVAL,
                    timeout=60,
                )
            except httpx.TransportError:
                continue
            codes.append(response.status_code)
            answered.release()
            return
        raise AssertionError(f"no API process took the decision on {case['reference']}")

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(decide, n, case) for n, case in enumerate(cases)]
        for _ in range(DECISIONS // 2):
            answered.acquire(timeout=120)
        shape.kill("worker-1")
        shape.kill("api-2")
        for future in futures:
            future.result()

    assert set(codes) <= {200, 202}, codes
    ids = [c["id"] for c in cases]

    def all_moved_on() -> bool:
        opened = {t["case_id"] for t in live.get("coordinator", "/tasks", status="open")}
        return all(case_id in opened for case_id in ids)

    eventually(all_moved_on, 300, "every case's plan_transport task")
    ledger = wait_delivered(live, ids, timeout=180)
    assert ledger.duplicated == 0 and ledger.expected == 2 * DECISIONS, ledger
    assert inconsistencies(live) == []

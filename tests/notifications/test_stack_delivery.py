"""On the real stack: agencies whose endpoints hang do not slow the API, their
notifications show as undelivered, fail, are sent again on request, and reach each
endpoint exactly once when it comes back."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from notifications.dispatcher import deadline_for
from tests.integration.test_case_lifecycle import launch
from tests.support.live import APPROVED, Live, eventually, running_stack

pytestmark = pytest.mark.stack

SEND_BOUND = deadline_for(1)  # HOMEWARD_NOTIFICATION_TIMEOUT_SECONDS=1 below


@pytest.fixture(scope="module")
def faulty_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running_stack(
        tmp_path_factory.mktemp("homeward-faults"),
        HOMEWARD_SWEEP_SECONDS="2",
        HOMEWARD_NOTIFICATION_TIMEOUT_SECONDS="1",
        HOMEWARD_NOTIFICATION_MAX_ATTEMPTS="2",
        HOMEWARD_NOTIFICATION_RETRY_BASE_SECONDS="1",
        HOMEWARD_NOTIFICATION_RETRY_MAX_SECONDS="2",
    ) as live:
        yield live


def keys_for(live: Live, agency: str, reference: str) -> list[str | None]:
    """The idempotency keys of the messages about this case that the agency's endpoint took."""
    messages = live.sink.messages(agency)
    keys = live.sink.keys(agency)
    return [k for m, k in zip(messages, keys, strict=True) if reference in str(m)]


def undelivered(live: Live, case_id: str) -> list[dict[str, Any]]:
    return list(live.case("coordinator", case_id)["undelivered"])


def test_hanging_endpoints_get_each_message_once_after_they_recover(faulty_live: Live) -> None:
    live = faulty_live
    live.sink.hang("consul")
    live.sink.hang("coordinator")

    live.login("coordinator")
    live.login("consul")
    begun = time.monotonic()
    case = launch(live)
    launch_seconds = time.monotonic() - begun
    case_id, reference = case["id"], case["reference"]

    # Two attempts (bounded at 2 s each), then failed; the coordinator sees it on the case.
    found: list[dict[str, Any]] = []

    def consul_failed() -> bool:
        found[:] = [n for n in undelivered(live, case_id) if n["status"] == "failed"]
        return bool(found)

    eventually(consul_failed, 60, "the consulate's notification to fail")
    [failed] = found
    assert (failed["agency_name"], failed["attempts"]) == ("BD consulate Kolkata", 2)
    assert failed["last_error"].startswith("JSON: ")
    assert (
        "json://" not in failed["last_error"] and f":{live.sink.port}" not in failed["last_error"]
    )

    # The consulate acts (it reads its inbox): the answer does not wait for the hung
    # endpoint of the coordinator, whom this decision notifies.
    task = live.open_task("consul", case_id, "verify_nationality")
    begun = time.monotonic()
    response = live.post("consul", f"/tasks/{task['id']}/complete", APPROVED)
    complete_seconds = time.monotonic() - begun
    assert response.status_code == 200, response.text
    # A send to a hung endpoint takes the whole bound (2 s here): neither request did one.
    assert complete_seconds < SEND_BOUND
    assert launch_seconds < SEND_BOUND

    live.sink.recover("consul")
    # The coordinator's endpoint is let go once the notice of this decision has hung on it.
    eventually(lambda: live.sink.hung("coordinator") >= 1, 60, "a send to the hung coordinator")
    live.sink.recover("coordinator")
    retried = live.post("coordinator", f"/notifications/{failed['id']}/retry", {})
    assert retried.status_code == 200, retried.text
    # Waiting (or, once the sweeper has run, delivered): either way not again.
    assert live.post("coordinator", f"/notifications/{failed['id']}/retry", {}).status_code == 409

    eventually(lambda: len(keys_for(live, "consul", reference)) >= 1, 60, "the consul's notice")
    eventually(
        lambda: len(keys_for(live, "coordinator", reference)) >= 1, 60, "the coordinator's notice"
    )
    eventually(lambda: undelivered(live, case_id) == [], 60, "nothing left undelivered")
    time.sleep(5)  # two more sweeps: nothing may arrive twice

    counts = {}
    for agency in ("consul", "coordinator"):
        keys = keys_for(live, agency, reference)
        counts[agency] = (len(keys), len(set(keys)), max(Counter(keys).values()))
        assert None not in keys
    print(
        f"\n[stack] launch {launch_seconds:.2f}s, completion {complete_seconds:.2f}s while "
        f"hung; hung requests consul={live.sink.hung('consul')} "
        f"coordinator={live.sink.hung('coordinator')}; (received, distinct, max per key) {counts}"
    )
    assert counts == {"consul": (1, 1, 1), "coordinator": (1, 1, 1)}
    assert live.sink.hung("consul") >= 2
    assert live.sink.hung("coordinator") >= 1

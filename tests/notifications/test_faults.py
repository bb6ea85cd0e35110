"""Exactly once per target, whatever the target does: real local servers that refuse,
hang, fail, trickle or answer late, and delivery passes run on the real clock as the
sweeper runs them (`due_notification_ids`, then `deliver` for each)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from core.clock import utcnow
from core.db import engine_for
from core.settings import Settings
from models import Notification
from models.enums import NotificationStatus
from notifications.dispatcher import (
    IDEMPOTENCY_HEADER,
    NOTIFICATION_HEADER,
    deadline_for,
    delivery_key,
    fingerprint,
    send,
)
from notifications.messages import render
from notifications.outbox import DeliveryResult, claim, deliver, due_notification_ids
from tests.notifications.factories import queue_notice, seed_case
from tests.support.sink import Sink, reserve_port

MESSAGES = 3  # per scenario: each must reach each target exactly once
TIMEOUT = 0.5  # per connection; a whole send is bounded by deadline_for(TIMEOUT) = 1 s
SLACK = 0.75  # two short transactions and thread start-up on a loaded machine


@pytest.fixture
def fast(outbox_db: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=outbox_db,
        public_url="https://homeward.example.org/",
        notification_timeout_seconds=TIMEOUT,
        notification_max_attempts=30,
        notification_claim_seconds=30,
        notification_retry_base_seconds=0.2,
        notification_retry_max_seconds=0.8,
    )


@dataclass
class Run:
    """What a scenario's delivery passes did."""

    passes: int
    seconds: float
    deliver_seconds: list[float]

    @property
    def slowest(self) -> float:
        return max(self.deliver_seconds, default=0.0)


def statuses(outbox_db: str, ids: list[uuid.UUID]) -> list[NotificationStatus]:
    with Session(engine_for(outbox_db)) as session:
        return [session.get_one(Notification, i, populate_existing=True).status for i in ids]


def rows(outbox_db: str, ids: list[uuid.UUID]) -> list[Notification]:
    with Session(engine_for(outbox_db), expire_on_commit=False) as session:
        return [session.get_one(Notification, i, populate_existing=True) for i in ids]


def drain(
    settings: Settings,
    ids: list[uuid.UUID],
    *,
    seconds: float = 30,
    max_passes: int = 400,
    between: Callable[[float], None] = lambda elapsed: None,
) -> Run:
    """Delivery passes until every row is sent (or `seconds`): each pass sends what is due.
    `between(elapsed)` runs before each pass, for a target to come back."""
    url = settings.resolved_database_url
    started = time.monotonic()
    durations: list[float] = []
    passes = 0
    while passes < max_passes and time.monotonic() - started < seconds:
        if all(s == NotificationStatus.sent for s in statuses(url, ids)):
            break
        between(time.monotonic() - started)
        passes += 1
        with Session(engine_for(url)) as session:
            due = due_notification_ids(session, now=utcnow())
        for notification_id in due:
            begun = time.monotonic()
            deliver(notification_id, settings=settings)
            durations.append(time.monotonic() - begun)
        time.sleep(0.05)
    return Run(passes, time.monotonic() - started, durations)


def queue(session: Session, urls: list[str], count: int = MESSAGES) -> list[uuid.UUID]:
    agency, case = seed_case(session, notify_urls=urls)
    return [queue_notice(session, agency, case, at=utcnow()) for _ in range(count)]


def assert_exactly_once(sink: Sink, name: str, ids: list[uuid.UUID], url: str) -> None:
    tally = sink.tally(name)
    assert (tally.received, tally.distinct, tally.duplicated) == (len(ids), len(ids), 0), tally
    assert sorted(k or "" for k in sink.keys(name)) == sorted(delivery_key(i, url) for i in ids)


def report(mode: str, sink: Sink, name: str, ids: list[uuid.UUID], run: Run, db: str) -> None:
    tally = sink.tally(name)
    attempts = sum(r.attempts for r in rows(db, ids))
    print(
        f"\n[{mode}] expected={len(ids)} delivered={tally.distinct} "
        f"duplicated={tally.duplicated} refused={tally.refused} hung={tally.hung} "
        f"attempts={attempts} passes={run.passes} took={run.seconds:.2f}s "
        f"slowest_deliver={run.slowest:.2f}s"
    )


@pytest.fixture
def other_sink() -> Iterator[Sink]:
    with Sink() as sink:
        yield sink


def test_a_target_that_refuses_connections_gets_each_message_once_when_it_listens(
    session: Session, fast: Settings, outbox_db: str
) -> None:
    port = reserve_port()
    url = f"json://127.0.0.1:{port}/refusing"
    ids = queue(session, [url])
    late = Sink(port=port)

    def come_back(elapsed: float) -> None:
        if elapsed > 1.5 and late._server is None:
            late.start()

    try:
        run = drain(fast, ids, between=come_back)
        assert statuses(outbox_db, ids) == [NotificationStatus.sent] * len(ids)
        assert all(r.attempts >= 2 for r in rows(outbox_db, ids))
        assert_exactly_once(late, "refusing", ids, url)
        assert run.slowest < deadline_for(TIMEOUT) + SLACK
        report("refused", late, "refusing", ids, run, outbox_db)
    finally:
        late.stop()


def test_a_hanging_target_does_not_hold_delivery_and_gets_each_message_once(
    session: Session, fast: Settings, outbox_db: str, sink: Sink
) -> None:
    url = sink.url_for("hanging")
    ids = queue(session, [url])
    sink.hang("hanging")

    def come_back(elapsed: float) -> None:
        if elapsed > 2.5:
            sink.recover("hanging")

    run = drain(fast, ids, between=come_back)

    assert statuses(outbox_db, ids) == [NotificationStatus.sent] * len(ids)
    assert sink.hung("hanging") >= len(ids)
    assert_exactly_once(sink, "hanging", ids, url)
    assert run.slowest < deadline_for(TIMEOUT) + SLACK
    report("hang", sink, "hanging", ids, run, outbox_db)


def test_a_target_answering_500_n_times_gets_each_message_once(
    session: Session, fast: Settings, outbox_db: str, sink: Sink
) -> None:
    url = sink.url_for("erroring")
    ids = queue(session, [url])
    sink.fail("erroring", times=2 * len(ids))

    run = drain(fast, ids)

    assert statuses(outbox_db, ids) == [NotificationStatus.sent] * len(ids)
    assert sink.tally("erroring").refused == 2 * len(ids)
    assert_exactly_once(sink, "erroring", ids, url)
    report("http-500 x6", sink, "erroring", ids, run, outbox_db)


def test_a_target_failing_for_a_while_gets_each_message_once(
    session: Session, fast: Settings, outbox_db: str, sink: Sink, other_sink: Sink
) -> None:
    # Two targets for the agency: the healthy one is not sent to again while the other
    # one is retried.
    flaky, healthy = sink.url_for("flaky"), other_sink.url_for("healthy")
    ids = queue(session, [flaky, healthy])
    sink.fail_for("flaky", 2.0)

    run = drain(fast, ids)

    assert statuses(outbox_db, ids) == [NotificationStatus.sent] * len(ids)
    assert sink.tally("flaky").refused >= len(ids)
    assert_exactly_once(sink, "flaky", ids, flaky)
    assert_exactly_once(other_sink, "healthy", ids, healthy)
    for stored in rows(outbox_db, ids):
        assert set(stored.delivered_targets) == {fingerprint(flaky), fingerprint(healthy)}
    report("500 for 2 s", sink, "flaky", ids, run, outbox_db)
    report("healthy beside it", other_sink, "healthy", ids, run, outbox_db)


def test_a_target_that_never_recovers_ends_failed_with_a_safe_error(
    session: Session, fast: Settings, outbox_db: str, sink: Sink
) -> None:
    url = sink.url_for("dead").replace("json://", "json://hw-user:s3cr3t-pass@")
    settings = fast.model_copy(update={"notification_max_attempts": 3})
    [notification_id] = queue(session, [url], count=1)
    sink.hang("dead")

    results = []
    for _ in range(3):
        [stored] = rows(outbox_db, [notification_id])
        while stored.next_attempt_at > utcnow():  # bounded by the 0.8 s backoff cap
            time.sleep(0.05)
        results.append(deliver(notification_id, settings=settings))

    assert results == [DeliveryResult.retry_later] * 2 + [DeliveryResult.failed]
    [stored] = rows(outbox_db, [notification_id])
    assert (stored.status, stored.attempts) == (NotificationStatus.failed, 3)
    assert stored.last_error is not None and stored.last_error.startswith("JSON: ")
    for leak in ("s3cr3t", "hw-user", "json://", "dead", str(sink.port)):
        assert leak not in stored.last_error
    assert sink.count("dead") == 0


def test_a_trickling_answer_is_cut_at_the_bound_and_not_sent_twice(
    session: Session, fast: Settings, outbox_db: str, sink: Sink
) -> None:
    # Every read returns within the socket timeout, so only the overall bound stops the
    # wait; the send goes on in its thread, keeps the row claimed, and records its success.
    url = sink.url_for("trickling")
    [notification_id] = queue(session, [url], count=1)
    sink.trickle("trickling", 3.0)

    begun = time.monotonic()
    result = deliver(notification_id, settings=fast)
    took = time.monotonic() - begun

    assert result == DeliveryResult.retry_later
    assert deadline_for(TIMEOUT) <= took < deadline_for(TIMEOUT) + SLACK
    [stored] = rows(outbox_db, [notification_id])
    assert stored.last_error is not None and "no answer within 1 s" in stored.last_error
    assert stored.claimed_until is not None  # the send left behind still holds it
    with Session(engine_for(outbox_db)) as other:
        assert due_notification_ids(other, now=utcnow() + timedelta(seconds=5)) == []

    deadline = time.monotonic() + 10
    while statuses(outbox_db, [notification_id]) != [NotificationStatus.sent]:
        assert time.monotonic() < deadline, "the late success was never recorded"
        time.sleep(0.1)
    # The success and the claim's release are two commits; CI once read between them.
    while rows(outbox_db, [notification_id])[0].claimed_until is not None:
        assert time.monotonic() < deadline, "the late success left the row claimed"
        time.sleep(0.1)
    assert_exactly_once(sink, "trickling", [notification_id], url)
    print(f"\n[trickle 3 s] deliver returned after {took:.2f}s; sent once")


def test_a_late_answer_after_the_timeout_is_resent_with_the_same_key(
    session: Session, fast: Settings, outbox_db: str, sink: Sink
) -> None:
    # The receiver took the message but answered after the sender gave up: the only case,
    # with a crash, in which a target sees a message twice. The key makes it droppable.
    url = sink.url_for("late")
    [notification_id] = queue(session, [url], count=1)
    sink.stall("late", 2 * TIMEOUT)

    def answer_in_time(elapsed: float) -> None:
        if sink.count("late") >= 1:
            sink.recover("late")

    run = drain(fast, [notification_id], between=answer_in_time)

    assert statuses(outbox_db, [notification_id]) == [NotificationStatus.sent]
    tally = sink.tally("late")
    assert (tally.received, tally.distinct, tally.duplicated) == (2, 1, 1)
    assert set(sink.keys("late")) == {delivery_key(notification_id, url)}
    report("answer after timeout", sink, "late", [notification_id], run, outbox_db)


def test_a_resend_after_a_crash_carries_the_same_key(
    session: Session, fast: Settings, outbox_db: str, sink: Sink
) -> None:
    # A sender that crashed after the target's answer and before recording it: the claim
    # expires, the row is sent again, and the receiver can tell.
    url = sink.url_for("crash")
    [notification_id] = queue(session, [url], count=1)
    now = utcnow()
    claimed = claim(session, notification_id, now=now, claim_seconds=5)
    assert claimed is not None
    message = render(claimed.notification, public_url=fast.resolved_public_url)
    first = send([url], message, timeout_seconds=TIMEOUT, notification_id=notification_id)
    assert first.delivered == (fingerprint(url),)
    # ... the process dies here ...

    later = lambda: now + timedelta(seconds=6)  # noqa: E731
    assert deliver(notification_id, settings=fast, now_fn=later) == DeliveryResult.sent

    tally = sink.tally("crash")
    assert (tally.received, tally.distinct, tally.duplicated) == (2, 1, 1)


def test_webhooks_carry_the_idempotency_headers_beside_the_agencys_own(
    session: Session, fast: Settings, sink: Sink
) -> None:
    url = sink.url_for("headers") + "?+X-Agency-Token=abc123"
    [notification_id] = queue(session, [url], count=1)

    assert deliver(notification_id, settings=fast) == DeliveryResult.sent

    [headers] = sink.headers("headers")
    assert headers[IDEMPOTENCY_HEADER] == f"{notification_id}.{fingerprint(url)}"
    assert headers[NOTIFICATION_HEADER] == str(notification_id)
    assert headers["X-Agency-Token"] == "abc123"
    assert sink.keys("headers") == [delivery_key(notification_id, url)]


def test_a_target_is_recorded_as_soon_as_it_answers(
    session: Session, fast: Settings, outbox_db: str, sink: Sink, other_sink: Sink
) -> None:
    # The window in which a crash would resend to a target is its own answer to one short
    # transaction, not the whole attempt: here the other target is still hanging.
    quick, hung = sink.url_for("quick"), other_sink.url_for("hung")
    [notification_id] = queue(session, [quick, hung], count=1)
    other_sink.hang("hung")
    results: list[DeliveryResult] = []
    sender = threading.Thread(
        target=lambda: results.append(deliver(notification_id, settings=fast)), daemon=True
    )
    sender.start()

    sink.wait_for(lambda s: s.count("quick") == 1, timeout=5)
    deadline = time.monotonic() + 5
    while fingerprint(quick) not in rows(outbox_db, [notification_id])[0].delivered_targets:
        assert time.monotonic() < deadline, "the answered target was not recorded"
        time.sleep(0.02)
    assert sender.is_alive()  # the attempt is still waiting for the hung target

    sender.join(timeout=deadline_for(TIMEOUT) + SLACK + 1)
    assert results == [DeliveryResult.retry_later]
    other_sink.recover("hung")

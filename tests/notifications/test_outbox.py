from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from core.db import engine_for
from core.settings import Settings
from models import Notification
from models.enums import NotificationStatus
from notifications.dispatcher import fingerprint
from notifications.outbox import (
    NO_ADDRESS,
    DeliveryResult,
    backoff,
    claim,
    deliver,
    due_notification_ids,
    record_result,
    retry_failed,
)
from tests.notifications.factories import queue_notice, seed_case
from tests.support.sink import Sink

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def row(session: Session, notification_id: uuid.UUID) -> Notification:
    found = session.get(Notification, notification_id, populate_existing=True)
    assert found is not None
    session.commit()
    return found


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def test_due_lists_pending_unclaimed_rows_whose_time_has_come(session: Session) -> None:
    agency, case = seed_case(session, notify_urls=["json://127.0.0.1:9/x"])
    _, other_case = seed_case(session, notify_urls=["json://127.0.0.1:9/y"])
    due = queue_notice(session, agency, case, at=T0)
    later = queue_notice(session, agency, case, at=T0 + timedelta(minutes=5))
    claimed = queue_notice(session, agency, case, at=T0)
    elsewhere = queue_notice(session, agency, other_case, at=T0)
    assert claim(session, claimed, now=T0, claim_seconds=60) is not None

    assert set(due_notification_ids(session, now=T0)) == {due, elsewhere}
    assert due_notification_ids(session, now=T0, case_id=case.id) == [due]
    assert later in due_notification_ids(session, now=T0 + timedelta(minutes=5))
    assert claimed in due_notification_ids(session, now=T0 + timedelta(seconds=61))
    assert len(due_notification_ids(session, now=T0, limit=1)) == 1


def test_only_one_of_two_claims_wins(session: Session) -> None:
    agency, case = seed_case(session, notify_urls=["json://127.0.0.1:9/a"])
    notification_id = queue_notice(session, agency, case, at=T0)

    first = claim(session, notification_id, now=T0, claim_seconds=60)
    with Session(session.get_bind()) as other:
        second = claim(other, notification_id, now=T0 + timedelta(seconds=1), claim_seconds=60)

    assert first is not None
    assert second is None
    assert first.notification.attempts == 1
    assert first.notify_urls == first.pending_urls == ["json://127.0.0.1:9/a"]
    stored = row(session, notification_id)
    assert stored.attempts == 1
    assert stored.claimed_until == T0 + timedelta(seconds=60)


def test_concurrent_claims_have_a_single_winner(session: Session, outbox_db: str) -> None:
    agency, case = seed_case(session, notify_urls=["json://127.0.0.1:9/a"])
    notification_id = queue_notice(session, agency, case, at=T0)
    engine = engine_for(outbox_db)
    start = threading.Barrier(8)

    def contend(_: int) -> bool:
        with Session(engine) as own:
            start.wait()
            return claim(own, notification_id, now=T0, claim_seconds=60) is not None

    with ThreadPoolExecutor(max_workers=8) as pool:
        won = list(pool.map(contend, range(8)))

    assert won.count(True) == 1
    assert row(session, notification_id).attempts == 1


def test_an_expired_claim_can_be_taken_over(session: Session) -> None:
    agency, case = seed_case(session, notify_urls=["json://127.0.0.1:9/a"])
    notification_id = queue_notice(session, agency, case, at=T0)
    assert claim(session, notification_id, now=T0, claim_seconds=60) is not None

    taken_over = claim(session, notification_id, now=T0 + timedelta(seconds=61), claim_seconds=60)

    assert taken_over is not None
    assert taken_over.notification.attempts == 2


def test_a_row_that_is_not_due_cannot_be_claimed(session: Session) -> None:
    agency, case = seed_case(session, notify_urls=["json://127.0.0.1:9/a"])
    notification_id = queue_notice(session, agency, case, at=T0 + timedelta(minutes=1))

    assert claim(session, notification_id, now=T0, claim_seconds=60) is None
    assert row(session, notification_id).attempts == 0


def test_deliver_sends_and_marks_the_row_sent(
    session: Session, sink: Sink, settings: Settings
) -> None:
    agency, case = seed_case(session, notify_urls=[sink.url_for("a"), sink.url_for("b")])
    notification_id = queue_notice(session, agency, case, at=T0)

    result = deliver(notification_id, settings=settings, now_fn=at(T0))

    assert result == DeliveryResult.sent
    assert str(result) == "sent"
    stored = row(session, notification_id)
    assert stored.status == NotificationStatus.sent
    assert stored.sent_at == T0
    assert stored.claimed_until is None
    assert set(stored.delivered_targets) == {fingerprint(u) for u in agency.notify_urls}
    [message] = sink.messages("a")
    assert case.reference in message["title"]
    assert f"https://homeward.example.org/cases/{case.reference}" in message["body"]
    assert deliver(notification_id, settings=settings, now_fn=at(T0)) == DeliveryResult.skipped
    assert sink.count() == 2


def test_a_retry_after_partial_delivery_sends_only_to_the_missing_target(
    session: Session, sink: Sink, settings: Settings
) -> None:
    agency, case = seed_case(session, notify_urls=[sink.url_for("a"), sink.url_for("b")])
    notification_id = queue_notice(session, agency, case, at=T0)
    sink.fail("b")

    assert deliver(notification_id, settings=settings, now_fn=at(T0)) == (
        DeliveryResult.retry_later
    )
    stored = row(session, notification_id)
    assert stored.status == NotificationStatus.pending
    assert stored.delivered_targets == [fingerprint(sink.url_for("a"))]
    assert stored.last_error is not None and "500" in stored.last_error
    assert sink.url_for("b") not in stored.last_error
    assert stored.next_attempt_at > T0
    # Not due yet: a second sender that listed the row earlier must not send it now.
    assert deliver(notification_id, settings=settings, now_fn=at(T0)) == DeliveryResult.skipped

    sink.recover("b")
    later = stored.next_attempt_at
    assert deliver(notification_id, settings=settings, now_fn=at(later)) == DeliveryResult.sent

    assert sink.count("a") == 1
    assert sink.count("b") == 1
    assert sink.refused == 1
    stored = row(session, notification_id)
    assert stored.status == NotificationStatus.sent
    assert stored.attempts == 2
    assert stored.last_error is None


def test_backoff_grows_with_each_failed_attempt(session: Session) -> None:
    agency, case = seed_case(session, notify_urls=["json://127.0.0.1:9/a"])
    notification_id = queue_notice(session, agency, case, at=T0)
    now = T0
    delays: list[float] = []
    for attempt in range(1, 6):
        assert claim(session, notification_id, now=now, claim_seconds=60) is not None
        status = record_result(
            session,
            notification_id,
            delivered=[],
            error="JSON: refused",
            now=now,
            max_attempts=10,
        )
        assert status == NotificationStatus.pending
        stored = row(session, notification_id)
        delay = (stored.next_attempt_at - now).total_seconds()
        assert 0.5 * 30 * 2 ** (attempt - 1) <= delay <= 30 * 2 ** (attempt - 1)
        assert stored.claimed_until is None
        delays.append(delay)
        now = stored.next_attempt_at

    assert delays == sorted(delays)
    assert delays[-1] > 4 * delays[0]


def test_backoff_is_capped() -> None:
    for _ in range(50):
        assert timedelta(seconds=1800) <= backoff(20, base=30, cap=3600) <= timedelta(hours=1)
        assert timedelta(seconds=15) <= backoff(1) <= timedelta(seconds=30)


def test_the_last_allowed_attempt_fails_the_row(
    session: Session, sink: Sink, settings: Settings
) -> None:
    agency, case = seed_case(session, notify_urls=[sink.url_for("a")])
    notification_id = queue_notice(session, agency, case, at=T0)
    sink.fail("a")
    now = T0
    results = []
    for _ in range(settings.notification_max_attempts):
        results.append(deliver(notification_id, settings=settings, now_fn=at(now)))
        now = row(session, notification_id).next_attempt_at

    assert results == [
        DeliveryResult.retry_later,
        DeliveryResult.retry_later,
        DeliveryResult.failed,
    ]
    stored = row(session, notification_id)
    assert stored.status == NotificationStatus.failed
    assert stored.attempts == 3
    assert stored.last_error is not None and stored.last_error.startswith("JSON: ")
    assert due_notification_ids(session, now=now + timedelta(days=1)) == []
    assert sink.refused == 3


def test_an_agency_without_an_address_fails_at_once(session: Session, settings: Settings) -> None:
    agency, case = seed_case(session, notify_urls=[])
    notification_id = queue_notice(session, agency, case, at=T0)

    assert deliver(notification_id, settings=settings, now_fn=at(T0)) == DeliveryResult.failed

    stored = row(session, notification_id)
    assert stored.status == NotificationStatus.failed
    assert stored.last_error == NO_ADDRESS


def test_a_row_there_is_no_text_for_fails_at_once(
    session: Session, sink: Sink, settings: Settings
) -> None:
    agency, case = seed_case(session, notify_urls=[sink.url_for("a")])
    notification_id = queue_notice(session, agency, case, at=T0, kind="case_renamed")

    assert deliver(notification_id, settings=settings, now_fn=at(T0)) == DeliveryResult.failed

    assert row(session, notification_id).last_error is not None
    assert sink.count() == 0


def test_long_errors_are_cut_to_the_column(session: Session) -> None:
    agency, case = seed_case(session, notify_urls=["json://127.0.0.1:9/a"])
    notification_id = queue_notice(session, agency, case, at=T0)
    claim(session, notification_id, now=T0, claim_seconds=60)

    record_result(session, notification_id, delivered=[], error="x" * 2000, now=T0, max_attempts=5)

    assert len(row(session, notification_id).last_error or "") == 500


def test_retry_failed_puts_rows_back_in_the_queue(
    session: Session, sink: Sink, settings: Settings
) -> None:
    agency, case = seed_case(session, notify_urls=[sink.url_for("a")])
    first = queue_notice(session, agency, case, at=T0)
    second = queue_notice(session, agency, case, at=T0, kind="handover_confirmed")
    sink.fail("a")
    for notification_id in (first, second):
        now = T0
        for _ in range(settings.notification_max_attempts):
            deliver(notification_id, settings=settings, now_fn=at(now))
            now = row(session, notification_id).next_attempt_at
        assert row(session, notification_id).status == NotificationStatus.failed
    sink.recover("a")
    later = T0 + timedelta(days=1)

    assert retry_failed(session, notification_ids=[first], now=later) == 1
    stored = row(session, first)
    assert (stored.status, stored.attempts, stored.next_attempt_at) == (
        NotificationStatus.pending,
        0,
        later,
    )
    assert row(session, second).status == NotificationStatus.failed
    assert retry_failed(session, case_id=case.id, now=later) == 1
    assert set(due_notification_ids(session, now=later)) == {first, second}

    assert deliver(first, settings=settings, now_fn=at(later)) == DeliveryResult.sent
    assert deliver(second, settings=settings, now_fn=at(later)) == DeliveryResult.sent
    assert sink.count("a") == 2


def test_retry_failed_needs_exactly_one_selector(session: Session) -> None:
    with pytest.raises(ValueError):
        retry_failed(session, now=T0)
    with pytest.raises(ValueError):
        retry_failed(session, now=T0, notification_ids=[uuid.uuid4()], case_id=uuid.uuid4())

"""`flows.delivery`: what a flow pass sends, run in-process against SQLite and a sink."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from core.clock import utcnow
from flows import delivery
from flows.delivery import deliver_notifications, send_notification
from models import Notification
from models.enums import NotificationStatus
from tests.notifications.factories import queue_notice, seed_case
from tests.support.sink import Sink


def status_of(session: Session, notification_id: uuid.UUID) -> NotificationStatus:
    found = session.get_one(Notification, notification_id, populate_existing=True)
    session.commit()
    return found.status


def test_a_pass_sends_what_is_due_for_its_case_only(session: Session, sink: Sink) -> None:
    agency, case = seed_case(session, notify_urls=[sink.url_for("ngo")])
    other_agency, other = seed_case(session, notify_urls=[sink.url_for("other")])
    due = utcnow() - timedelta(minutes=1)
    mine = [queue_notice(session, agency, case, at=due) for _ in range(3)]
    theirs = queue_notice(session, other_agency, other, at=due)
    later = queue_notice(session, agency, case, at=utcnow() + timedelta(hours=1))

    assert deliver_notifications(case.id) == 3

    assert [status_of(session, n) for n in mine] == [NotificationStatus.sent] * 3
    assert status_of(session, theirs) == NotificationStatus.pending
    assert status_of(session, later) == NotificationStatus.pending
    assert len(sink.messages("ngo")) == 3 and sink.messages("other") == []
    # Nothing left due: a second pass sends nothing.
    assert deliver_notifications(case.id) == 0


def test_a_sweep_sends_what_is_due_for_every_case(session: Session, sink: Sink) -> None:
    agency, case = seed_case(session, notify_urls=[sink.url_for("ngo")])
    other_agency, other = seed_case(session, notify_urls=[sink.url_for("other")])
    due = utcnow() - timedelta(minutes=1)
    queue_notice(session, agency, case, at=due)
    queue_notice(session, other_agency, other, at=due)

    assert deliver_notifications() == 2
    assert len(sink.messages("ngo")) == len(sink.messages("other")) == 1


def test_a_failed_send_is_left_to_retry_and_the_others_go(session: Session, sink: Sink) -> None:
    agency, case = seed_case(session, notify_urls=[sink.url_for("ngo")])
    broken_agency, broken = seed_case(session, notify_urls=[sink.url_for("broken")])
    due = utcnow() - timedelta(minutes=1)
    sent = queue_notice(session, agency, case, at=due)
    failing = queue_notice(session, broken_agency, broken, at=due)
    sink.fail("broken")

    assert deliver_notifications() == 2

    assert status_of(session, sent) == NotificationStatus.sent
    assert status_of(session, failing) == NotificationStatus.pending


def test_an_error_before_the_send_leaves_the_row_to_the_sweeper(
    session: Session, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    agency, case = seed_case(session, notify_urls=[sink.url_for("ngo")])
    notification_id = queue_notice(session, agency, case, at=utcnow() - timedelta(minutes=1))

    def database_gone(*_: object, **__: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("could not connect"))

    monkeypatch.setattr(delivery, "deliver", database_gone)

    assert send_notification(notification_id) == "retry_later"
    assert deliver_notifications(case.id) == 1  # the pass goes on
    assert status_of(session, notification_id) == NotificationStatus.pending
    assert sink.messages("ngo") == []

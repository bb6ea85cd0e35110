"""Departure times a person could not have meant, tested without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from domain.plausible import CLOCK_SLACK, EARLY_DEPARTURE_DAYS, departure_problem

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LAUNCHED = NOW - timedelta(days=30)
TRAVEL = NOW.date() + timedelta(days=2)


def problem(departed_at: datetime, travel_date: date | None = TRAVEL) -> str | None:
    return departure_problem(departed_at, launched_at=LAUNCHED, travel_date=travel_date, now=NOW)


def test_a_departure_between_launch_and_now_is_plausible() -> None:
    assert problem(NOW - timedelta(hours=2)) is None


@pytest.mark.parametrize(
    "departed_at",
    [NOW + CLOCK_SLACK, LAUNCHED - CLOCK_SLACK, LAUNCHED - timedelta(minutes=9)],
    ids=["slack-after-now", "slack-before-launch", "minutes-before-launch"],
)
def test_clocks_may_disagree_by_minutes(departed_at: datetime) -> None:
    assert problem(departed_at, travel_date=None) is None


def test_a_departure_in_the_future_is_refused() -> None:
    found = problem(NOW + CLOCK_SLACK + timedelta(seconds=1))
    assert found is not None and found.startswith("departed_at: ") and "future" in found


def test_a_departure_before_the_launch_is_refused() -> None:
    found = problem(LAUNCHED - CLOCK_SLACK - timedelta(seconds=1), travel_date=None)
    assert found is not None
    assert found.startswith("departed_at: the departure time is before the case was launched")
    assert LAUNCHED.strftime("%Y-%m-%d %H:%M UTC") in found


def test_a_departure_weeks_before_the_travel_date_is_refused() -> None:
    travel = NOW.date() + timedelta(days=EARLY_DEPARTURE_DAYS + 1)
    found = problem(NOW, travel_date=travel)
    assert found is not None and f"({travel.isoformat()})" in found
    assert problem(NOW, travel_date=NOW.date() + timedelta(days=EARLY_DEPARTURE_DAYS)) is None


def test_the_early_limit_counts_days_where_the_escort_is() -> None:
    # 23:30 on 16 November in Dhaka is still the 16th there, though the 17th is near.
    dhaka = timezone(timedelta(hours=6))
    departed = datetime(2026, 11, 16, 23, 30, tzinfo=dhaka)
    limit = departed.date() + timedelta(days=EARLY_DEPARTURE_DAYS)
    assert problem(departed, travel_date=limit) is None
    assert problem(departed, travel_date=limit + timedelta(days=1)) is not None


def test_a_late_departure_is_plausible() -> None:
    assert problem(NOW, travel_date=NOW.date() - timedelta(days=20)) is None

"""Dates and times a person could mean in a payload: refused with a message they can act
on, before a date no database or clock arithmetic can hold reaches either."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

# Nothing Homeward records happened before it could have been recorded.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# A travel document is issued for at most ten years; a journey is planned months ahead.
DOCUMENT_YEARS = 10
PLANNING_YEARS = 2


def _years_ahead(years: int) -> date:
    return date.today() + timedelta(days=366 * years)


def _recent(value: datetime) -> datetime:
    try:
        in_utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        in_utc = None
    if in_utc is None or in_utc < EARLIEST:
        raise ValueError("must be a time since 2000 with its zone, as in 2027-01-15T06:30:00+05:30")
    return value


def _document_expiry(value: date) -> date:
    if value > _years_ahead(DOCUMENT_YEARS):
        raise ValueError(
            f"a travel document is valid for at most {DOCUMENT_YEARS} years: check the date"
        )
    return value


def _travel_date(value: date) -> date:
    if value > _years_ahead(PLANNING_YEARS):
        raise ValueError(
            f"the journey must be planned within {PLANNING_YEARS} years: check the date"
        )
    return value


RecentMoment = Annotated[AwareDatetime, AfterValidator(_recent)]
DocumentExpiry = Annotated[date, AfterValidator(_document_expiry)]
TravelDate = Annotated[date, AfterValidator(_travel_date)]


# Clocks of phones and offices disagree by minutes: a time this close to a limit passes.
CLOCK_SLACK = timedelta(minutes=10)
# A journey can leave ahead of its plan, but not weeks ahead: more likely a mistyped date.
EARLY_DEPARTURE_DAYS = 14
_SEND_DEPARTURE = "send the time the survivor left, with its zone, e.g. 2026-12-01T10:00:00+05:30"


def departure_problem(
    departed_at: datetime, *, launched_at: datetime, travel_date: date | None, now: datetime
) -> str | None:
    """Why a departure time cannot be the one meant, in words the escort can act on."""
    if departed_at > now + CLOCK_SLACK:
        return f"departed_at: the departure time is in the future; {_SEND_DEPARTURE}"
    if departed_at < launched_at - CLOCK_SLACK:
        return (
            "departed_at: the departure time is before the case was launched "
            f"({launched_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC); {_SEND_DEPARTURE}"
        )
    # The date where the escort was, as the travel date was planned in local days.
    if travel_date is not None and (travel_date - departed_at.date()).days > EARLY_DEPARTURE_DAYS:
        return (
            f"departed_at: the departure is more than {EARLY_DEPARTURE_DAYS} days before "
            f"the planned travel date ({travel_date.isoformat()}); check the date and its zone"
        )
    return None

"""ISO 3166-1 alpha-2 country codes."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import pycountry
from pydantic import AfterValidator

_CODES = frozenset(c.alpha_2 for c in pycountry.countries)


def _known_country(value: str) -> str:
    code = value.strip().upper()
    if code not in _CODES:
        # The value is not repeated: a mistyped field may hold personal data.
        raise ValueError("not an ISO 3166-1 alpha-2 country code (e.g. IN, BD, NP)")
    return code


CountryCode = Annotated[str, AfterValidator(_known_country)]


# The time zone agencies of a country keep, where the country has one; the pages read a
# time typed without a zone (a departure, a handover) as this zone's.
_TIME_ZONES = {
    "AF": "Asia/Kabul",
    "BD": "Asia/Dhaka",
    "BT": "Asia/Thimphu",
    "IN": "Asia/Kolkata",
    "LK": "Asia/Colombo",
    "MM": "Asia/Yangon",
    "MV": "Indian/Maldives",
    "NP": "Asia/Kathmandu",
    "PK": "Asia/Karachi",
    "AE": "Asia/Dubai",
    "SA": "Asia/Riyadh",
    "OM": "Asia/Muscat",
    "QA": "Asia/Qatar",
    "KW": "Asia/Kuwait",
    "BH": "Asia/Bahrain",
    "MY": "Asia/Kuala_Lumpur",
    "TH": "Asia/Bangkok",
}


def time_zone(country: str) -> ZoneInfo:
    """The zone of a country's agencies; UTC for a country of several zones or none known."""
    return ZoneInfo(_TIME_ZONES.get(country.upper(), "UTC"))

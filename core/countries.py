"""ISO 3166-1 alpha-2 country codes."""

from __future__ import annotations

from typing import Annotated

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

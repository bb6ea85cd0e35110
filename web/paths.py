"""What a page's path names, read as the pages read it."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from core.errors import Invalid, NotFound
from domain.cases import case_id_for


def case_in_path(session: Session, key: str) -> uuid.UUID:
    """The case a page's path names by id or reference. A key that cannot be one is a page
    that does not exist (404), not a form to correct (the API answers it with 422)."""
    try:
        return case_id_for(session, key)
    except Invalid:
        raise NotFound("no such case") from None

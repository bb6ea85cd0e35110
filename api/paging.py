"""Query parameters and the Link header of the paged lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from domain.paging import DEFAULT_LIMIT, MAX_LIMIT

# Bounds are checked by the domain, which names both in its 422; published here as well.
Limit = Annotated[
    int,
    Query(
        description=(
            f"How many to return, 1 to {MAX_LIMIT}. More are on the next page: see the "
            '`Link: <...>; rel="next"` header.'
        ),
        json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT},
    ),
]
Cursor = Annotated[
    str | None,
    Query(
        description=(
            "Where the page starts: taken as it is from the previous page's "
            '`Link: <...>; rel="next"` header, never built by hand. Leave it out for the '
            "first page."
        ),
    ),
]
DEFAULT = DEFAULT_LIMIT

PAGED = {
    "headers": {
        "Link": {
            "description": (
                'The next page, as `<URL>; rel="next"` (RFC 8288): this request\'s URL with '
                "an opaque `cursor`. Absent on the last page."
            ),
            "schema": {"type": "string"},
        }
    }
}


def link_next_page(request: Request, response: Response, cursor: str | None) -> None:
    """Point at the next page with this request's own parameters and the new cursor."""
    if cursor is None:
        return
    url = request.url.include_query_params(cursor=cursor)
    # A reference relative to this request (RFC 8288 allows it): right behind any proxy.
    response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'

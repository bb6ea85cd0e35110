"""What every error response must look like."""

from __future__ import annotations

from httpx import Response

KIND_BY_STATUS = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    422: "ValidationError",
}


def error(response: Response, status: int) -> str:
    """Assert the status and the exact {"error", "detail"} shape; return the detail."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error", "detail"}, body
    assert body["error"] == KIND_BY_STATUS[status], body
    assert isinstance(body["detail"], str) and body["detail"], body
    detail: str = body["detail"]
    return detail


# Planted in refused bodies: no answer may carry it back.
PLANTED = "Planted-Value-8e41"


def refused(response: Response) -> str:
    """A 422 that does not carry back the value planted in the refused body; its detail."""
    assert PLANTED not in response.text
    return error(response, 422)

"""The published OpenAPI document: every error each operation can answer, in the one shape
the API answers errors in, and the links from an answer to the operations its ids feed.

FastAPI documents only successes and its own 422 shape ({"detail": [...]}), which Homeward
never sends. The errors every operation of a kind shares (401 with a token, 404 with an id
in the path, 413/415/422 with a body) are derived from the operation itself; the refusals
and conflicts that depend on the operation's rules are listed here, next to the reasons.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import ErrorBody

V1 = "/api/v1"

# (method, path) → why the operation may answer 403, and why 409.
_FORBIDDEN: dict[tuple[str, str], str] = {
    ("post", "/agencies"): "You are not an administrator.",
    ("post", "/users"): "You are not an administrator.",
    ("post", "/users/{user_id}/deactivate"): "You are not an administrator.",
    ("post", "/cases"): "Only a coordinator launches a case.",
    ("get", "/cases"): "Administrators do not read cases.",
    ("get", "/cases/{case_id}"): "Administrators do not read cases.",
    ("get", "/cases/{case_id}/timeline"): "Administrators do not read cases.",
    ("get", "/cases/{case_id}/audit"): (
        "Only coordinators and supervisors of the coordinating NGO read the audit."
    ),
    ("post", "/cases/{case_id}/consent"): "Only the coordinating NGO records consent.",
    ("get", "/tasks"): "Administrators have no inbox.",
    ("post", "/tasks/{task_id}/complete"): "Your role cannot complete this kind of task.",
    ("post", "/cases/{case_id}/reopen"): (
        "Only coordinators and supervisors of the coordinating NGO reopen a case."
    ),
    ("get", "/cases/{case_id}/holds"): (
        "Only coordinators and supervisors of the coordinating NGO manage holds."
    ),
    ("post", "/cases/{case_id}/holds"): (
        "Only coordinators and supervisors of the coordinating NGO manage holds."
    ),
    ("post", "/cases/{case_id}/holds/{hold_id}/release"): (
        "Only coordinators and supervisors of the coordinating NGO manage holds."
    ),
    ("post", "/cases/{case_id}/transfer"): "Only a shelter officer transfers a survivor.",
    ("post", "/cases/{case_id}/transfer/revoke"): "Only a shelter officer transfers a survivor.",
    ("get", "/notifications"): "You are not an administrator.",
    ("post", "/notifications/{notification_id}/retry"): (
        "Only administrators and the case's coordinating NGO retry a notification."
    ),
}
_CONFLICT: dict[tuple[str, str], str] = {
    ("post", "/users"): "The username is taken.",
    ("post", "/users/{user_id}/deactivate"): "You cannot deactivate your own account.",
    ("post", "/cases/{case_id}/consent"): "The case is closed or rejected.",
    ("post", "/tasks/{task_id}/complete"): (
        "The task is no longer open, or its case is no longer open, or the state of the "
        "case refuses the decision (a full shelter, a departure that may not happen yet)."
    ),
    ("post", "/cases"): "The Idempotency-Key is in use by a request still running.",
    ("post", "/cases/{case_id}/reopen"): "The case is not closed, or cannot be reopened.",
    ("post", "/cases/{case_id}/holds"): "A hold is active already, or the case has left.",
    ("post", "/cases/{case_id}/holds/{hold_id}/release"): "The hold is released already.",
    ("post", "/cases/{case_id}/transfer"): (
        "A transfer is pending, or the survivor is not yet in your shelter's care."
    ),
    ("post", "/cases/{case_id}/transfer/revoke"): "No transfer of the case is pending.",
    ("post", "/notifications/{notification_id}/retry"): (
        "The notification was delivered or is already waiting to be sent."
    ),
}

# (method, path, status) → links: name → (target method, target path, parameter, expression).
_LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, str, str]]] = {
    ("post", "/cases", "201"): {
        "GetCase": ("get", "/cases/{case_id}", "case_id", "$response.body#/id"),
        "GetTimeline": ("get", "/cases/{case_id}/timeline", "case_id", "$response.body#/id"),
        "GetAudit": ("get", "/cases/{case_id}/audit", "case_id", "$response.body#/id"),
        "RecordConsent": ("post", "/cases/{case_id}/consent", "case_id", "$response.body#/id"),
    },
    ("get", "/cases", "200"): {
        "GetFirstCase": ("get", "/cases/{case_id}", "case_id", "$response.body#/0/id"),
    },
    ("post", "/users", "201"): {
        "Deactivate": ("post", "/users/{user_id}/deactivate", "user_id", "$response.body#/id"),
    },
    ("get", "/tasks", "200"): {
        "CompleteFirstTask": (
            "post",
            "/tasks/{task_id}/complete",
            "task_id",
            "$response.body#/0/id",
        ),
    },
    ("post", "/tasks/{task_id}/complete", "200"): {
        "GetTaskCase": ("get", "/cases/{case_id}", "case_id", "$response.body#/case_id"),
    },
}

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def document_api(app: FastAPI) -> None:
    """Replace the app's OpenAPI document with the one described above (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            app.openapi_schema = _complete(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(document: dict[str, Any]) -> dict[str, Any]:
    operation_ids = {
        (method, path): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    for path, item in document["paths"].items():
        short = path.removeprefix(V1)
        for method, operation in item.items():
            _document_errors(operation, (method, short))
            for (lm, lp, status), links in _LINKS.items():
                if (lm, lp) == (method, short) and status in operation["responses"]:
                    operation["responses"][status]["links"] = {
                        name: {
                            "operationId": operation_ids[(target, V1 + target_path)],
                            "parameters": {parameter: expression},
                        }
                        for name, (target, target_path, parameter, expression) in links.items()
                    }
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorBody"] = ErrorBody.model_json_schema()
    # FastAPI's own error shapes, which no answer has.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return document


def _document_errors(operation: dict[str, Any], key: tuple[str, str]) -> None:
    responses: dict[str, Any] = operation["responses"]
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    expected: dict[str, str] = {}
    if operation.get("security"):
        expected["401"] = (
            "No bearer token, or one that expired, is not valid, or belongs to a "
            "deactivated account."
        )
    if key in _FORBIDDEN:
        expected["403"] = _FORBIDDEN[key]
    if any(p.get("in") == "path" for p in parameters):
        expected["404"] = "No such object, or none that your agency may see."
    if key in _CONFLICT:
        expected["409"] = _CONFLICT[key]
    if has_body:
        expected["413"] = "The body is larger than the API accepts (1 MiB by default)."
        expected["415"] = "The body is not of the media type the operation reads."
    if has_body or parameters:
        expected["422"] = "The request is not valid; `detail` names each field and what is wrong."
    for status, description in expected.items():
        responses.setdefault(status, {"description": description})
        # Routes may describe an error themselves; FastAPI's generic text is replaced.
        if status == "422" or not responses[status].get("description"):
            responses[status]["description"] = description
    for status, response in responses.items():
        if status[0] in "45":
            response["content"] = {"application/json": {"schema": _ERROR_REF}}

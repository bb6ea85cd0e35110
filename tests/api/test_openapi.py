"""The contract other agencies' systems are written against."""

from __future__ import annotations

from fastapi.testclient import TestClient

PINNED = {
    ("get", "/api/v1/health"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/agencies"),
    ("get", "/api/v1/agencies"),
    ("post", "/api/v1/users"),
    ("post", "/api/v1/cases"),
    ("get", "/api/v1/cases"),
    ("get", "/api/v1/cases/{case_id}"),
    ("get", "/api/v1/cases/{case_id}/timeline"),
    ("get", "/api/v1/tasks"),
    ("post", "/api/v1/tasks/{task_id}/complete"),
}


def test_openapi_document_lists_every_pinned_route(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    published = {(method, path) for path, item in document["paths"].items() for method in item}
    assert published >= PINNED


def test_interactive_docs_are_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "/api/v1/openapi.json" in response.text


def test_unknown_route_answers_in_the_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "NotFound", "detail": "Not Found"}

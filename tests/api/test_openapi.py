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


def test_a_case_in_a_path_is_named_by_its_id_or_its_reference(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    operations = [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        if "{case_id}" in path
        for method, operation in item.items()
    ]
    assert len(operations) >= 10
    for where, operation in operations:
        (parameter,) = [p for p in operation["parameters"] if p["name"] == "case_id"]
        assert parameter["in"] == "path" and parameter["required"], where
        # A string, not a UUID: a reference such as HW-533K-VTNF is accepted too.
        assert parameter["schema"]["type"] == "string", where
        assert "format" not in parameter["schema"], where
        assert "reference" in parameter["description"], where
        assert any(e.startswith("HW-") for e in parameter["schema"]["examples"]), where
        assert "404" in operation["responses"] and "422" in operation["responses"], where


def test_the_case_list_takes_a_reference(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    parameters = document["paths"]["/api/v1/cases"]["get"]["parameters"]
    (reference,) = [p for p in parameters if p["name"] == "reference"]
    assert reference["in"] == "query" and not reference["required"]
    assert "reference" in reference["description"]


def test_the_lists_take_a_limit_and_a_cursor_and_link_the_next_page(
    client: TestClient,
) -> None:
    document = client.get("/api/v1/openapi.json").json()
    filters = {"/api/v1/cases": {"stage", "status", "overdue"}, "/api/v1/tasks": {"kind"}}
    for path, names in filters.items():
        operation = document["paths"][path]["get"]
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert set(parameters) >= {"limit", "cursor"} | names, path
        limit = parameters["limit"]["schema"]
        assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 200, 50), path
        assert not parameters["cursor"]["required"], path
        assert "Link" in operation["responses"]["200"]["headers"], path
        assert 'rel="next"' in operation["description"], path


def test_timeline_events_say_who_acted(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    event = document["components"]["schemas"]["EventPublic"]
    assert set(event["required"]) >= {
        "seq",
        "at",
        "kind",
        "actor_user_id",
        "actor_agency_id",
        "actor_agency_name",
        "actor_role",
        "actor_username",
        "data",
    }
    assert "coordinating NGO" in event["description"]


def test_interactive_docs_are_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "/api/v1/openapi.json" in response.text


def test_unknown_route_answers_in_the_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "NotFound", "detail": "Not Found"}

"""Hostile and absurd requests: each answers a 4xx in the error shape, says what to fix,
never echoes what was sent, and leaves every table as it was."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlmodel import SQLModel

from api.app import create_app
from api.limits import RequestSizeLimit
from core.db import engine_for
from core.settings import Settings
from models.enums import TaskKind
from tests import factories
from tests.factories import Corridor, Member

# Planted in refused bodies: no answer may carry it back.
PLANTED = "Planted-Value-7f3a"
MiB = 1024 * 1024


def row_counts(settings: Settings) -> dict[str, int]:
    """Rows in every table of the schema."""
    with engine_for(settings.resolved_database_url).connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


@contextmanager
def unchanged(settings: Settings) -> Iterator[None]:
    before = row_counts(settings)
    yield
    assert row_counts(settings) == before


def refused(response: Response, *statuses: int) -> str:
    """Assert a refusal with one of `statuses` in the {"error", "detail"} shape, without the
    planted value; return the detail."""
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error", "detail"}, body
    assert isinstance(body["error"], str) and body["error"], body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert PLANTED not in response.text
    detail: str = body["detail"]
    return detail


@pytest.fixture
def case(client: TestClient, corridor: Corridor) -> dict[str, Any]:
    return factories.launch(client, corridor.ngo)


def json_routes(c: Corridor, case_id: str) -> list[tuple[str, Member, dict[str, Any]]]:
    """Each route reading a JSON body (task completions apart), who may call it, and a body
    it accepts."""
    return [
        ("/api/v1/cases", c.ngo, factories.launch_case(nationality="NP")),
        (
            "/api/v1/agencies",
            c.admin,
            {"name": "Kathmandu Shelter", "kind": "shelter", "country": "NP", "capacity": 5},
        ),
        (
            "/api/v1/users",
            c.admin,
            {
                "username": "new-worker",
                "password": "a-long-password-1",
                "agency_id": str(c.ngo.agency_id),
                "role": "case_worker",
            },
        ),
        (f"/api/v1/cases/{case_id}/consent", c.ngo, {"follow_up": False}),
    ]


def post_raw(
    client: TestClient, url: str, member: Member, content: bytes, content_type: str | None
) -> Response:
    headers = dict(member.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.post(url, content=content, headers=headers)


# --- size --------------------------------------------------------------------------------


def test_request_limit_defaults_to_one_mebibyte(settings: Settings) -> None:
    assert settings.max_request_bytes == MiB


def test_body_over_the_limit_is_refused_by_its_length(
    client: TestClient, corridor: Corridor, settings: Settings, case: dict[str, Any]
) -> None:
    # Valid JSON, one byte over: refused for its size alone.
    filler = "x" * (MiB - 40)
    body = json.dumps({"survivor": {"given_name": filler}}).encode()
    body += b" " * (MiB + 1 - len(body))
    assert len(body) == MiB + 1
    for url, member, _ in json_routes(corridor, case["id"]):
        with unchanged(settings):
            response = post_raw(client, url, member, body, "application/json")
        detail = refused(response, 413)
        assert response.json()["error"] == "PayloadTooLarge"
        assert str(MiB) in detail


def test_body_at_the_limit_is_read(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    body = json.dumps(factories.launch_case(nationality="NP")).encode()
    body += b" " * (MiB - len(body))
    response = post_raw(client, "/api/v1/cases", corridor.ngo, body, "application/json")
    assert response.status_code == 201, response.text


def test_streamed_body_without_length_is_counted(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"survivor": {"given_name": "'
        for _ in range(40):  # 40 x 64 KiB: 2.5 MiB in all
            yield b"a" * 65536
        yield b'"}}'

    with unchanged(settings):
        response = client.post(
            "/api/v1/cases",
            content=chunks(),
            headers={**corridor.ngo.headers, "Content-Type": "application/json"},
        )
    refused(response, 413)


def test_streamed_body_is_not_read_past_the_limit() -> None:
    """At the ASGI level: chunks stop being read once the limit is passed, and the
    application is never called."""
    reached: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])

    limit = 10_000
    middleware = RequestSizeLimit(app, limit=limit)
    asked = 0

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked += 1
        return {"type": "http.request", "body": b"a" * 1000, "more_body": asked < 1000}

    answer: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        answer.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/cases", "headers": []}
    asyncio.run(middleware(scope, receive, send))
    assert reached == []
    assert asked == limit // 1000 + 1
    assert answer[0]["status"] == 413
    assert json.loads(answer[1]["body"])["error"] == "PayloadTooLarge"


def test_real_server_refuses_a_chunked_body_over_the_limit(
    settings: Settings, corridor: Corridor
) -> None:
    """Through uvicorn on the loopback, with Transfer-Encoding: chunked as a client
    streaming an upload sends it."""
    small = settings.model_copy(update={"max_request_bytes": 4096})
    config = uvicorn.Config(
        create_app(small, wake_case=lambda *_: None),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start within 20 s"
        port = server.servers[0].sockets[0].getsockname()[1]

        def chunks() -> Iterator[bytes]:
            yield b'{"survivor": {"given_name": "'
            for _ in range(16):
                yield b"a" * 1024
            yield b'"}}'

        with unchanged(settings), httpx.Client(timeout=10) as http:
            response = http.post(
                f"http://127.0.0.1:{port}/api/v1/cases",
                content=chunks(),
                headers={**corridor.ngo.headers, "Content-Type": "application/json"},
            )
            assert "content-length" not in response.request.headers
            assert response.request.headers["transfer-encoding"] == "chunked"
        assert "4096 bytes" in refused(response, 413)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_limit_is_a_setting(settings: Settings, corridor: Corridor) -> None:
    small = settings.model_copy(update={"max_request_bytes": 2048})
    with TestClient(create_app(small, wake_case=lambda *_: None)) as client:
        body = json.dumps(factories.launch_case(nationality="NP")).encode()
        assert len(body) < 2048
        accepted = post_raw(client, "/api/v1/cases", corridor.ngo, body, "application/json")
        assert accepted.status_code == 201, accepted.text
        with unchanged(settings):
            big = post_raw(client, "/api/v1/cases", corridor.ngo, body + b" " * 2048, None)
        assert "2048 bytes" in refused(big, 413)


# --- shape of the body ---------------------------------------------------------------------


@pytest.mark.parametrize("depth", [100, 1_000, 5_000, 200_000])
def test_deeply_nested_json_is_refused(
    client: TestClient, corridor: Corridor, settings: Settings, case: dict[str, Any], depth: int
) -> None:
    arrays = b"[" * depth + b"]" * depth
    objects = b'{"a":' * depth + b"1" + b"}" * depth
    inside = b'{"survivor": {"given_name": ' + arrays + b"}}"
    routes = [(url, member) for url, member, _ in json_routes(corridor, case["id"])]
    task = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)
    routes.append((f"/api/v1/tasks/{task['id']}/complete", corridor.consulate))
    for url, member in routes:
        for body in (arrays, objects, inside):
            with unchanged(settings):
                response = post_raw(client, url, member, body, "application/json")
            refused(response, 413, 422)


def test_invalid_utf8_is_refused(
    client: TestClient, corridor: Corridor, settings: Settings, case: dict[str, Any]
) -> None:
    for url, member, good in json_routes(corridor, case["id"]):
        text = json.dumps(good).encode()
        # A Latin-1 byte where UTF-8 needs a continuation.
        broken = text.replace(b'"', b'"\xe9\xff', 1)
        with unchanged(settings):
            response = post_raw(client, url, member, broken, "application/json")
        assert "UTF-8" in refused(response, 422)


def test_malformed_json_says_where(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    with unchanged(settings):
        response = post_raw(
            client,
            "/api/v1/cases",
            corridor.ngo,
            b'{"survivor": {"given_name": "' + PLANTED.encode() + b'",}',
            "application/json",
        )
    assert "not valid JSON" in refused(response, 422)


def test_number_with_thousands_of_digits_is_refused(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    body = json.dumps(factories.launch_case(birth_date=None, age_estimate=1)).encode()
    body = body.replace(b'"age_estimate": 1', b'"age_estimate": ' + b"9" * 5000)
    with unchanged(settings):
        response = post_raw(client, "/api/v1/cases", corridor.ngo, body, "application/json")
    assert "digits" in refused(response, 422)


def test_body_that_is_not_an_object_is_told_so(
    client: TestClient, corridor: Corridor, settings: Settings, case: dict[str, Any]
) -> None:
    task = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)
    routes = [(url, member) for url, member, _ in json_routes(corridor, case["id"])]
    routes.append((f"/api/v1/tasks/{task['id']}/complete", corridor.consulate))
    for url, member in routes:
        for body in ([1, 2], "text", 12, None, [[[]]]):
            with unchanged(settings):
                response = client.post(url, json=body, headers=member.headers)
            detail = refused(response, 422)
            assert detail == "the body must be a JSON object, a dictionary of fields" or (
                detail.startswith("body: no body was sent; send a JSON object")
            ), detail


@pytest.mark.parametrize(
    ("content_type", "encode"),
    [
        ("text/plain", lambda body: json.dumps(body).encode()),
        ("application/x-www-form-urlencoded", lambda body: b"survivor=x&current_country=IN"),
        ("multipart/form-data; boundary=xyz", lambda body: b"--xyz--\r\n"),
        ("application/xml", lambda body: b"<case/>"),
        (None, lambda body: json.dumps(body).encode()),
    ],
    ids=["text", "form", "multipart", "xml", "none"],
)
def test_json_routes_refuse_other_media_types(
    client: TestClient,
    corridor: Corridor,
    settings: Settings,
    case: dict[str, Any],
    content_type: str | None,
    encode: Any,
) -> None:
    for url, member, good in json_routes(corridor, case["id"]):
        with unchanged(settings):
            response = post_raw(client, url, member, encode(good), content_type)
        assert "Content-Type: application/json" in refused(response, 415)
        assert response.json()["error"] == "UnsupportedMediaType"


def test_json_with_charset_is_read(client: TestClient, corridor: Corridor) -> None:
    body = json.dumps(factories.launch_case(nationality="NP")).encode()
    response = post_raw(
        client, "/api/v1/cases", corridor.ngo, body, "application/json; charset=utf-8"
    )
    assert response.status_code == 201, response.text


def test_empty_json_body_names_what_is_missing(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    with unchanged(settings):
        response = post_raw(client, "/api/v1/cases", corridor.ngo, b"", None)
    assert "required" in refused(response, 422).lower()


def test_login_refuses_json(client: TestClient, corridor: Corridor, settings: Settings) -> None:
    with unchanged(settings):
        response = client.post(
            "/api/v1/auth/token",
            json={"username": corridor.ngo.username, "password": factories.PASSWORD},
        )
    assert "application/x-www-form-urlencoded" in refused(response, 415)


# --- unknown fields ------------------------------------------------------------------------


def _with_unknown(body: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """A deep copy of body with an unknown field `smuggled` at `path`."""
    copy = json.loads(json.dumps(body))
    target = copy
    for key in path:
        target = target[key]
    target["smuggled"] = PLANTED
    return copy


def test_unknown_fields_are_named_and_not_echoed(
    client: TestClient, corridor: Corridor, settings: Settings, case: dict[str, Any]
) -> None:
    for url, member, good in json_routes(corridor, case["id"]):
        paths: list[tuple[str, ...]] = [()]
        if url == "/api/v1/cases":
            paths += [("survivor",), ("consent",)]
        for path in paths:
            with unchanged(settings):
                response = client.post(url, json=_with_unknown(good, path), headers=member.headers)
            detail = refused(response, 422)
            where = ".".join((*path, "smuggled"))
            assert f"{where}: this is not a field Homeward accepts here; remove it" in detail


def test_very_long_unknown_field_name_is_cut(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    body = {**factories.launch_case(), "n" * 50_000: 1}
    with unchanged(settings):
        response = client.post("/api/v1/cases", json=body, headers=corridor.ngo.headers)
    assert len(refused(response, 422)) < 300


# --- numbers and ids -----------------------------------------------------------------------


def test_enormous_integers_are_refused(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    tries = [
        (
            "/api/v1/cases",
            corridor.ngo,
            factories.launch_case(birth_date=None, age_estimate=10**100),
        ),
        ("/api/v1/cases", corridor.ngo, factories.launch_case(birth_date=None, age_estimate=-1)),
        (
            "/api/v1/agencies",
            corridor.admin,
            {"name": "Huge", "kind": "shelter", "country": "BD", "capacity": 10**30},
        ),
        (
            "/api/v1/agencies",
            corridor.admin,
            {"name": "Huge", "kind": "shelter", "country": "BD", "capacity": 1e308},
        ),
    ]
    for url, member, body in tries:
        with unchanged(settings):
            response = client.post(url, json=body, headers=member.headers)
        detail = refused(response, 422)
        assert "age_estimate" in detail or "capacity" in detail, detail
        assert "1000000000" not in detail


def test_non_finite_numbers_are_refused(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    good = json.dumps({"name": "Huge", "kind": "shelter", "country": "BD", "capacity": 1}).encode()
    for literal in (b"NaN", b"Infinity", b"-Infinity", b"1e400"):
        body = good.replace(b'"capacity": 1', b'"capacity": ' + literal)
        with unchanged(settings):
            response = post_raw(
                client, "/api/v1/agencies", corridor.admin, body, "application/json"
            )
        assert "capacity" in refused(response, 422)


ID_ROUTES = [
    ("get", "/api/v1/cases/{}"),
    ("get", "/api/v1/cases/{}/timeline"),
    ("get", "/api/v1/cases/{}/audit"),
    ("post", "/api/v1/cases/{}/consent"),
    ("post", "/api/v1/tasks/{}/complete"),
    ("post", "/api/v1/users/{}/deactivate"),
]


@pytest.mark.parametrize(
    "bad_id",
    ["not-a-uuid", "1", "x" * 8000, "%00", "..", "12345678-1234-1234-1234-1234567890123", "'--"],
    ids=["word", "number", "very-long", "nul", "dots", "too-long-group", "quote"],
)
def test_absurd_ids_are_refused(
    client: TestClient, corridor: Corridor, settings: Settings, bad_id: str
) -> None:
    for method, path in ID_ROUTES:
        member = corridor.admin if "users" in path else corridor.ngo
        body = {"follow_up": True} if method == "post" else None
        with unchanged(settings):
            response = client.request(
                method.upper(), path.format(bad_id), json=body, headers=member.headers
            )
        # ".." resolves to another route that does not exist; the others name the id.
        detail = refused(response, 404, 422)
        if response.status_code == 422:
            assert "must be a UUID" in detail, detail
            assert bad_id not in detail or len(bad_id) < 2


def test_unknown_ids_are_not_found(
    client: TestClient, corridor: Corridor, settings: Settings
) -> None:
    for method, path in ID_ROUTES:
        member = corridor.admin if "users" in path else corridor.ngo
        body = {"follow_up": True} if "consent" in path else factories.follow_up()
        with unchanged(settings):
            response = client.request(
                method.upper(),
                path.format(uuid.uuid4()),
                json=body if method == "post" else None,
                headers=member.headers,
            )
        refused(response, 404)


# --- dates ---------------------------------------------------------------------------------

FAR_DATES = ["0001-01-01", "1899-12-31", "9999-12-31", "10000-01-01", "2001-02-30", "-001-01-01"]
FAR_MOMENTS = [
    "0001-01-01T00:00:00+05:30",  # before the UTC minimum once moved to UTC
    "0001-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "9999-12-31T23:59:59-05:00",  # past the UTC maximum once moved to UTC
    "9999-12-31T23:59:59Z",
    "2027-01-15T25:00:00Z",
    "2027-01-15T06:30:00",  # no zone
    "2027-01-15T06:30:00+25:00",
]


@pytest.mark.parametrize("birth_date", FAR_DATES)
def test_far_birth_dates_are_refused(
    client: TestClient, corridor: Corridor, settings: Settings, birth_date: str
) -> None:
    with unchanged(settings):
        response = client.post(
            "/api/v1/cases",
            json=factories.launch_case(birth_date=birth_date),
            headers=corridor.ngo.headers,
        )
    assert "birth_date" in refused(response, 422)


def _hostile_completions(kind: TaskKind, c: Corridor) -> list[dict[str, Any]]:
    """Bodies the task of `kind` must refuse, each with a problem a person can fix."""
    good = {k: b for k, _, b in factories.happy_path(c)}[kind]
    bodies = [_with_unknown(good, ()), {**good, "notes": PLANTED, "extra": [1, 2]}, {}]
    if kind == TaskKind.verify_nationality:
        bodies += [{**good, "travel_document_expires_on": d} for d in FAR_DATES]
        bodies += [{**good, "decision": PLANTED}]
    if kind == TaskKind.plan_transport:
        bodies += [{**good, "travel_date": d} for d in FAR_DATES]
        bodies += [{**good, "escort_agency_id": "x" * 5000}]
        bodies += [{**good, "escort_agency_id": str(uuid.uuid4())}]
    if kind == TaskKind.confirm_departure:
        bodies += [{"departed_at": m} for m in FAR_MOMENTS]
    if kind == TaskKind.confirm_handover:
        bodies += [{"received_at": m} for m in FAR_MOMENTS]
    if kind == TaskKind.record_follow_up:
        bodies += [{**good, "outcome": 10**100}, {**good, "notes": "n" * 10_000}]
    return bodies


def test_task_completions_refuse_hostile_bodies(
    client: TestClient, corridor: Corridor, settings: Settings, case: dict[str, Any]
) -> None:
    """Walk a case along the happy path; at each task, every hostile body is refused and
    changes nothing, then the right body completes it."""
    for kind, member, good in factories.happy_path(corridor):
        task = factories.walk_to(client, corridor, case["id"], kind)
        url = f"/api/v1/tasks/{task['id']}/complete"
        for body in _hostile_completions(kind, corridor):
            with unchanged(settings):
                response = client.post(url, json=body, headers=member.headers)
            detail = refused(response, 422)
            assert "Input should be a valid dictionary" not in detail, detail
        for raw, media in (
            (b"[" * 50_000 + b"]" * 50_000, "application/json"),
            (json.dumps(good).encode(), "text/plain"),
            (b'{"decision": "\xff"}', "application/json"),
        ):
            with unchanged(settings):
                response = post_raw(client, url, member, raw, media)
            refused(response, 415, 422)
        response = factories.complete(client, member, task["id"], good)
        assert response.status_code == 200, response.text


def test_errors_name_the_field_and_say_what_to_do(
    client: TestClient, corridor: Corridor, case: dict[str, Any]
) -> None:
    task = factories.walk_to(client, corridor, case["id"], TaskKind.confirm_departure)
    response = factories.complete(
        client, corridor.escort, task["id"], {"departed_at": "0001-01-01T00:00:00+05:30"}
    )
    assert refused(response, 422) == (
        "departed_at: must be a time since 2000 with its zone, as in 2027-01-15T06:30:00+05:30"
    )


# --- NUL characters ------------------------------------------------------------------------


def test_nul_characters_are_refused_on_both_databases(
    client: TestClient, corridor: Corridor, settings: Settings, case: dict[str, Any]
) -> None:
    """PostgreSQL refuses NUL in text with an error and SQLite stores it: refused before
    either sees it."""
    task = factories.walk_to(client, corridor, case["id"], TaskKind.verify_nationality)
    attempts: list[tuple[str, Member, dict[str, Any]]] = [
        (url, member, {**good, next(iter(good)): "A\x00B"})
        for url, member, good in json_routes(corridor, case["id"])
    ]
    attempts.append(
        (
            f"/api/v1/tasks/{task['id']}/complete",
            corridor.consulate,
            {**factories.approved(), "travel_document_number": "TP\x00123"},
        )
    )
    attempts.append(
        (
            "/api/v1/cases",
            corridor.ngo,
            factories.launch_case(nationality="NP", languages=["n\x00e"]),
        )
    )
    for url, member, body in attempts:
        with unchanged(settings):
            response = client.post(url, json=body, headers=member.headers)
        assert "NUL" in refused(response, 422), url
    for username, password in (("ngo\x00user", factories.PASSWORD), ("ngo-user", "pw\x00" * 5)):
        with unchanged(settings):
            response = client.post(
                "/api/v1/auth/token", data={"username": username, "password": password}
            )
        assert "NUL" in refused(response, 422)

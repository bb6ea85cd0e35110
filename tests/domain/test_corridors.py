"""The corridor file: the shipped routes, the defaults, and every refusal with its line."""

from __future__ import annotations

import re
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from core.settings import Settings
from domain.corridors import (
    DEADLINE_KINDS,
    SHIPPED_FILE,
    CorridorConfigError,
    Corridors,
    corridors_for,
    load_corridors,
)
from models.enums import DocumentKind

ROOT = Path(__file__).resolve().parents[2]

SHIPPED_ROUTES = {
    ("IN", "BD"),
    ("IN", "NP"),
    ("PK", "BD"),
    ("AE", "BD"),
    ("KW", "BD"),
    ("BH", "BD"),
    ("AE", "PK"),
    ("OM", "PK"),
    ("QA", "PK"),
    ("OM", "BD"),
    ("QA", "BD"),
    ("SA", "LK"),
}
GULF = {"AE", "KW", "BH", "OM", "QA", "SA"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "corridors.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def refusal(path: Path) -> CorridorConfigError:
    with pytest.raises(CorridorConfigError) as caught:
        load_corridors(path)
    return caught.value


def assert_refused(path: Path, line: int, problem: str) -> None:
    error = refusal(path)
    assert error.line == line, str(error)
    assert str(error).startswith(f"{path}:{line}: "), str(error)
    assert re.search(problem, error.problem), str(error)


# --- The shipped file ------------------------------------------------------------------


def test_the_shipped_file_is_deploy_corridors_yaml() -> None:
    assert SHIPPED_FILE == ROOT / "deploy" / "corridors.yaml"


def test_the_shipped_file_has_every_known_route() -> None:
    corridors = load_corridors(SHIPPED_FILE)
    assert set(corridors.routes) == SHIPPED_ROUTES
    for (origin, destination), corridor in corridors.routes.items():
        assert (corridor.origin, corridor.destination) == (origin, destination)
        assert set(corridor.deadlines) == set(DEADLINE_KINDS)
        assert DocumentKind.travel_document in corridor.required_documents
        assert corridor.escalation_agency
        assert "→" in corridor.name
    assert corridors.routes["IN", "BD"].name == "India → Bangladesh"


def test_shipped_policy_gulf_needs_exit_permits_and_land_borders_verify_sooner() -> None:
    corridors = load_corridors(SHIPPED_FILE)
    for (origin, _), corridor in corridors.routes.items():
        needs_permit = DocumentKind.exit_permit in corridor.required_documents
        assert needs_permit == (origin in GULF or origin == "PK"), corridor.name
    land = [corridors.routes["IN", "BD"], corridors.routes["IN", "NP"]]
    by_air = [c for (o, _), c in corridors.routes.items() if o != "IN"]
    slowest_land = max(c.deadline("verify_nationality") for c in land)
    assert all(c.deadline("verify_nationality") > slowest_land for c in by_air)


def test_shipped_defaults_match_the_design() -> None:
    default = load_corridors(SHIPPED_FILE).default
    assert (default.origin, default.destination) == ("*", "*")
    assert default.deadline("verify_nationality") == timedelta(days=90)
    assert default.deadline("accept_placement") == timedelta(days=7)
    assert default.deadline("confirm_handover") == timedelta(days=2)
    assert default.deadline("record_follow_up") == timedelta(days=14)
    assert default.follow_up_days == (30, 90, 180, 365)
    assert default.placement_required and default.female_escort_for_girls
    assert default.escalation_agency is None
    assert default.required_documents == (
        DocumentKind.travel_document,
        DocumentKind.child_protection_clearance,
    )


def test_the_image_ships_the_file_and_points_at_it() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "COPY deploy/corridors.yaml deploy/corridors.yaml" in dockerfile
    assert "HOMEWARD_CORRIDORS_FILE=/app/deploy/corridors.yaml" in dockerfile
    assert "WORKDIR /app" in dockerfile


# --- Defaults, merging and look-up -----------------------------------------------------


def test_for_route_falls_back_to_the_default(tmp_path: Path) -> None:
    corridors = load_corridors(
        write(
            tmp_path,
            """
            defaults:
              deadlines: {verify_nationality: 30d}
            corridors:
              - from: IN
                to: BD
            """,
        )
    )
    assert corridors.for_route("IN", "BD") is corridors.routes["IN", "BD"]
    assert corridors.for_route("in", " bd ") is corridors.routes["IN", "BD"]
    assert corridors.for_route("BD", "IN") is corridors.default
    assert corridors.for_route("SA", "LK") is corridors.default
    assert corridors.default.deadline("verify_nationality") == timedelta(days=30)


def test_a_corridor_overrides_keys_and_merges_deadlines(tmp_path: Path) -> None:
    corridors = load_corridors(
        write(
            tmp_path,
            """
            defaults:
              deadlines: {verify_nationality: 90d, accept_placement: 5d}
              escalation_agency: Regional focal point
            corridors:
              - from: SA
                to: LK
                placement_required: false
                female_escort_for_girls: false
                follow_up_days: [0, 7]
                required_documents: [exit_permit, travel_document]
                deadlines:
                  verify_nationality: 45s
                  confirm_handover: 12h
                  plan_transport: 30m
            """,
        )
    )
    corridor = corridors.for_route("SA", "LK")
    assert corridor.name == "Saudi Arabia → Sri Lanka"
    assert corridor.deadline("verify_nationality") == timedelta(seconds=45)
    assert corridor.deadline("confirm_handover") == timedelta(hours=12)
    assert corridor.deadline("plan_transport") == timedelta(minutes=30)
    assert corridor.deadline("accept_placement") == timedelta(days=5)  # the file's default
    assert corridor.deadline("approve_closure") == timedelta(days=14)  # built in
    assert corridor.follow_up_days == (0, 7)
    assert corridor.required_documents == (DocumentKind.exit_permit, DocumentKind.travel_document)
    assert not corridor.placement_required and not corridor.female_escort_for_girls
    assert corridor.escalation_agency == "Regional focal point"
    assert corridors.default.follow_up_days == (30, 90, 180, 365)


def test_confirm_departure_takes_no_allowance() -> None:
    corridor = load_corridors(SHIPPED_FILE).default
    with pytest.raises(KeyError, match="takes no allowance"):
        corridor.deadline("confirm_departure")


def test_unquoted_no_is_norway_not_false(tmp_path: Path) -> None:
    corridors = load_corridors(write(tmp_path, "corridors:\n  - {from: no, to: IN}\n"))
    assert set(corridors.routes) == {("NO", "IN")}


def test_a_file_with_defaults_only_has_no_routes(tmp_path: Path) -> None:
    corridors = load_corridors(write(tmp_path, "defaults:\n  placement_required: false\n"))
    assert corridors.routes == {}
    assert corridors.default.placement_required is False


# --- Settings ----------------------------------------------------------------------------


def test_settings_without_a_file_use_the_shipped_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOMEWARD_CORRIDORS_FILE", raising=False)
    corridors = corridors_for(Settings(corridors_file=None))
    assert corridors.source == str(SHIPPED_FILE)
    assert corridors is corridors_for(Settings())


def test_an_override_file_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        """
        corridors:
          - {from: IN, to: BD, name: Test route, deadlines: {verify_nationality: 3s}}
        """,
    )
    monkeypatch.setenv("HOMEWARD_CORRIDORS_FILE", str(path))
    corridors: Corridors = corridors_for(Settings())
    assert corridors.source == str(path.resolve())
    assert set(corridors.routes) == {("IN", "BD")}
    assert corridors.for_route("IN", "BD").deadline("verify_nationality") == timedelta(seconds=3)
    assert corridors_for(Settings()) is corridors  # read once per file


def test_a_broken_override_is_refused_by_corridors_for(tmp_path: Path) -> None:
    path = write(tmp_path, "corridors:\n  - {from: IN, to: IN}\n")
    with pytest.raises(CorridorConfigError, match=rf"^{re.escape(str(path))}:2: "):
        corridors_for(Settings(corridors_file=path))


# --- Refusals, each with its line -------------------------------------------------------


def test_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    error = refusal(path)
    assert str(error) == f"{path}: corridor file not found"


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    assert "directory" in str(refusal(tmp_path))


def _unknown_country(key: str, value: str) -> object:
    other, other_key = ("BD", "to") if key == "from" else ("IN", "from")
    text = f"""
        corridors:
          - from: IN
            to: NP
          - {other_key}: {other}
            {key}: {value}
        """
    return pytest.param(
        text, 5, f"unknown country .* in '{key}'", id=f"unknown-country-{key}-{value}"
    )


def _bad_duration(value: str) -> object:
    text = f"""
        defaults:
          deadlines:
            plan_transport: 14d
            verify_nationality: {value}
        """
    return pytest.param(
        text, 4, "bad duration.* for verify_nationality", id=f"bad-duration-{value}"
    )


def _unknown_deadline_kind(kind: str) -> object:
    text = f"""
        corridors:
          - from: IN
            to: BD
            deadlines:
              verify_nationality: 9d
              {kind}: 2d
        """
    return pytest.param(
        text, 6, f"unknown deadline kind '{kind}'", id=f"unknown-deadline-kind-{kind}"
    )


def _not_whole_days(value: str) -> object:
    text = f"defaults:\n  follow_up_days:\n    - 7\n    - {value}\n"
    return pytest.param(text, 4, "whole numbers", id=f"follow-up-days-not-whole-days-{value}")


# The file, the line the refusal names, and a pattern its problem matches.
REFUSALS = [
    *[
        pytest.param(text, 1, "empty", id=f"empty-file-{n}")
        for n, text in enumerate(["", "\n\n", "# only a comment\n"])
    ],
    pytest.param(
        """
        corridors:
          - from: IN
            to: BD: oops
        """,
        3,
        "YAML syntax error",
        id="yaml-syntax-error-gives-the-parser-line",
    ),
    pytest.param(
        """
        defaults:
          follow_up_days: [30, 90
          placement_required: true
        corridors: []
        """,
        3,
        "YAML syntax error: expected ',' or ']'",
        id="yaml-unclosed-flow-gives-the-parser-line",
    ),
    pytest.param("- from: IN\n", 1, "mapping", id="the-top-level-must-be-a-mapping"),
    pytest.param(
        "defaults: {}\n\nroutes: []\n", 3, "unknown key 'routes'", id="unknown-top-level-key"
    ),
    pytest.param(
        """
        defaults:
          placement_required: true
          escort: female
        """,
        3,
        "unknown key 'escort' in defaults",
        id="unknown-key-in-defaults",
    ),
    pytest.param(
        """
        corridors:
          - from: IN
            to: BD
            deadline: {verify_nationality: 9d}
        """,
        4,
        "unknown key 'deadline' in a corridor",
        id="unknown-key-in-a-corridor",
    ),
    pytest.param(
        """
        corridors:
          - from: IN
            to: BD
            to: NP
        """,
        4,
        "'to' appears twice",
        id="a-key-given-twice",
    ),
    pytest.param(
        """
        corridors:
          - from: IN
            to: BD
          - from: IN
            name: Nowhere
        """,
        4,
        "no 'to'",
        id="a-corridor-without-a-destination",
    ),
    *[
        _unknown_country(key, value)
        for key, value in [("from", "XX"), ("to", "Bangladesh"), ("to", "'*'")]
    ],
    pytest.param(
        """
        corridors:
          - from: BD
            to: bd
        """,
        3,
        "from BD to itself",
        id="origin-equals-destination",
    ),
    pytest.param(
        """
        corridors:
          - from: IN
            to: BD
          - from: IN
            to: NP
          - from: in
            to: BD
        """,
        6,
        r"duplicate corridor IN → BD \(first listed on line 2\)",
        id="duplicate-corridor",
    ),
    *[_bad_duration(value) for value in ["0d", "90", "9x", "-1d", "1.5d", "3 weeks", "''", "[1d]"]],
    pytest.param(
        """
        corridors:
          - from: IN
            to: BD
            deadlines:
              confirm_handover: 2 days
        """,
        5,
        "bad duration '2 days' for confirm_handover",
        id="bad-duration-in-a-corridor",
    ),
    *[_unknown_deadline_kind(kind) for kind in ["verify_identity", "confirm_departure"]],
    pytest.param(
        """
        defaults:
          required_documents:
            - travel_document
            - visa
        """,
        4,
        "unknown document kind 'visa'",
        id="unknown-document-kind",
    ),
    pytest.param(
        """
        defaults:
          required_documents:
            - travel_document
            - exit_permit
            - exit_permit
        """,
        5,
        "exit_permit is listed twice",
        id="a-document-listed-twice",
    ),
    pytest.param(
        """
        corridors:
          - from: AE
            to: BD
            required_documents: [exit_permit, child_protection_clearance]
        """,
        4,
        "must include travel_document",
        id="travel-document-missing",
    ),
    pytest.param(
        """
        defaults:
          follow_up_days:
            - 30
            - 180
            - 90
        """,
        5,
        "ascending: 90 comes after 180",
        id="follow-up-days-not-ascending",
    ),
    pytest.param(
        "defaults:\n  follow_up_days: [30, 30]\n", 2, "ascending", id="follow-up-days-repeated"
    ),
    pytest.param(
        """
        corridors:
          - from: IN
            to: BD
            follow_up_days:
              - -30
              - 90
        """,
        5,
        "-30 is negative",
        id="follow-up-days-negative",
    ),
    pytest.param(
        """
        defaults:
          placement_required: true
          follow_up_days: []
        """,
        3,
        "follow_up_days is empty",
        id="follow-up-days-empty",
    ),
    *[_not_whole_days(value) for value in ["'30'", "30d", "1.5", "true"]],
    pytest.param(
        """
        corridors:
          - from: IN
            to: BD
            placement_required: sometimes
        """,
        4,
        "placement_required must be true or false",
        id="a-flag-that-is-not-a-boolean",
    ),
    pytest.param(
        "defaults: {}\ncorridors:\n  from: IN\n  to: BD\n",
        3,
        "corridors must be a list",
        id="corridors-must-be-a-list",
    ),
]


@pytest.mark.parametrize(("text", "line", "problem"), REFUSALS)
def test_refused_with_its_line(tmp_path: Path, text: str, line: int, problem: str) -> None:
    assert_refused(write(tmp_path, text), line, problem)

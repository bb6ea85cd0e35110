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


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    assert_refused(write(tmp_path, text), 1, "empty")


def test_yaml_syntax_error_gives_the_parser_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        corridors:
          - from: IN
            to: BD: oops
        """,
    )
    assert_refused(path, 3, "YAML syntax error")


def test_yaml_unclosed_flow_gives_the_parser_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        defaults:
          follow_up_days: [30, 90
          placement_required: true
        corridors: []
        """,
    )
    assert_refused(path, 3, "YAML syntax error: expected ',' or ']'")


def test_the_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert_refused(write(tmp_path, "- from: IN\n"), 1, "mapping")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults: {}\n\nroutes: []\n")
    assert_refused(path, 3, "unknown key 'routes'")


def test_unknown_key_in_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        defaults:
          placement_required: true
          escort: female
        """,
    )
    assert_refused(path, 3, "unknown key 'escort' in defaults")


def test_unknown_key_in_a_corridor(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        corridors:
          - from: IN
            to: BD
            deadline: {verify_nationality: 9d}
        """,
    )
    assert_refused(path, 4, "unknown key 'deadline' in a corridor")


def test_a_key_given_twice(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        corridors:
          - from: IN
            to: BD
            to: NP
        """,
    )
    assert_refused(path, 4, "'to' appears twice")


def test_a_corridor_without_a_destination(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        corridors:
          - from: IN
            to: BD
          - from: IN
            name: Nowhere
        """,
    )
    assert_refused(path, 4, "no 'to'")


@pytest.mark.parametrize(("key", "value"), [("from", "XX"), ("to", "Bangladesh"), ("to", "'*'")])
def test_unknown_country(tmp_path: Path, key: str, value: str) -> None:
    other = "BD" if key == "from" else "IN"
    other_key = "to" if key == "from" else "from"
    path = write(
        tmp_path,
        f"""
        corridors:
          - from: IN
            to: NP
          - {other_key}: {other}
            {key}: {value}
        """,
    )
    assert_refused(path, 5, f"unknown country .* in '{key}'")


def test_origin_equals_destination(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        corridors:
          - from: BD
            to: bd
        """,
    )
    assert_refused(path, 3, "from BD to itself")


def test_duplicate_corridor(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        corridors:
          - from: IN
            to: BD
          - from: IN
            to: NP
          - from: in
            to: BD
        """,
    )
    assert_refused(path, 6, r"duplicate corridor IN → BD \(first listed on line 2\)")


@pytest.mark.parametrize("value", ["0d", "90", "9x", "-1d", "1.5d", "3 weeks", "''", "[1d]"])
def test_bad_duration(tmp_path: Path, value: str) -> None:
    path = write(
        tmp_path,
        f"""
        defaults:
          deadlines:
            plan_transport: 14d
            verify_nationality: {value}
        """,
    )
    assert_refused(path, 4, "bad duration.* for verify_nationality")


def test_bad_duration_in_a_corridor(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        corridors:
          - from: IN
            to: BD
            deadlines:
              confirm_handover: 2 days
        """,
    )
    assert_refused(path, 5, "bad duration '2 days' for confirm_handover")


@pytest.mark.parametrize("kind", ["verify_identity", "confirm_departure"])
def test_unknown_deadline_kind(tmp_path: Path, kind: str) -> None:
    path = write(
        tmp_path,
        f"""
        corridors:
          - from: IN
            to: BD
            deadlines:
              verify_nationality: 9d
              {kind}: 2d
        """,
    )
    assert_refused(path, 6, f"unknown deadline kind '{kind}'")


def test_unknown_document_kind(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        defaults:
          required_documents:
            - travel_document
            - visa
        """,
    )
    assert_refused(path, 4, "unknown document kind 'visa'")


def test_a_document_listed_twice(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        defaults:
          required_documents:
            - travel_document
            - exit_permit
            - exit_permit
        """,
    )
    assert_refused(path, 5, "exit_permit is listed twice")


def test_travel_document_missing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        corridors:
          - from: AE
            to: BD
            required_documents: [exit_permit, child_protection_clearance]
        """,
    )
    assert_refused(path, 4, "must include travel_document")


def test_follow_up_days_not_ascending(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        defaults:
          follow_up_days:
            - 30
            - 180
            - 90
        """,
    )
    assert_refused(path, 5, "ascending: 90 comes after 180")


def test_follow_up_days_repeated(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults:\n  follow_up_days: [30, 30]\n")
    assert_refused(path, 2, "ascending")


def test_follow_up_days_negative(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        corridors:
          - from: IN
            to: BD
            follow_up_days:
              - -30
              - 90
        """,
    )
    assert_refused(path, 5, "-30 is negative")


def test_follow_up_days_empty(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        defaults:
          placement_required: true
          follow_up_days: []
        """,
    )
    assert_refused(path, 3, "follow_up_days is empty")


@pytest.mark.parametrize("value", ["'30'", "30d", "1.5", "true"])
def test_follow_up_days_not_whole_days(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"defaults:\n  follow_up_days:\n    - 7\n    - {value}\n")
    assert_refused(path, 4, "whole numbers")


def test_a_flag_that_is_not_a_boolean(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        corridors:
          - from: IN
            to: BD
            placement_required: sometimes
        """,
    )
    assert_refused(path, 4, "placement_required must be true or false")


def test_corridors_must_be_a_list(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults: {}\ncorridors:\n  from: IN\n  to: BD\n")
    assert_refused(path, 3, "corridors must be a list")

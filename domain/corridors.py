"""Corridors: the configuration of each country pair a survivor is repatriated along.

A corridor is (where the survivor is → home country), both ISO 3166-1 alpha-2 codes. Its
deadlines, follow-up offsets, documents and escalation come from a YAML file, the one
shipped as deploy/corridors.yaml unless HOMEWARD_CORRIDORS_FILE names another:

    defaults:                      # optional; every key optional, each overrides a built-in
      deadlines: {verify_nationality: 90d, plan_transport: 14d, ...}   # per task kind
      follow_up_days: [30, 90, 180, 365]    # days after handover, ascending, >= 0
      placement_required: true              # whether a receiving shelter must accept
      required_documents: [travel_document, child_protection_clearance]
      female_escort_for_girls: true
      escalation_agency: null               # registered agency overdue tasks escalate to
    corridors:                     # optional; a pair not listed gets the defaults
      - from: IN                   # where the survivor is (required)
        to: BD                     # home country (required)
        name: India → Bangladesh   # optional; "<country> → <country>" otherwise
        deadlines: {verify_nationality: 90d}   # merged kind by kind over the defaults
        ...                        # any other defaults key replaces the default's value

Durations are a positive whole number with a unit: `90d`, `12h`, `30m`, `45s`.
`required_documents` must contain `travel_document`; `child_protection_clearance` is
required of minors only. `confirm_departure` is due by the planned travel date and takes
no allowance; `confirm_handover`'s allowance counts from the departure.

Every problem is reported as `<file>:<line>: <problem>` (CorridorConfigError), so a
deployment with a broken file refuses to start and says where to look.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pycountry
import yaml
from pydantic import TypeAdapter

from core.countries import CountryCode
from core.settings import Settings
from domain.workflow import DEFAULT_DEADLINES
from models.enums import DocumentKind

# Task kinds whose allowance the file sets: confirm_departure is due by its planned travel
# date and takes none; confirm_handover's allowance counts from the departure.
DEADLINE_KINDS = tuple(str(kind) for kind in DEFAULT_DEADLINES)

# deploy/corridors.yaml, next to the packages in a checkout or an editable install. The
# container image copies it and points HOMEWARD_CORRIDORS_FILE at the copy.
SHIPPED_FILE = Path(__file__).resolve().parents[1] / "deploy" / "corridors.yaml"

ANY_COUNTRY = "*"

# What applies when neither the file's defaults nor a corridor set a key. They follow the
# design's defaults; the shipped file states every one of them explicitly.
_BUILT_IN_DEADLINES = {str(kind): allowance for kind, allowance in DEFAULT_DEADLINES.items()}
_BUILT_IN: dict[str, Any] = {
    "deadlines": _BUILT_IN_DEADLINES,
    "follow_up_days": (30, 90, 180, 365),
    "placement_required": True,
    "required_documents": (
        DocumentKind.travel_document,
        DocumentKind.child_protection_clearance,
    ),
    "female_escort_for_girls": True,
    "escalation_agency": None,
}

_SETTING_KEYS = frozenset(_BUILT_IN)
_TOP_KEYS = ("defaults", "corridors")
_ROUTE_KEYS = frozenset({"from", "to", "name"}) | _SETTING_KEYS
_DURATION = re.compile(r"([1-9][0-9]*)([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_COUNTRY_CODE: TypeAdapter[str] = TypeAdapter(CountryCode)
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


@dataclass(frozen=True)
class Corridor:
    origin: str  # where the survivor is; "*" for the default
    destination: str  # home country; "*" for the default
    name: str
    deadlines: Mapping[str, timedelta]  # one per DEADLINE_KINDS entry
    follow_up_days: tuple[int, ...]
    placement_required: bool
    escalation_agency: str | None
    required_documents: tuple[DocumentKind, ...]
    female_escort_for_girls: bool

    def deadline(self, kind: str) -> timedelta:
        """The allowance for a task of this kind, from when it opens (handover: departure)."""
        try:
            return self.deadlines[kind]
        except KeyError:
            raise KeyError(
                f"{kind!r} takes no allowance from the corridor file; "
                f"those that do are {', '.join(DEADLINE_KINDS)}"
            ) from None


@dataclass(frozen=True)
class Corridors:
    source: str
    default: Corridor
    routes: Mapping[tuple[str, str], Corridor]

    def for_route(self, origin: str, destination: str) -> Corridor:
        """The corridor from `origin` to `destination`, or the default one if not listed."""
        key = (origin.strip().upper(), destination.strip().upper())
        return self.routes.get(key, self.default)


class CorridorConfigError(ValueError):
    """A corridor file that cannot be used; str() is `<file>:<line>: <problem>`."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {problem}")


def corridors_for(settings: Settings) -> Corridors:
    """The corridors configured for this deployment, read once per file."""
    path = settings.corridors_file or SHIPPED_FILE
    return _load_once(path.expanduser().resolve())


@lru_cache(maxsize=16)
def _load_once(path: Path) -> Corridors:
    return load_corridors(path)


def load_corridors(path: Path) -> Corridors:
    """Read and check a corridor file; raise CorridorConfigError naming the first problem."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CorridorConfigError(source, None, "corridor file not found") from None
    except IsADirectoryError:
        raise CorridorConfigError(source, None, "is a directory, not a corridor file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CorridorConfigError(source, None, f"cannot read the file: {error}") from None
    return _Reader(source).read(text)


class _Reader:
    """Walks the composed YAML nodes so that every problem keeps its line number."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: Any, problem: str) -> CorridorConfigError:
        return CorridorConfigError(self.source, node.start_mark.line + 1, problem)

    def read(self, text: str) -> Corridors:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark is not None else None
            problem = error.problem or error.context or "not valid YAML"
            raise CorridorConfigError(self.source, line, f"YAML syntax error: {problem}") from None
        except yaml.YAMLError as error:
            raise CorridorConfigError(self.source, None, f"YAML error: {error}") from None
        if root is None:
            raise CorridorConfigError(self.source, 1, "the file is empty")
        top = self.mapping(root, "the file", allowed=_TOP_KEYS)

        defaults = dict(_BUILT_IN)
        if "defaults" in top and not self.is_null(top["defaults"][1]):
            entries = self.mapping(top["defaults"][1], "defaults", allowed=_SETTING_KEYS)
            defaults = self.merge(defaults, self.settings(entries))
        default = _corridor(ANY_COUNTRY, ANY_COUNTRY, "Any other route", defaults)

        routes: dict[tuple[str, str], Corridor] = {}
        first_line: dict[tuple[str, str], int] = {}
        if "corridors" in top:
            _, listing = top["corridors"]
            if self.is_null(listing):
                listing_items: list[Any] = []
            elif isinstance(listing, yaml.SequenceNode):
                listing_items = listing.value
            else:
                raise self.fail(listing, "corridors must be a list of routes (- from: .. to: ..)")
            for item in listing_items:
                corridor = self.route(item, defaults)
                pair = (corridor.origin, corridor.destination)
                if pair in routes:
                    raise self.fail(
                        item,
                        f"duplicate corridor {pair[0]} → {pair[1]} "
                        f"(first listed on line {first_line[pair]})",
                    )
                routes[pair] = corridor
                first_line[pair] = item.start_mark.line + 1
        return Corridors(source=self.source, default=default, routes=MappingProxyType(routes))

    def route(self, node: Any, defaults: dict[str, Any]) -> Corridor:
        fields = self.mapping(node, "a corridor", allowed=_ROUTE_KEYS)
        for required in ("from", "to"):
            if required not in fields:
                raise self.fail(node, f"corridor has no {required!r} country")
        origin = self.country(*fields["from"])
        destination = self.country(*fields["to"])
        if origin == destination:
            raise self.fail(
                fields["to"][0], f"corridor goes from {origin} to itself: 'from' equals 'to'"
            )
        if "name" in fields:
            name = self.text(fields["name"][1], "name")
        else:
            name = f"{_country_name(origin)} → {_country_name(destination)}"
        own = {k: v for k, v in fields.items() if k in _SETTING_KEYS}
        return _corridor(origin, destination, name, self.merge(defaults, self.settings(own)))

    @staticmethod
    def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
        merged = {**base, **override}
        if "deadlines" in override:
            merged["deadlines"] = {**base["deadlines"], **override["deadlines"]}
        return merged

    def settings(self, entries: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        for key, (_, value) in entries.items():
            if key == "deadlines":
                parsed[key] = self.deadlines(value)
            elif key == "follow_up_days":
                parsed[key] = self.follow_up_days(value)
            elif key == "required_documents":
                parsed[key] = self.documents(value)
            elif key == "escalation_agency":
                parsed[key] = None if self.is_null(value) else self.text(value, key)
            else:  # placement_required, female_escort_for_girls
                parsed[key] = self.boolean(value, key)
        return parsed

    def deadlines(self, node: Any) -> dict[str, timedelta]:
        entries = self.mapping(node, "deadlines", allowed=None)
        result: dict[str, timedelta] = {}
        for kind, (key, value) in entries.items():
            if kind not in DEADLINE_KINDS:
                extra = (
                    " (it is due by the planned travel date)" if kind == "confirm_departure" else ""
                )
                raise self.fail(
                    key,
                    f"unknown deadline kind {kind!r}{extra}; "
                    f"expected one of {', '.join(DEADLINE_KINDS)}",
                )
            result[kind] = self.duration(value, kind)
        return result

    def duration(self, node: Any, kind: str) -> timedelta:
        raw = node.value if isinstance(node, yaml.ScalarNode) else None
        match = _DURATION.fullmatch(raw.strip()) if isinstance(raw, str) else None
        if match is None:
            shown = f" {raw!r}" if isinstance(raw, str) else ""
            raise self.fail(
                node,
                f"bad duration{shown} for {kind}: write a positive whole number "
                "with a unit d, h, m or s, e.g. 90d, 12h, 30m, 45s",
            )
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})

    def follow_up_days(self, node: Any) -> tuple[int, ...]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, "follow_up_days must be a list of days, e.g. [30, 90]")
        if not node.value:
            raise self.fail(node, "follow_up_days is empty: give at least one offset in days")
        days: list[int] = []
        for item in node.value:
            if not (isinstance(item, yaml.ScalarNode) and item.tag == _INT):
                raise self.fail(item, "follow_up_days must hold whole numbers of days")
            day = int(_construct(item))
            if day < 0:
                raise self.fail(item, f"follow-up offset {day} is negative")
            if days and day <= days[-1]:
                raise self.fail(
                    item, f"follow_up_days must be ascending: {day} comes after {days[-1]}"
                )
            days.append(day)
        return tuple(days)

    def documents(self, node: Any) -> tuple[DocumentKind, ...]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, "required_documents must be a list of document kinds")
        kinds: list[DocumentKind] = []
        for item in node.value:
            raw = item.value if isinstance(item, yaml.ScalarNode) else None
            if not isinstance(raw, str) or raw not in DocumentKind.__members__:
                raise self.fail(
                    item,
                    f"unknown document kind {raw!r}; expected one of {', '.join(DocumentKind)}",
                )
            kind = DocumentKind(raw)
            if kind in kinds:
                raise self.fail(item, f"{kind} is listed twice")
            kinds.append(kind)
        if DocumentKind.travel_document not in kinds:
            raise self.fail(
                node, "required_documents must include travel_document: nobody travels without"
            )
        return tuple(kinds)

    def country(self, key: Any, node: Any) -> str:
        # The raw text, not the YAML value: unquoted NO (Norway) would otherwise be false.
        raw = node.value if isinstance(node, yaml.ScalarNode) else None
        if not raw or not isinstance(raw, str):
            raise self.fail(node, f"{key.value!r} must be a country code such as IN or BD")
        try:
            return _COUNTRY_CODE.validate_python(raw)
        except ValueError:
            raise self.fail(
                node, f"unknown country {raw!r} in {key.value!r}: use an ISO 3166-1 alpha-2 code"
            ) from None

    def text(self, node: Any, key: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not node.value.strip():
            raise self.fail(node, f"{key} must be a non-empty text")
        return str(node.value).strip()

    def boolean(self, node: Any, key: str) -> bool:
        if not (isinstance(node, yaml.ScalarNode) and node.tag == _BOOL):
            raise self.fail(node, f"{key} must be true or false")
        return bool(_construct(node))

    @staticmethod
    def is_null(node: Any) -> bool:
        return isinstance(node, yaml.ScalarNode) and node.tag == _NULL

    def mapping(
        self, node: Any, where: str, *, allowed: frozenset[str] | tuple[str, ...] | None
    ) -> dict[str, tuple[Any, Any]]:
        """Key → (key node, value node), refusing unknown and repeated keys."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{where} must be a mapping of keys to values")
        entries: dict[str, tuple[Any, Any]] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if not isinstance(name, str):
                raise self.fail(key, f"keys in {where} must be plain words")
            if allowed is not None and name not in allowed:
                raise self.fail(
                    key,
                    f"unknown key {name!r} in {where}; expected one of "
                    f"{', '.join(sorted(allowed))}",
                )
            if name in entries:
                raise self.fail(key, f"key {name!r} appears twice in {where}")
            entries[name] = (key, value)
        return entries


def _corridor(origin: str, destination: str, name: str, values: dict[str, Any]) -> Corridor:
    return Corridor(
        origin=origin,
        destination=destination,
        name=name,
        deadlines=MappingProxyType({k: values["deadlines"][k] for k in DEADLINE_KINDS}),
        follow_up_days=tuple(values["follow_up_days"]),
        placement_required=values["placement_required"],
        escalation_agency=values["escalation_agency"],
        required_documents=tuple(values["required_documents"]),
        female_escort_for_girls=values["female_escort_for_girls"],
    )


def _construct(node: Any) -> Any:
    """The Python value of a resolved scalar node (YAML's spellings of ints and booleans)."""
    return yaml.SafeLoader("").construct_object(node)


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or country.name) if country else code

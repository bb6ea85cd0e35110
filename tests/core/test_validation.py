"""The words of a 422, from pydantic's errors, tested without the API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import pytest
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from core.validation import describe_validation_errors

SECRET = "Planted-Value-0d2e"


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")

    born_on: date
    seen_at: AwareDatetime
    sex: Literal["female", "male"]
    languages: list[Annotated[str, Field(min_length=2)]] = []


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person: Person
    places: Annotated[int, Field(ge=1, le=10)]


def describe(body: Any, model: Any = Case, **options: Any) -> str:
    with pytest.raises(ValidationError) as error:
        TypeAdapter(model).validate_python(body)
    detail = describe_validation_errors(error.value.errors(include_input=False), **options)
    assert SECRET not in detail
    return detail


GOOD = {
    "person": {"born_on": "2001-03-04", "seen_at": "2026-12-01T10:00:00+05:30", "sex": "male"},
    "places": 2,
}


def test_each_problem_names_its_dotted_path_and_what_to_send() -> None:
    body = {
        "person": {
            "born_on": "04/03/2001",
            "seen_at": "2026-12-01T10:00:00",
            "sex": SECRET,
            "languages": ["bn", "x"],
            "religion": SECRET,
        },
        "places": 0,
    }
    detail = describe(body)
    expected = [
        "person.born_on: must be a date as YYYY-MM-DD, e.g. 2001-03-04",
        "person.seen_at: must be a time with its zone, e.g. 2026-12-01T10:00:00+05:30",
        "person.sex: must be one of female, male",
        "person.languages.1: must have at least 2 characters",
        "person.religion: this is not a field Homeward accepts here; remove it",
        "places: must be at least 1",
    ]
    assert detail == "; ".join(expected)


def test_missing_fields_are_each_named() -> None:
    assert describe({"person": GOOD["person"]}) == "places: this field is required; add it"


def test_no_body_names_the_fields_to_send() -> None:
    errors = [{"type": "missing", "loc": ("body",), "msg": "Field required"}]
    detail = describe_validation_errors(errors, body_fields=["person", "places"])
    assert detail == (
        "body: no body was sent; send a JSON object with the required fields person, places"
    )


def test_a_rule_that_names_its_field_joins_the_path() -> None:
    errors = [
        {
            "type": "value_error",
            "loc": ("body", "person"),
            "msg": "Value error, born_on: the date is in the future; check it",
        }
    ]
    assert describe_validation_errors(errors) == (
        "person.born_on: the date is in the future; check it"
    )


class Yes(BaseModel):
    decision: Literal["yes"]


class No(BaseModel):
    decision: Literal["no"]
    reason: str


Answer = Annotated[Yes | No, Field(discriminator="decision")]


def test_a_union_member_is_not_named_as_a_field() -> None:
    assert describe({"decision": "no"}, Answer, tag="no") == (
        "reason: this field is required; add it"
    )


def test_a_decision_lists_its_words_and_never_repeats_the_one_sent() -> None:
    assert describe({"decision": SECRET}, Answer) == "decision: must be one of yes, no"
    assert describe({}, Answer, expected_tags=["yes", "no"]) == (
        "decision: this field is required; send one of yes, no"
    )


def test_a_body_that_is_not_an_object_is_told_so() -> None:
    assert describe([1, 2]) == "the body must be a JSON object, a dictionary of fields"


def test_a_long_unknown_field_name_is_cut() -> None:
    detail = describe({**GOOD, "n" * 1000: 1})
    assert len(detail) < 120 and detail.endswith("remove it")

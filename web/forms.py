"""The form of each task kind, and how a submitted form becomes the completion body.

A form only collects what the JSON API's body holds: the body goes to the same domain
function (`domain.tasks.complete_task`), which validates it and applies the rules. Each
field names the decisions it belongs to, so that a consulate's rejection carries a reason
and no travel document number."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.validation import problem_field
from models.enums import AgencyKind, FollowUpOutcome, TaskKind, TravelMode
from web.words import FOLLOW_UP, N_, WORDS


class Input(StrEnum):
    text = "text"
    long_text = "long_text"
    date = "date"
    moment = "moment"  # a date and time, read in the agency's own zone
    choice = "choice"
    agency = "agency"  # one of the registered agencies of `agency_kind`


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    input: Input = Input.text
    required: bool = True
    help: str | None = None
    # The decisions this field belongs to; empty: every decision (or a form without one).
    when: tuple[str, ...] = ()
    choices: Mapping[str, str] = field(default_factory=dict)
    agency_kind: AgencyKind | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class TaskForm:
    # (decision word, label) in the order offered; empty for a form without a decision.
    decisions: tuple[tuple[str, str], ...]
    fields: tuple[Field, ...]

    def fields_for(self, decision: str | None) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.when or decision in f.when)


_REASON = N_("Reason")
_REASON_HELP = N_("Kept in the case record; never sent in a notification.")


def _reason(*when: str, required: bool = True) -> Field:
    return Field(
        "reason",
        _REASON,
        Input.long_text,
        required=required,
        help=_REASON_HELP,
        when=when,
        max_length=500,
    )


_DOCUMENT_NUMBER = Field(
    "travel_document_number",
    N_("Travel document number"),
    help=N_("The number of the travel permit or passport issued for the journey."),
    max_length=64,
)
_DOCUMENT_EXPIRY = Field(
    "travel_document_expires_on",
    N_("Travel document valid until"),
    Input.date,
)

FORMS: dict[TaskKind, TaskForm] = {
    TaskKind.verify_nationality: TaskForm(
        decisions=(
            ("approved", N_("Nationality confirmed: issue the travel document")),
            ("rejected", N_("Nationality not confirmed")),
            ("information_requested", N_("Ask the coordinator a question first")),
        ),
        fields=(
            replace(_DOCUMENT_NUMBER, when=("approved",)),
            replace(_DOCUMENT_EXPIRY, when=("approved",)),
            _reason("rejected"),
            Field(
                "question",
                N_("Your question"),
                Input.long_text,
                when=("information_requested",),
                help=N_("The coordinator answers it in their inbox; the case waits for it."),
                max_length=4000,
            ),
        ),
    ),
    TaskKind.plan_transport: TaskForm(
        decisions=(),
        fields=(
            Field("travel_date", N_("Travel date"), Input.date),
            Field(
                "mode",
                N_("Travel by"),
                Input.choice,
                choices={m: WORDS["mode"][m] for m in TravelMode},
            ),
            Field(
                "crossing_point",
                N_("Border crossing or port"),
                help=N_("For example Petrapole-Benapole."),
                max_length=200,
            ),
            Field(
                "escort_agency_id",
                N_("Escort"),
                Input.agency,
                agency_kind=AgencyKind.escort,
            ),
            Field(
                "receiving_shelter_id",
                N_("Receiving shelter"),
                Input.agency,
                agency_kind=AgencyKind.shelter,
                help=N_("Places taken and capacity are shown beside each shelter."),
            ),
            Field(
                "follow_up_agency_id",
                N_("Follow-ups by"),
                Input.agency,
                required=False,
                agency_kind=AgencyKind.ngo,
                help=N_("A home-country NGO; the receiving shelter does them if none is chosen."),
            ),
        ),
    ),
    TaskKind.accept_placement: TaskForm(
        decisions=(
            ("accepted", N_("Accept the placement")),
            ("declined", N_("Decline the placement")),
        ),
        fields=(_reason("declined"),),
    ),
    TaskKind.confirm_departure: TaskForm(
        decisions=(),
        fields=(
            Field(
                "departed_at",
                N_("Departed at"),
                Input.moment,
                help=N_("Filled in with now; change it if the departure was earlier."),
            ),
        ),
    ),
    TaskKind.confirm_handover: TaskForm(
        decisions=(),
        fields=(
            Field(
                "received_at",
                N_("Received at the shelter at"),
                Input.moment,
                help=N_("Filled in with now; change it if the survivor arrived earlier."),
            ),
        ),
    ),
    TaskKind.record_follow_up: TaskForm(
        decisions=(),
        fields=(
            Field(
                "outcome",
                N_("How is the survivor doing?"),
                Input.choice,
                choices={o: FOLLOW_UP[o] for o in FollowUpOutcome},
                help=N_("Re-trafficked or lost contact alerts the coordinator at once."),
            ),
            Field(
                "notes",
                N_("Notes"),
                Input.long_text,
                required=False,
                max_length=4000,
            ),
        ),
    ),
    TaskKind.provide_information: TaskForm(
        decisions=(),
        fields=(Field("answer", N_("Your answer"), Input.long_text, max_length=4000),),
    ),
    TaskKind.reissue_travel_document: TaskForm(
        decisions=(), fields=(_DOCUMENT_NUMBER, _DOCUMENT_EXPIRY)
    ),
    TaskKind.record_document: TaskForm(
        decisions=(),
        fields=(
            Field("reference", N_("Document reference"), max_length=64),
            Field("issued_on", N_("Issued on"), Input.date),
            Field("expires_on", N_("Valid until"), Input.date, required=False),
        ),
    ),
    TaskKind.accept_transfer: TaskForm(
        decisions=(
            ("accepted", N_("Accept the transfer")),
            ("rejected", N_("Reject the transfer")),
        ),
        fields=(_reason("rejected"),),
    ),
    TaskKind.resolve_duplicate: TaskForm(
        decisions=(
            ("linked", N_("Same survivor: close the later registration")),
            ("dismissed", N_("Different people: keep both")),
        ),
        fields=(_reason("dismissed", required=False),),
    ),
    TaskKind.approve_closure: TaskForm(
        decisions=(
            ("close", N_("Close the case")),
            ("continue_follow_up", N_("Follow up again")),
        ),
        fields=(_reason("close", "continue_follow_up"),),
    ),
}

DECISION = "decision"


def completion_body(
    form: TaskForm, submitted: Mapping[str, str], zone: ZoneInfo
) -> dict[str, object]:
    """The JSON body a submitted form stands for: the chosen decision and its fields.

    Empty fields are left out (the domain names a required one that is missing); a time is
    read in the agency's zone; nothing else is interpreted here."""
    body: dict[str, object] = {}
    decision = (submitted.get(DECISION) or "").strip() or None
    if form.decisions and decision is not None:
        body[DECISION] = decision
    for spec in form.fields_for(decision if form.decisions else None):
        value = (submitted.get(spec.name) or "").strip()
        if not value:
            continue
        body[spec.name] = _moment(value, zone) if spec.input == Input.moment else value
    return body


def _moment(value: str, zone: ZoneInfo) -> str:
    """A browser's datetime-local value (2026-12-01T10:30) as a time with its zone."""
    try:
        typed = datetime.fromisoformat(value)
    except ValueError:
        return value  # the domain refuses it, naming the field
    if typed.tzinfo is None:
        typed = typed.replace(tzinfo=zone)
    return typed.isoformat()


def problems_by_field(problems: list[str], names: set[str]) -> tuple[dict[str, str], list[str]]:
    """Each problem beside its field when the form has that field; the rest for the top."""
    beside: dict[str, str] = {}
    general: list[str] = []
    for problem in problems:
        name, message = problem_field(problem)
        top = name.split(".")[0] if name else None
        if name in names and name not in beside:
            beside[name] = message
        elif top in names and top not in beside:
            beside[top] = message
        else:
            general.append(problem)
    return beside, general

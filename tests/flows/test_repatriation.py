"""`flows.repatriation`: the parts of a pass that run without a Prefect server."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from flows import repatriation


def unreachable() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("could not connect"))


def test_a_briefly_unreachable_database_is_waited_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repatriation, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    calls: list[int] = []

    def step() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise unreachable()
        return "read"

    assert repatriation._retrying(step) == "read"
    assert len(calls) == 3


def test_a_database_that_stays_away_fails_the_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repatriation, "RETRY_DELAYS", (0.0, 0.0))
    calls: list[int] = []

    def step() -> str:
        calls.append(1)
        raise unreachable()

    with pytest.raises(OperationalError):
        repatriation._retrying(step)
    assert len(calls) == 3  # the first attempt and one per delay


def test_other_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repatriation, "RETRY_DELAYS", (0.0, 0.0))
    calls: list[int] = []

    def step() -> str:
        calls.append(1)
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        repatriation._retrying(step)
    assert len(calls) == 1

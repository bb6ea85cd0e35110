#!/usr/bin/env bash
# The tests that kill processes of a real stack and post bursts of decisions at it (markers
# `faults` and `burst`): a process killed loses no decision and sends no notification twice.
# About a quarter of an hour on two cores; `make test` leaves them out to stay within CI's
# time (docs/testing.md). Extra arguments go to pytest.
set -euo pipefail

cd "$(dirname "$0")/.."

exec .venv/bin/pytest -m "faults or burst" --basetemp=.pytest-tmp/faults --durations=10 "$@"

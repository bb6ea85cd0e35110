#!/usr/bin/env bash
# Create .venv and install Homeward into it; reinstalls only when pyproject.toml changed.
set -euo pipefail

cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
STAMP=.venv/.installed

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi

if [ ! -e "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    .venv/bin/python -m pip install --upgrade pip
    .venv/bin/python -m pip install -e ".[dev]"
    touch "$STAMP"
fi

VENV := .venv
BIN := $(VENV)/bin

.PHONY: install install-system venv lint test test-faults up messages

install: venv

install-system:
	scripts/install-system.sh

venv:
	scripts/venv.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install-system venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	scripts/test.sh

# Processes killed and bursts of decisions on a real stack: not part of `make test`.
test-faults: install-system venv
	scripts/test-faults.sh

up: venv
	$(BIN)/homeward up --demo

# Extract the pages' words and bring every language's catalog up to date with them.
messages: venv
	scripts/messages.sh

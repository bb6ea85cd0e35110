#!/usr/bin/env bash
# The test suite in two groups at once: the real-stack tests (Prefect, processes and sinks)
# beside the in-process ones. Each group has its own temporary directory and its own
# PostgreSQL server; the output of the stack group follows the other's. Extra arguments go
# to both pytest runs.
#
# The fault-injection and burst tests (markers `faults`, `burst`) are left to
# scripts/test-faults.sh (`make test-faults`): every pass they cause is a new process of a
# few CPU-seconds, and with them the suite outgrew CI's time on two cores (docs/testing.md).
set -uo pipefail

cd "$(dirname "$0")/.."

BASE=.pytest-tmp
rm -rf "$BASE"
mkdir -p "$BASE"

.venv/bin/pytest -m "stack and not faults and not burst" --basetemp="$BASE/stack" --durations=25 "$@" > "$BASE/stack.log" 2>&1 &
stack_pid=$!
.venv/bin/pytest -m "not stack" --basetemp="$BASE/rest" --durations=25 "$@"
rest=$?
wait "$stack_pid"
stack=$?

echo
echo "=== tests on a real stack (marker 'stack') ==="
cat "$BASE/stack.log"
if [ "$rest" -ne 0 ] || [ "$stack" -ne 0 ]; then
    echo "FAILED: in-process tests exit $rest, real-stack tests exit $stack" >&2
    exit 1
fi

#!/usr/bin/env bash
# Sets up and runs the whole test suite (README's second command).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check xlkpi tests
# one worker per core (pytest-xdist); a test file stays on one worker, so its module
# fixtures are built once
.venv/bin/python -m pytest -q -n auto --dist loadfile "$@"

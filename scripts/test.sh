#!/usr/bin/env bash
# Sets up and runs the whole test suite (README's second command).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check xlkpi tests
.venv/bin/python -m pytest -q "$@"

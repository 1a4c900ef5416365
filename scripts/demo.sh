#!/usr/bin/env bash
# Sets up and runs the main job on the bundled demo data (README's first command).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/xlkpi template out/monthly_dataset_dec20.xlsx

#!/usr/bin/env bash
# The main job, end to end on the embedded default (SQLite + DuckDB, no server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/keruen demo "$@"

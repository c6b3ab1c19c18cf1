#!/usr/bin/env bash
# The whole test suite: lint, format, types (strict on the package), then pytest.
# With CI=true the PostgreSQL tests run against 127.0.0.1:5432/test (or $KERUEN_TEST_PG).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check keruen tests
.venv/bin/ruff format --check keruen tests
.venv/bin/mypy
.venv/bin/pytest -q "$@"

#!/usr/bin/env bash
# Regenerate the generated docs: event schema, CLI reference, OpenAPI.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/keruen schema --out docs/event-schema.json
.venv/bin/python -m typer keruen.cli utils docs --name keruen --title "Keruen CLI reference" \
  --output docs/cli.md
.venv/bin/keruen openapi > docs/openapi.json

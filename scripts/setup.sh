#!/usr/bin/env bash
# Set up a fresh machine for Keruen: a virtualenv with the package (its native judge compiled
# by the machine's C compiler, if there is one) and its dev tools, and
# Debian's Chromium for the browser tests. Idempotent; quiet when everything is in place.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.keruen-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ keruen/store/_judge.c -nt "$stamp" ] \
  || [ keruen/epcis/_bridge.c -nt "$stamp" ] || [ keruen/model/_kept.c -nt "$stamp" ]; then
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e '.[dev]'
  touch "$stamp"
fi
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get install -y -qq chromium >/dev/null 2>&1 \
    || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) \
    || echo "setup: could not install chromium; browser tests will not run" >&2
fi

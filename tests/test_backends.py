"""The storage suite's backends."""

from __future__ import annotations

import os

from tests.conftest import BACKENDS


def test_postgres_runs_on_ci() -> None:
    """On CI the PostgreSQL suite must run, not skip."""
    if os.environ.get("CI") == "true":
        assert "postgresql" in BACKENDS

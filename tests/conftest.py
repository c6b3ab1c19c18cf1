"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL runs when `KERUEN_TEST_PG` names a server URL, and always when `CI=true`
(default URL postgresql://127.0.0.1:5432/test); each test gets a fresh schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keruen.store import db

PG_URL = os.environ.get("KERUEN_TEST_PG") or (
    "postgresql+psycopg://127.0.0.1:5432/test" if os.environ.get("CI") == "true" else None
)
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def fresh_engine(backend: str) -> Iterator[Engine]:
    with db.scratch(PG_URL if backend == "postgresql" else None) as eng:
        yield eng


def ledger_with_url(backend: str, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """A new, migrated ledger and the URL a subprocess reaches it by (on PostgreSQL the
    scratch schema rides in the URL's search path)."""
    if backend == "sqlite":
        path = tmp_path / "victim.db"
        eng = db.new_engine(str(path))
        try:
            db.migrate(eng)
            yield eng, str(path)
        finally:
            eng.dispose()
        return
    assert PG_URL is not None
    with db.scratch(PG_URL) as eng:
        with eng.connect() as conn:
            schema = conn.scalar(sa.text("SELECT current_schema()"))
        yield eng, f"{PG_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty Keruen database on each backend."""
    yield from fresh_engine(request.param)


@pytest.fixture
def sqlite_engine() -> Iterator[Engine]:
    yield from fresh_engine("sqlite")


@pytest.fixture(params=[b for b in BACKENDS if b == "postgresql"])
def pg_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty Keruen database on PostgreSQL only (no case on SQLite, so nothing is
    skipped on CI; outside CI without a server, pytest reports the empty parameter set)."""
    yield from fresh_engine(request.param)

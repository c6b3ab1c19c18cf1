"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL runs when `KERUEN_TEST_PG` names a server URL, and always when `CI=true`
(default URL postgresql://127.0.0.1:5432/test); each test gets a fresh schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keruen.settings import normalise_db_url
from keruen.store import db

PG_URL = os.environ.get("KERUEN_TEST_PG") or (
    "postgresql+psycopg://127.0.0.1:5432/test" if os.environ.get("CI") == "true" else None
)
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def fresh_engine(backend: str, tmp_path: object) -> Iterator[Engine]:
    if backend == "sqlite":
        eng = sa.create_engine(f"sqlite:///{tmp_path}/keruen-{uuid.uuid4().hex}.db")
        sa.event.listen(eng, "connect", db._sqlite_pragmas)
        sa.event.listen(eng, "begin", db._sqlite_begin)
        db.migrate(eng)
        yield eng
        eng.dispose()
        return
    assert PG_URL
    url = normalise_db_url(PG_URL)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    eng = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    db.migrate(eng)
    yield eng
    eng.dispose()
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Engine]:
    """A migrated, empty Keruen database on each backend."""
    yield from fresh_engine(request.param, tmp_path)


@pytest.fixture
def sqlite_engine(tmp_path: object) -> Iterator[Engine]:
    yield from fresh_engine("sqlite", tmp_path)


def test_postgres_runs_on_ci() -> None:
    """On CI the PostgreSQL suite must run, not skip."""
    if os.environ.get("CI") == "true":
        assert "postgresql" in BACKENDS

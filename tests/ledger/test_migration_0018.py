"""Migration 0018: on PostgreSQL `ix_moves_batch` is (batch, event_seq, n) and the reads are the
same down and up; on SQLite it changes nothing (the covering index stays)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from keruen.store import db
from keruen.store.schema import MOVES_BY_BATCH, MOVES_BY_BATCH_PG
from tests.ledger.test_migration_0015 import _alembic, _ledger, _reads


def _columns(engine: Engine) -> tuple[str, ...]:
    with engine.connect() as conn:
        found = {i["name"]: i for i in sa.inspect(conn).get_indexes("moves")}
    return tuple(str(c) for c in found["ix_moves_batch"]["column_names"])


def test_0018_down_and_up_keeps_what_the_ledger_reads(engine: Engine) -> None:
    batches = _ledger(engine)
    narrow = engine.dialect.name == "postgresql"
    assert _columns(engine) == (MOVES_BY_BATCH_PG if narrow else MOVES_BY_BATCH)
    with engine.connect() as conn:
        before = _reads(conn, batches)
    with engine.begin() as conn:
        command.downgrade(_alembic(conn), "0018-1")
    assert _columns(engine) == MOVES_BY_BATCH
    with engine.connect() as conn:
        assert _reads(conn, batches) == before
    db.migrate(engine)
    assert _columns(engine) == (MOVES_BY_BATCH_PG if narrow else MOVES_BY_BATCH)
    with engine.connect() as conn:
        assert _reads(conn, batches) == before

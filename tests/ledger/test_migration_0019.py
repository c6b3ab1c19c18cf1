"""Migration 0019: on PostgreSQL `ix_moves_batch` carries what a trace and a history read in
its leaves (INCLUDE), the reads the same down and up, and a trace's moves an index-only scan;
on SQLite it changes nothing (the covering index of 0015 stays)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from keruen.store import db, queries, tidy
from keruen.store.schema import MOVES_BY_BATCH, MOVES_BY_BATCH_PG, MOVES_INCLUDED_PG
from tests.ledger.test_migration_0015 import _alembic, _ledger, _reads


def _index(engine: Engine) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The key columns of `ix_moves_batch` and those it includes."""
    with engine.connect() as conn:
        found = {i["name"]: i for i in sa.inspect(conn).get_indexes("moves")}
    ix = found["ix_moves_batch"]
    included = ix.get("dialect_options", {}).get("postgresql_include", [])
    return tuple(map(str, ix["column_names"])), tuple(map(str, included))


def test_0019_down_and_up_keeps_what_the_ledger_reads(engine: Engine) -> None:
    batches = _ledger(engine)
    pg = engine.dialect.name == "postgresql"
    covering = (MOVES_BY_BATCH_PG, MOVES_INCLUDED_PG) if pg else (MOVES_BY_BATCH, ())
    assert _index(engine) == covering
    with engine.connect() as conn:
        before = _reads(conn, batches)
    with engine.begin() as conn:
        command.downgrade(_alembic(conn), "0019-1")
    assert _index(engine) == ((MOVES_BY_BATCH_PG, ()) if pg else (MOVES_BY_BATCH, ()))
    with engine.connect() as conn:
        assert _reads(conn, batches) == before
    db.migrate(engine)
    assert _index(engine) == covering
    with engine.connect() as conn:
        assert _reads(conn, batches) == before


def test_a_trace_reads_its_moves_from_the_index_alone(pg_engine: Engine) -> None:
    """Every column the trace statement reads of `moves` is in `ix_moves_batch`: with the
    table vacuumed the planner can answer from the index only (forced here: on a small
    ledger a scan of the table is as cheap)."""
    _ledger(pg_engine)
    tidy.vacuum(pg_engine, "moves")
    with pg_engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_bitmapscan = off")
        for back in (True, False):
            stmt = queries._TRACE[back].params(batch="B1", max_depth=50)
            sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
            assert "Index Only Scan using ix_moves_batch" in plan, plan

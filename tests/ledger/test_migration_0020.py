"""Migration 0020: on PostgreSQL the key of `batches` carries the rest of its row and
`ix_links_output` the input of each edge, the reads the same down and up, and what a trace
reads of `batches`, `links` and `moves` an index-only scan; on SQLite it changes nothing (both
tables are their key's B-tree there)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from keruen.store import db, queries, tidy
from keruen.store.schema import BATCH_INCLUDED_PG
from tests.ledger.test_migration_0015 import _alembic, _ledger, _reads


def _included(engine: Engine) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The columns the key of `batches` and `ix_links_output` include (PostgreSQL)."""
    if engine.dialect.name != "postgresql":
        return (), ()
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT c.relname, array_agg(a.attname ORDER BY k.n) FROM pg_index AS i"
            " JOIN pg_class AS c ON c.oid = i.indexrelid"
            " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(att, n)"
            " JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.att"
            " WHERE c.relname IN ('batches_pkey', 'ix_links_output')"
            "   AND c.relnamespace = to_regnamespace(current_schema())::oid"
            "   AND k.n > i.indnkeyatts GROUP BY c.relname"
        )
        included = {str(name): tuple(map(str, cols)) for name, cols in found}
    return included.get("batches_pkey", ()), included.get("ix_links_output", ())


def test_0020_down_and_up_keeps_what_the_ledger_reads(engine: Engine) -> None:
    batches = _ledger(engine)
    pg = engine.dialect.name == "postgresql"
    covering = (BATCH_INCLUDED_PG, ("input",)) if pg else ((), ())
    assert _included(engine) == covering
    with engine.connect() as conn:
        before = _reads(conn, batches)
    with engine.begin() as conn:
        command.downgrade(_alembic(conn), "0020-1")
    assert _included(engine) == ((), ())
    with engine.connect() as conn:
        assert _reads(conn, batches) == before
    db.migrate(engine)
    assert _included(engine) == covering
    with engine.connect() as conn:
        assert _reads(conn, batches) == before


def test_a_trace_reads_batches_links_and_moves_from_indexes_alone(pg_engine: Engine) -> None:
    """Every column the trace statement reads of `batches`, `links` and `moves` is in the
    index it reads them by: with the tables vacuumed (as `tidy` does) the planner answers
    from the indexes only (forced here: on a small ledger a scan of a table is as cheap)."""
    _ledger(pg_engine)
    for table in tidy.VACUUMED:
        tidy.vacuum(pg_engine, table)
    with pg_engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_bitmapscan = off")
        linked = conn.execute(sa.text("SELECT output FROM links LIMIT 1")).scalar_one()
        for back in (True, False):
            stmt = queries._TRACE[back].params(batch=linked, max_depth=50)
            sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
            walk = "ix_links_output" if back else "links_pkey"
            for index in ("batches_pkey", "ix_moves_batch", walk):
                assert f"Index Only Scan using {index} " in plan, plan
                assert f"Index Scan using {index} " not in plan, plan

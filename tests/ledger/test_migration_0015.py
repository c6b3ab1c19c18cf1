"""Migration 0015 on a populated ledger: the leaner tables hold the same ledger, and the reads
it was made for use its indexes."""

from __future__ import annotations

from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from keruen.bench.streams import StreamGen
from keruen.ingest import ingest_lines
from keruen.store import db, integrity, queries
from keruen.store.port import LedgerReader
from tests import factory as f

MRN = "24KZ555010000001A"


def _ledger(engine: Engine) -> list[str]:
    """A mixed ledger (imports, transfers, transforms, exits, a cancel, transit events)."""
    lines = [*StreamGen(seed=3).events(2_000)]
    lines += f.lines(
        f.import_("x-imp", "55501/010324/0000001/001", f.A, "10", day=1),
        f.transfer("x-t1", "55501/010324/0000001/001", f.A, f.B, "4", day=2),
        f.cancel("x-c1", "x-t1", day=3),
        f.transit_open("x-open", MRN, day=1),
    )
    report = ingest_lines(engine, lines, chunk_size=700)
    assert report.rejected == 0, report.public()
    with engine.connect() as conn:
        return [*sorted(LedgerReader(conn).batch_ids())[::40], "55501/010324/0000001/001"]


def _reads(conn: Connection, batches: list[str]) -> list[Any]:
    reader = LedgerReader(conn)
    out: list[Any] = []
    for b in batches:
        out += [reader.trace_back(b), reader.trace_forward(b), reader.history(b)]
    out.append([e.id for e in reader.select_events(mrn=MRN)])
    return out


def _alembic(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("keruen.store") / "migrations"))
    cfg.attributes["connection"] = conn
    return cfg


def test_0015_down_and_up_keeps_the_ledger_and_what_it_reads(engine: Engine) -> None:
    batches = _ledger(engine)
    with engine.connect() as conn:
        before = _reads(conn, batches)
        events = conn.execute(sa.text("SELECT * FROM events ORDER BY seq")).mappings().all()
    with engine.begin() as conn:
        command.downgrade(_alembic(conn), "0015-1")
        columns = {c["name"] for c in sa.inspect(conn).get_columns("moves")}
        assert "event_id" not in columns
    db.migrate(engine)  # 0015 again, on the rows of the old shape: ref and event_id filled in
    with engine.connect() as conn:
        assert _reads(conn, batches) == before
        again = conn.execute(sa.text("SELECT * FROM events ORDER BY seq")).mappings().all()
        assert again == events
        assert integrity.verify(conn).ok
        refs = dict(
            conn.execute(sa.text("SELECT type, count(ref) FROM events GROUP BY type")).all()
        )
        assert refs["transit_open"] == 1 and refs["cancel"] == 1 and refs["import"] == 0


def test_the_reads_use_the_new_indexes(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return  # the plans below are SQLite's; PostgreSQL chooses by its statistics
    _ledger(engine)
    with engine.connect() as conn:
        path = db.sqlite_path(str(engine.url))
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 16384, path
        tables = dict(conn.exec_driver_sql("SELECT name, sql FROM sqlite_master").all())
        for name in ("balances", "moves", "batches", "links", "cancellations"):
            assert "WITHOUT ROWID" in tables[name], name

        def plan(stmt: Any, **params: Any) -> str:
            literal = {"literal_binds": True}
            sql = str(stmt.params(**params).compile(dialect=conn.dialect, compile_kwargs=literal))
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
            return " | ".join(r[-1] for r in rows)

        for back in (True, False):
            moves = plan(queries._TRACE[back], batch="B1", max_depth=50)
            assert "COVERING INDEX ix_moves_batch" in moves, moves
        history = plan(queries._HISTORY, batch="B1")
        assert "COVERING INDEX ix_moves_batch" in history, history
        e = sa.table("events", sa.column("seq"), sa.column("ref"), sa.column("type"))
        receipts = plan(sa.select(e.c.seq).where(e.c.ref == "M", e.c.type == "receipt"))
        assert "ix_events_ref" in receipts, receipts

"""PostgreSQL housekeeping the ledger does itself when the server does not: VACUUM of
`balances`, the one ledger table whose rows are updated and deleted, and ANALYZE of the tables
the reads plan over.

Each transfer empties a balance and writes another, so `balances` keeps tens of thousands of
live rows while every balance ever emptied stays behind as a dead row until a VACUUM. With
the server's autovacuum off (as on CI) nothing removes them: at 4.5 M events the table was
120 MB and its key's index 108 MB for 38,000 live rows, and every lookup and upsert of a
chunk walked that index (its per-chunk cost growing with the ledger). When autovacuum is on,
the server does this and nothing here runs.

Without autovacuum nothing ANALYZEs either, and a table never analysed is planned as a small
one: a trace back's walk over `links` (`queries._walk`) became a hash join over a
sequential scan of the whole table at every step (8.7 ms at 1 M events, 0.08 ms with
statistics, EXPLAIN ANALYZE), a batch's moves a bitmap scan sorted by a hash anti-join. The
ledger's tables are analysed as autovacuum would, only less often: again each time a table
doubled on disk (the planner scales the statistics it has to the table's current size; the
ledger's tables other than `balances` only grow).

Nor does anything set the visibility map of the tables that only grow, so an index-only scan
(a batch's moves through the covering `ix_moves_batch`, 0019; a batch through its key, which
carries its row, 0020) still reads the table for every row: a random read a move or a batch
when the trace is cold. `moves`, `links` and `batches` are vacuumed as autovacuum would for
their inserts (after the server's insert threshold and scale factor: 1,000 rows and a fifth of
the table by default).
"""

from __future__ import annotations

import logging
import weakref

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

VACUUM_AFTER = 200_000  # balance rows written or deleted between two VACUUMs (≈ 7 chunks)
CHECK_AFTER = 50_000  # events written between two checks of the planner statistics
ANALYZE_FROM = 8  # pages from which a table never analysed is analysed (then at each doubling)
ANALYZED = ("events", "moves", "batches", "links", "cancellations")  # what the reads plan over
VACUUMED = ("moves", "links", "batches")  # only grow; a trace reads them index-only


_changed: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()
_written: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()


def balances_changed(conn: Connection, changed: int) -> None:
    """Count `changed` balance rows written or deleted through the engine of `conn`; past
    `VACUUM_AFTER` since the last VACUUM, VACUUM `balances` now, on a connection of its own,
    if the server does not. Call it before the transaction touches `balances` (VACUUM waits
    for no lock the transaction holds, and removes what the chunks before it deleted)."""
    if (eng := _due(_changed, conn, changed, VACUUM_AFTER)) is not None:
        vacuum(eng, "balances")


def _due(
    counts: weakref.WeakKeyDictionary[Engine, int], conn: Connection, n: int, every: int
) -> Engine | None:
    """Add `n` to what `counts` holds for the engine of `conn` (PostgreSQL only): the engine
    once the count reaches `every` (it then starts over), else None."""
    if conn.dialect.name != "postgresql" or not n:
        return None
    eng = conn.engine
    total = counts.get(eng, 0) + n
    counts[eng] = total if total < every else 0
    return eng if total >= every else None


def vacuum(eng: Engine, table: str) -> None:
    """VACUUM `table` outside any transaction, unless the server's autovacuum is on; a
    failure is logged, never raised: an ingest must not fail over housekeeping."""
    try:
        with eng.connect() as conn:
            if conn.exec_driver_sql("SELECT current_setting('autovacuum')").scalar() == "on":
                return
            conn.rollback()
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql(f"VACUUM {conn.dialect.identifier_preparer.quote(table)}")
    except sa.exc.SQLAlchemyError as e:
        log.warning("VACUUM %s failed: %s", table, e)


def events_written(conn: Connection, written: int) -> None:
    """Count `written` events stored through the engine of `conn`; past `CHECK_AFTER` since
    the last check, ANALYZE the ledger's tables whose statistics are out of date, if the
    server's autovacuum does not (on a connection of its own, before the transaction writes:
    ANALYZE does not wait on the writes of others)."""
    if (eng := _due(_written, conn, written, CHECK_AFTER)) is not None:
        analyze(eng)
        vacuum_grown(eng)


# the tables of ANALYZED (found by the search path) at least twice as large on disk as at
# their last ANALYZE (never analysed: relpages 0), when autovacuum is off; the file's size is
# current where the server's counts of changed rows lag by up to a second
_STALE = f"""
SELECT c.relname FROM pg_class AS c
WHERE c.oid = ANY(ARRAY[{", ".join(f"to_regclass('{name}')" for name in ANALYZED)}])
  AND pg_relation_size(c.oid) / current_setting('block_size')::int
      >= greatest(%(pages)s, 2 * c.relpages)
  AND current_setting('autovacuum') = 'off'
"""


def analyze(eng: Engine) -> None:
    """ANALYZE what `_STALE` names; a failure is logged, never raised."""
    try:
        with eng.connect() as conn:
            found = conn.exec_driver_sql(_STALE, {"pages": ANALYZE_FROM})
            stale = [str(name) for (name,) in found]
            conn.rollback()
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in stale:
                conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(name)}")
    except sa.exc.SQLAlchemyError as e:
        log.warning("ANALYZE failed: %s", e)


# the tables of VACUUMED with as many rows inserted since their last VACUUM as autovacuum waits
# for (`autovacuum_vacuum_insert_threshold` + `_scale_factor` × rows), when autovacuum is off
_GROWN = f"""
SELECT s.relname FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
WHERE s.relid = ANY(ARRAY[{", ".join(f"to_regclass('{name}')" for name in VACUUMED)}])
  AND s.n_ins_since_vacuum >= current_setting('autovacuum_vacuum_insert_threshold')::int
      + current_setting('autovacuum_vacuum_insert_scale_factor')::float8
        * greatest(c.reltuples, 0)
  AND current_setting('autovacuum') = 'off'
"""


def vacuum_grown(eng: Engine) -> None:
    """VACUUM what `_GROWN` names (it sets the visibility map of the pages added since the
    last one, and reads no other page of the table); a failure is logged, never raised."""
    try:
        with eng.connect() as conn:
            grown = [str(name) for (name,) in conn.exec_driver_sql(_GROWN)]
    except sa.exc.SQLAlchemyError as e:
        log.warning("finding the tables to VACUUM failed: %s", e)
        return
    for name in grown:
        vacuum(eng, name)

"""PostgreSQL housekeeping the ledger does itself when the server does not: VACUUM of
`balances`, the one ledger table whose rows are updated and deleted.

Each transfer empties a balance and writes another, so `balances` keeps tens of thousands of
live rows while every balance ever emptied stays behind as a dead row until a VACUUM. With
the server's autovacuum off (as on CI) nothing removes them: at 4.5 M events the table was
120 MB and its key's index 108 MB for 38,000 live rows, and every lookup and upsert of a
chunk walked that index (its per-chunk cost growing with the ledger). When autovacuum is on,
the server does this and nothing here runs.
"""

from __future__ import annotations

import logging
import weakref

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

VACUUM_AFTER = 200_000  # balance rows written or deleted between two VACUUMs (≈ 7 chunks)


_changed: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()


def balances_changed(conn: Connection, changed: int) -> None:
    """Count `changed` balance rows written or deleted through the engine of `conn`; past
    `VACUUM_AFTER` since the last VACUUM, VACUUM `balances` now, on a connection of its own,
    if the server does not. Call it before the transaction touches `balances` (VACUUM waits
    for no lock the transaction holds, and removes what the chunks before it deleted)."""
    if conn.dialect.name != "postgresql" or not changed:
        return
    eng = conn.engine
    total = _changed.get(eng, 0) + changed
    _changed[eng] = total if total < VACUUM_AFTER else 0
    if total >= VACUUM_AFTER:
        vacuum(eng, "balances")


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

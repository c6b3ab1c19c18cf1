"""A read engine beside the ledger's engine, so reads never wait for the writer.

`keruen.store.db` begins every SQLite transaction IMMEDIATE (the writer's lock), which is right
for ingest but would make every API read take the write lock and queue behind the writer.
In WAL mode readers need no lock: this engine begins DEFERRED transactions (one consistent
snapshot per request) with `query_only` on. PostgreSQL needs nothing of the sort.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine


def _pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # transactions are begun explicitly in _begin
    cur = dbapi_conn.cursor()
    for pragma in ("busy_timeout=30000", "query_only=ON", "cache_size=-65536"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def _begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def reader(eng: Engine) -> Engine:
    """An engine for reads of the same database (the engine itself when no separate one helps)."""
    database = eng.url.database
    if eng.dialect.name != "sqlite" or not database or database == ":memory:":
        return eng
    read = sa.create_engine(eng.url, connect_args={"timeout": 30})
    sa.event.listen(read, "connect", _pragmas)
    sa.event.listen(read, "begin", _begin)
    return read

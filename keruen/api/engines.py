"""The API's engines beside the ledger's: a read engine, and a write engine whose commits never
pay for a WAL checkpoint (a `Checkpointer` thread does them).

Reads: `keruen.store.db` begins every SQLite transaction IMMEDIATE (the writer's lock), which
is right for ingest but would make every API read take the write lock and queue behind the
writer. In WAL mode readers need no lock: the read engine begins DEFERRED transactions (one
consistent snapshot per request) with `query_only` on.

Writes: SQLite checkpoints the WAL inside the commit that takes it over `wal_autocheckpoint`
pages (16,384 in `keruen.store.db`). Under steady single-event submits that commit, one group
of the API's writer, then copies the whole WAL into the database file: a 30-40 ms stall every
few seconds on the reference machine, shared by every request waiting behind it, and the
largest part of the submit latency's p99. The write engine has automatic checkpoints off (a
far larger limit stays as a safety net) and the `Checkpointer` thread checkpoints PASSIVE
twice a second: it copies what it can beside the writer, never waiting for or blocking it;
the writer itself copies the last frames, between two groups, when the WAL must start over.

PostgreSQL needs none of this: `reader` returns the engine itself; `writer` its connections
without the pool's ping (`_unpinged`).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keruen.api import pipeline
from keruen.store import db

log = logging.getLogger("keruen.api")
SAFETY_NET_PAGES = 262_144  # 1 GiB of 4 KiB pages: reached only if checkpoints stop


def _pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # transactions are begun explicitly in _begin
    cur = dbapi_conn.cursor()
    for pragma in ("busy_timeout=30000", "query_only=ON", "cache_size=-65536"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def _begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def _sqlite_file(eng: Engine) -> bool:
    database = eng.url.database
    return eng.dialect.name == "sqlite" and bool(database) and database != ":memory:"


def reader(eng: Engine) -> Engine:
    """An engine for reads of the same database (the engine itself when no separate one helps)."""
    if not _sqlite_file(eng):
        return eng
    read = sa.create_engine(eng.url, connect_args={"timeout": 30})
    sa.event.listen(read, "connect", _pragmas)
    sa.event.listen(read, "begin", _begin)
    return read


def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
    cur.close()


def writer(eng: Engine) -> Engine:
    """An engine for the API's writer: on a SQLite file the ledger's settings
    (`db.new_engine`), but commits that leave checkpoints to a `Checkpointer`; on PostgreSQL
    the same connections without the pool's ping (`_unpinged`)."""
    if eng.dialect.name == "postgresql":
        return _unpinged(eng)
    if not _sqlite_file(eng):
        return eng
    # synchronous=FULL: the API acknowledges a submission after its commit, which must then
    # survive an OS crash or a power cut, not only a crash of the server
    own = db.new_engine(eng.url.render_as_string(hide_password=False), sync="full")
    sa.event.listen(own, "connect", _no_autocheckpoint)  # after db's own pragmas
    return own


def _unpinged(eng: Engine) -> Engine:
    """PostgreSQL connections of `eng` (its settings, search path included), handed to a pool
    of their own that checks them out without a ping.

    Why: the ledger's engine pings each connection it checks out (`pool_pre_ping`), and the
    writer checks one out for every group: a round trip of the dozen a single-event group
    costs, each one a wait for the server's process to be scheduled. A connection the server
    dropped now fails the group that used it (answered 503: retry); the pool then discards it
    and takes a fresh, pinged one from `eng`."""

    def connect() -> Any:
        pooled = eng.raw_connection()  # checked out (and pinged) by eng's pool
        pooled.detach()  # from now on this engine's: closed when it is disposed
        return pooled.dbapi_connection

    # no rollback when a connection comes back (in pipeline mode it would cost a round trip
    # even with no transaction open): one left open after a failed COMMIT is rolled back by
    # `pipeline.checkin`
    own = sa.create_engine(
        eng.url, creator=connect, pool_size=1, max_overflow=4, pool_reset_on_return=None
    )
    return pipeline.pipelined(own)


class Checkpointer:
    """Checkpoints a SQLite database's WAL every `interval` seconds from a thread of its own,
    and lets the writer start the WAL over once it holds `restart_frames` frames.

    The thread's PASSIVE checkpoints copy the bulk of the WAL beside the writer, but under
    steady writes never all of it: the writer appends while they copy, so the WAL is never
    wholly copied when a write begins, and only then does SQLite start it over: it would grow
    without end. So once it is long, the writer calls `finish` between two groups: a
    checkpoint of the frames appended since the last pass (3-8 ms on the reference machine,
    every 2 s or so at 500 submits/s), after which its next commit starts the WAL over."""

    def __init__(self, eng: Engine, interval: float = 0.5, restart_frames: int = 16_384) -> None:
        self.eng, self.interval, self.restart_frames = eng, interval, restart_frames
        self._finish = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not _sqlite_file(self.eng) or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="keruen-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()
            self.checkpoint()

    def checkpoint(self) -> tuple[int, int, int] | None:
        """One PASSIVE checkpoint: (busy, WAL frames, frames copied), or None if it failed."""
        try:
            raw = self.eng.raw_connection()
            try:
                cur = raw.cursor()
                row = cur.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                cur.close()
            finally:
                raw.close()
        except (sa.exc.DBAPIError, sqlite3.Error) as e:
            log.warning("WAL checkpoint failed: %s", e)
            return None
        return None if row is None else (int(row[0]), int(row[1]), int(row[2]))

    def finish(self) -> bool:
        """For the writer, between two groups: the last frames, if the WAL is long (True)."""
        if not self._finish.is_set():
            return False
        self._finish.clear()
        self.checkpoint()
        return True

    def background_pass(self) -> None:
        """The thread's work every `interval`: copy what it can; if the WAL is long, ask the
        writer to `finish`."""
        r = self.checkpoint()
        if r is not None and r[1] >= self.restart_frames:
            self._finish.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.background_pass()

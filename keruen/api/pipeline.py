"""PostgreSQL connections for the API's writer that send a transaction in two round trips.

Why: a single-event writer group sends six statements one after the other (BEGIN, the
writer's lock, one read, one write, the audit insert, COMMIT), and each waits for the
server's answer before the next leaves: six wake-ups of a PostgreSQL backend and of the
writer thread, which on a loaded machine cost far more than the statements (docs/api.md,
"Soak"). In libpq's pipeline mode statements are sent without waiting; only a result that is
read waits. So the writer's connections stay in pipeline mode, in autocommit (BEGIN is sent
by the writer itself, queued with what follows, where psycopg would send its own and wait),
and a statement waits for the server only when its rows are read:

    BEGIN, lock, read          -> one round trip (the read's rows are needed to judge)
    write, audit insert, COMMIT -> one round trip (COMMIT syncs; any error is raised there)

Nothing else changes: the same statements in the same order in one transaction; the read's
snapshot is still taken after the lock (each statement has its own in READ COMMITTED); an
error in any statement aborts the transaction and is raised by the commit (or by the next
read), and the transaction is rolled back (`rollback`, or `checkin` after a failed commit);
the commit returns only once the server has made it durable (`synchronous_commit` on).

A statement's rows are awaited unless its text says it returns none: INSERT, UPDATE or
DELETE as the main statement (after any CTEs) without RETURNING, or the writer's lock
(`pg_advisory_xact_lock` returns void). COPY cannot be pipelined: the pipeline is left
(its statements synced) before one, and entered again at the next transaction.
"""

from __future__ import annotations

import contextlib
import re
from functools import lru_cache
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[()]")
_MAIN = {"SELECT", "INSERT", "UPDATE", "DELETE", "VALUES", "TABLE", "SHOW", "COPY"}
_VOID = ("SELECT pg_advisory_xact_lock(",)


@lru_cache(maxsize=512)
def returns_no_rows(statement: str) -> bool:
    """Whether a statement certainly returns no rows: its main (top-level, after the CTEs)
    verb is INSERT, UPDATE or DELETE and no RETURNING is at the top level; or it is one of
    the void calls in `_VOID`. Unsure means no: its rows are then awaited, which is only
    slower."""
    if statement.lstrip().startswith(_VOID):
        return True
    depth, main = 0, None
    for token in _WORD.findall(statement):
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0 and token[0] not in "'\"":
            word = token.upper()
            if main is None and word in _MAIN:
                main = word
            elif word == "RETURNING":
                return False
    return main in ("INSERT", "UPDATE", "DELETE")


class PipelinedCursor(psycopg.Cursor[Any]):
    """A cursor that, in pipeline mode, waits for a statement's result only when its rows may
    be read (SQLAlchemy asks `description` right after every execute)."""

    _skip_rows = False

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> PipelinedCursor:
        self._skip_rows = isinstance(query, str) and returns_no_rows(query)
        if getattr(self._conn, _BEGIN, False):
            # the transaction's BEGIN, queued ahead of its first statement and sent with it:
            # here, inside SQLAlchemy's execute, a dropped connection is seen as one and the
            # connection discarded (raised from the `begin` event it would not be)
            setattr(self._conn, _BEGIN, False)
            psycopg.Cursor(self._conn).execute("BEGIN", prepare=False)
        super().execute(query, params, **kwargs)
        return self

    @property
    def description(self) -> list[psycopg.Column] | None:
        if self._conn._pipeline is not None and self.pgresult is None:
            if self._skip_rows:
                return None
            self._fetch_pipeline()
        return super().description

    def copy(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        leave(self._conn)  # COPY is not allowed in pipeline mode
        return super().copy(statement, params, **kwargs)


def prepare(raw: psycopg.Connection[Any]) -> None:
    """Make a new connection of the writer's pool pipelined (see the module docstring)."""
    raw.autocommit = True
    raw.cursor_factory = PipelinedCursor


_BEGIN = "keruen_begin"  # connection attribute: BEGIN is due before the next statement


def begin(conn: Connection) -> None:
    """SQLAlchemy's `begin` event: enter pipeline mode (once per connection; no I/O) and have
    BEGIN sent with the transaction's first statement."""
    raw: Any = conn.connection.dbapi_connection
    if raw._pipeline is None:
        # what `raw.pipeline()` does, without its context manager: the pipeline outlives this
        # call (a generator left open would try to leave it when collected, even once closed)
        raw._pipeline = psycopg.Pipeline(raw)
        raw._pipeline.__enter__()
    setattr(raw, _BEGIN, True)


def rollback(conn: Connection) -> None:
    """SQLAlchemy's `rollback` event, before psycopg's: leave the pipeline first. After an
    error the server skipped what followed it up to the next Sync, the COMMIT too, so the
    transaction is still open (aborted); out of pipeline mode psycopg sees it and sends
    ROLLBACK (one round trip more, on this failure path only). The error is not raised
    again here: it was raised by the statement or the commit that met it."""
    if conn.invalidated:  # the connection was lost: nothing to leave, SQLAlchemy discards it
        return
    with contextlib.suppress(psycopg.Error):
        leave(conn.connection.dbapi_connection)


def checkin(raw: Any, _record: Any) -> None:
    """The pool's `checkin` event: a connection comes back with no transaction open. One whose
    COMMIT failed is still in its aborted transaction (the server skipped the COMMIT after the
    error, and SQLAlchemy does not roll back a failed commit; the pool does not reset the
    writer's connections): rolled back here, so it holds no lock while it waits in the pool."""
    if raw is None:  # invalidated (a connection the server dropped): closed, not reused
        return
    if raw.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        with contextlib.suppress(psycopg.Error):
            leave(raw)
        with contextlib.suppress(psycopg.Error):
            raw.rollback()


def leave(raw: Any) -> None:
    """Leave pipeline mode: every queued statement is sent and its result received."""
    if (entered := raw._pipeline) is not None:
        try:
            entered.__exit__(None, None, None)
        finally:
            raw._pipeline = None


def pipelined(eng: Engine) -> Engine:
    """`eng` (a PostgreSQL engine built on a `creator`) with its transactions pipelined."""
    sa.event.listen(eng, "connect", lambda raw, _record: prepare(raw))
    sa.event.listen(eng, "begin", begin)
    sa.event.listen(eng, "rollback", rollback)
    sa.event.listen(eng, "checkin", checkin)
    return eng

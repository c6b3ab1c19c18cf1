"""Engines, migrations and the few places where SQLite and PostgreSQL differ."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from decimal import Decimal
from functools import cache, partial
from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url

from keruen.errors import StorageFailure
from keruen.settings import get_settings, normalise_db_url

# exact decimals as text on SQLite (PostgreSQL's NUMERIC takes Decimal natively)
sqlite3.register_adapter(Decimal, str)


def engine(url: str | None = None) -> Engine:
    """One engine per URL, shared by the process."""
    url = normalise_db_url(url) if url else get_settings().db_url
    _check_scheme(url)
    global _in_use
    _in_use = url
    return _engine(url)


@cache
def _engine(url: str) -> Engine:
    return new_engine(url)


def new_engine(
    url: str | None = None,
    sync: str | None = None,
    readonly: bool = False,
    journal: str = "WAL",
    mmap_bytes: int = 0,
    **connect_args: Any,
) -> Engine:
    """An engine of its own; SQLite is tuned for a single fast writer (WAL). `sync` is SQLite's
    synchronous mode: "full" when a commit acknowledges something to someone (the API), else
    settings' `sqlite_sync` ("normal" unless KERUEN_SQLITE_SYNC says otherwise). `journal`
    other than WAL is for a file nobody else reads yet (`keruen.bulk`). `mmap_bytes` maps that
    much of a SQLite file into memory (capped by SQLite at 2 GiB): only for a process that
    may die of a failed read (SIGBUS, where a read would have raised), as the split's child may."""
    url = normalise_db_url(url) if url else get_settings().db_url
    _check_scheme(url)
    global _in_use
    _in_use = url
    if url.startswith("sqlite"):
        eng = sa.create_engine(url, connect_args={"timeout": 30, **connect_args})
        mode = (sync or get_settings().sqlite_sync).upper()
        sa.event.listen(
            eng,
            "connect",
            partial(
                _sqlite_pragmas, sync=mode, readonly=readonly, journal=journal, mmap=mmap_bytes
            ),
        )
        # a reader's transactions take no lock: a snapshot of the file as it was at its first read
        sa.event.listen(eng, "begin", _sqlite_read if readonly else _sqlite_begin)
        return eng
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


SCHEMES = ("sqlite", "postgresql")
_in_use: str | None = None  # the database the process uses last: named in error messages


def _check_scheme(url: str) -> None:
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in SCHEMES:
        raise StorageFailure(
            describe(url),
            f"unsupported URL scheme {scheme!r} (use a SQLite file, sqlite:///FILE or "
            "postgresql://HOST/NAME)",
        )


def describe(url: str | None = None) -> str:
    """The database as a person names it: the SQLite file, or the URL without its password."""
    url = normalise_db_url(url) if url else (_in_use or get_settings().db_url)
    path = sqlite_path(url)
    if path is not None:
        return path
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def sqlite_path(url: str) -> str | None:
    """The file a SQLite URL names; None for other databases and in-memory SQLite."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    path = path.split("?", 1)[0]
    return None if path in ("", ":memory:") else path


def require_existing(url: str | None) -> None:
    """Refuse a SQLite file that does not exist: a read never creates an empty ledger."""
    url = normalise_db_url(url) if url else get_settings().db_url
    _check_scheme(url)
    path = sqlite_path(url)
    if path is not None and not os.path.exists(path):
        raise StorageFailure(path, "no such file (a new ledger is created by keruen ingest)")


def failure(e: BaseException) -> StorageFailure | None:
    """The driver or SQLAlchemy error `e` as one line naming the database, or None if `e` is
    not a database error."""
    import psycopg

    if isinstance(e, StorageFailure):
        return e
    if not isinstance(e, sa.exc.SQLAlchemyError | sqlite3.Error | psycopg.Error):
        return None
    orig = getattr(e, "orig", None) or e
    lines = str(orig).strip().splitlines()
    cause = lines[0] if lines else type(orig).__name__
    return StorageFailure(describe(), cause.removeprefix("(psycopg.OperationalError) "))


@contextmanager
def scratch(url: str | None = None, keep: bool = False) -> Iterator[Engine]:
    """A fresh, migrated, empty database for a benchmark or a test: a temporary SQLite file
    (or the SQLite file `url` names), or a throwaway schema on the PostgreSQL server `url`
    (with `keep`, left in place: `schema_url` names it)."""
    if url and normalise_db_url(url).startswith("postgresql"):
        schema = f"keruen_scratch_{uuid.uuid4().hex[:12]}"
        admin = new_engine(url)
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        eng = new_engine(url, options=f"-csearch_path={schema}")
        try:
            migrate(eng)
            yield eng
        finally:
            eng.dispose()
            if not keep:
                with admin.begin() as conn:
                    conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
        return
    path = sqlite_path(normalise_db_url(url)) if url else None
    if path is not None and os.path.exists(path) and os.path.getsize(path) > 0:
        raise StorageFailure(path, "exists; a benchmark or test only writes into a new file")
    with tempfile.TemporaryDirectory() as tmp:
        eng = new_engine(url or os.path.join(tmp, "keruen.db"))
        try:
            migrate(eng)
            yield eng
        finally:
            eng.dispose()


def schema_url(eng: Engine) -> str:
    """The URL of the PostgreSQL ledger `eng` writes (its password hidden) with the schema
    its search path names, for a later command (`keruen bench trace --ledger`)."""
    with eng.connect() as conn:
        path = str(conn.exec_driver_sql("SHOW search_path").scalar())
    url = eng.url.update_query_dict({"options": f"-csearch_path={path}"})
    return url.render_as_string(hide_password=True)


def _sqlite_pragmas(
    dbapi_conn: Any,
    _record: Any,
    sync: str = "NORMAL",
    readonly: bool = False,
    journal: str = "WAL",
    mmap: int = 0,
) -> None:
    dbapi_conn.isolation_level = None  # transactions are begun explicitly in _sqlite_begin
    cur = dbapi_conn.cursor()
    for pragma in (
        # for a new file only (a ledger's page size is fixed once it has a table): fewer,
        # larger pages for the B-trees the ingest appends to and a trace reads in ranges
        "page_size=16384",
        f"journal_mode={journal}",
        # NORMAL in WAL: a commit survives a crash of the process, not of the OS or the power
        f"synchronous={sync}",
        "cache_size=-262144",
        "temp_store=MEMORY",
        "busy_timeout=30000",
        "wal_autocheckpoint=16384",
        "foreign_keys=ON",
        *(["query_only=ON"] if readonly else []),
        *([f"mmap_size={mmap}"] if mmap else []),
    ):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


class Checkpointer:
    """WAL checkpoints of a SQLite file in a thread of their own, while a long ingest writes.

    Left to itself, the writer's commit that finds the WAL past `wal_autocheckpoint` copies it
    into the file (256 MB, with an fsync) before the next chunk is judged. Here a second
    connection copies each chunk's pages (PASSIVE: it never takes the writer's lock) right after
    its commit, with the GIL released, on the other core, while the writer judges the next
    chunk; the writer's next transaction then finds the WAL copied and starts it over, so it
    never grows to the point where its own commit would copy it. Nothing about durability
    changes: a checkpoint only moves committed pages from the WAL into the file."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA busy_timeout=0")  # PASSIVE waits on nobody anyway
        self.wake = threading.Event()
        self.pending = self.stopping = False
        self.thread = threading.Thread(target=self._loop, name="keruen-checkpoint", daemon=True)

    def wal(self) -> bool:
        """Whether the file has a WAL to copy (not a rollback journal, as a bulk load's)."""
        return str(self.conn.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"

    def committed(self) -> None:
        """A chunk was committed: copy what the WAL holds (once more, if copying now); the
        thread starts at the first call."""
        if not self.thread.is_alive() and not self.stopping:
            self.thread.start()
        self.pending = True
        self.wake.set()

    def _loop(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            if self.pending:
                self.pending = False
                # busy or gone: the writer's own checkpoint still runs
                with suppress(sqlite3.Error):
                    self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            if self.stopping:
                return

    def close(self) -> None:
        self.stopping = True
        self.wake.set()
        if self.thread.is_alive():
            self.thread.join()
        self.conn.close()


@contextmanager
def checkpointing(eng: Engine) -> Iterator[Callable[[], None]]:
    """A function to call after each commit of an ingest: from the second commit of a SQLite
    file's ingest on, a `Checkpointer` copies the WAL (a one-chunk ingest, as the API's, needs
    none, and by then the ingest's helper processes are forked: a fork copies no thread). For
    other databases, and SQLite files without a WAL, it does nothing."""
    path = sqlite_path(str(eng.url))
    started: list[Checkpointer] = []
    commits = 0

    def committed() -> None:
        nonlocal commits, path
        commits += 1
        if path is None or commits < 2:
            return
        if not started:
            checkpointer = Checkpointer(path)
            started.append(checkpointer)
            if not checkpointer.wal():
                path = None  # a rollback journal (a bulk load's): nothing to copy, no thread
                return
        started[0].committed()

    try:
        yield committed
    finally:
        for checkpointer in started:
            checkpointer.close()


def _sqlite_read(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def _sqlite_begin(conn: Connection) -> None:
    # IMMEDIATE takes the write lock at BEGIN: a chunk never reads a state another writer changes
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(eng: Engine) -> None:
    """Bring the database to the newest schema (every migration branch)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("keruen.store") / "migrations"))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def ready(url: str | None = None, create: bool = True) -> Engine:
    """An engine whose database is migrated: what every command starts from. With
    `create=False` a SQLite file that does not exist is refused, not created empty.
    Database errors come out as one `StorageFailure` naming the database and the cause."""
    if not create:
        require_existing(url)
    try:
        eng = engine(url)
        migrate(eng)
    except Exception as e:
        if (f := failure(e)) is None:
            raise
        raise StorageFailure(describe(url), f.cause) from e
    return eng


def unreachable(e: BaseException) -> bool:
    """Whether an error says the database cannot be used (down, gone, locked, out of space),
    as opposed to refusing one statement's content. The raw COPY path raises driver errors."""
    import psycopg

    lost = (
        sa.exc.OperationalError,
        sa.exc.InterfaceError,
        sqlite3.OperationalError,
        sqlite3.InterfaceError,
        psycopg.OperationalError,
        psycopg.InterfaceError,
    )
    return isinstance(e, lost)


def lock_writer(conn: Connection, then: str = "") -> list[tuple[Any, ...]]:
    """Serialise ledger writers: the hash chain and the balances have one writer at a time.

    Once per transaction: the lock is held until it ends, so a second call in the same
    transaction (the API's audit entries after the events they record) costs no round trip.
    (No savepoints are used: a lock taken in one rolled back would be gone.) `then` is a
    query without parameters run once the lock is held, in the same round trip on
    PostgreSQL (its own snapshot: it sees what the writer before committed); its rows."""
    if conn.dialect.name != "postgresql":
        return list(conn.exec_driver_sql(then)) if then else []
    tx = conn.get_transaction()
    if tx is not None and conn.info.get(_LOCKED) is tx:
        return list(conn.exec_driver_sql(then)) if then else []
    lock = "SELECT pg_advisory_xact_lock(7411)"
    rows = simple_query(conn, [lock, then] if then else [lock])[-1]
    conn.info[_LOCKED] = conn.get_transaction()
    return rows if then else []


_LOCKED = "keruen_writer_lock"  # conn.info: the transaction that holds the writer's lock


def simple_query(conn: Connection, statements: Sequence[str]) -> list[list[tuple[Any, ...]]]:
    """PostgreSQL: `statements` (no parameters) in one round trip, the simple query protocol;
    the rows of each. In a READ COMMITTED transaction each statement takes its own snapshot,
    so one that follows a lock sees what was committed while the lock was awaited."""
    if conn.get_transaction() is None:
        conn.begin()
    raw = conn.connection.driver_connection
    assert raw is not None
    out: list[list[tuple[Any, ...]]] = []
    with raw.cursor() as cur:
        cur.execute("; ".join(statements))
        while True:
            out.append(cur.fetchall() if cur.description is not None else [])
            if not cur.nextset():
                return out


def upsert(
    conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Iterable[str]
) -> None:
    """Insert rows, replacing the non-key columns of rows whose keys already exist."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    keys = list(keys)
    update = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=update), rows)


def chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    """Slices small enough for an IN (...) list on every backend."""
    for i in range(0, len(values), size):
        yield values[i : i + size]

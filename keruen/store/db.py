"""Engines, migrations and the few places where SQLite and PostgreSQL differ."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, partial
from importlib import resources
from itertools import chain
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
    **connect_args: Any,
) -> Engine:
    """An engine of its own; SQLite is tuned for a single fast writer (WAL). `sync` is SQLite's
    synchronous mode: "full" when a commit acknowledges something to someone (the API), else
    settings' `sqlite_sync` ("normal" unless KERUEN_SQLITE_SYNC says otherwise). `journal`
    other than WAL is for a file nobody else reads yet (`keruen.bulk`)."""
    url = normalise_db_url(url) if url else get_settings().db_url
    _check_scheme(url)
    global _in_use
    _in_use = url
    if url.startswith("sqlite"):
        eng = sa.create_engine(url, connect_args={"timeout": 30, **connect_args})
        mode = (sync or get_settings().sqlite_sync).upper()
        sa.event.listen(
            eng, "connect", partial(_sqlite_pragmas, sync=mode, readonly=readonly, journal=journal)
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
    rows = _simple(conn, [lock, then] if then else [lock])[-1]
    conn.info[_LOCKED] = conn.get_transaction()
    return rows if then else []


_LOCKED = "keruen_writer_lock"  # conn.info: the transaction that holds the writer's lock


def _no_jit(conn: Connection, rows: int, also: Sequence[str] = ()) -> None:
    """PostgreSQL: no JIT compilation for the rest of this transaction, before a statement
    over `rows` array elements. From about 12,000 keys the planner's cost of a chunk's
    lookups passes `jit_above_cost` and the server compiles the plan each time (3.5-15 ms a
    statement, measured at 5 M events) for index probes that gain nothing from it; the
    API's few-row statements never get there, and other readers keep the server's setting.
    `also` are statements without parameters sent in the same round trip."""
    tx = conn.get_transaction()
    off = rows >= JIT_OFF_FROM and not (tx is not None and conn.info.get(_JIT_OFF) is tx)
    statements = [*(["SET LOCAL jit = off"] if off else []), *also]
    if statements:
        _simple(conn, statements)
    if off:
        conn.info[_JIT_OFF] = conn.get_transaction()


def _simple(conn: Connection, statements: Sequence[str]) -> list[list[tuple[Any, ...]]]:
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


JIT_OFF_FROM = 1_000  # array elements from which a statement's transaction turns JIT off
_JIT_OFF = "keruen_jit_off"  # conn.info: the transaction in which JIT is off


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


# --- the ledger's hot path: plain SQL through the driver, the same text on both backends ------
# SQLAlchemy's per-row parameter processing costs more than the insert itself at this volume;
# these helpers build portable statements once and hand tuples to the driver's executemany.


def _marks(conn: Connection, n: int) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * n)


def _names(conn: Connection, names: Iterable[str]) -> str:
    quote = conn.dialect.identifier_preparer.quote
    return ", ".join(quote(n) for n in names)


def bulk_insert(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    upsert_keys: Sequence[str] = (),
) -> None:
    """INSERT many rows; with `upsert_keys`, replace the other columns on a key conflict.

    PostgreSQL gets COPY (an INSERT from arrays when upserting): an order of magnitude
    faster than row-by-row INSERT; SQLite gets executemany, which is already in-process.
    """
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        name, cols = _names(conn, [table.name]), _names(conn, columns)
        conflict = _on_conflict(conn, columns, upsert_keys)
        sql = f"INSERT INTO {name} ({cols}) VALUES ({_marks(conn, len(columns))}){conflict}"
        conn.exec_driver_sql(sql, list(rows))
        return
    if upsert_keys or len(rows) < COPY_FROM:
        # COPY cannot upsert, and for a few rows costs two round trips where this costs one
        # (the API's single-event groups): one INSERT … SELECT from one array per column
        _no_jit(conn, len(rows))
        conn.exec_driver_sql(_insert_sql(conn, table, columns, upsert_keys), _arrays(rows))
        return
    _copy(conn, table, columns, rows)


COPY_FROM = 64  # rows from which PostgreSQL gets COPY rather than one INSERT of arrays


def bulk_write(conn: Connection, inserts: Inserts, deletes: Deletes = ()) -> None:
    """`bulk_insert` each of `inserts` (table, columns, rows, upsert keys), then `bulk_delete`
    each of `deletes` (table, keys, rows); the rows of different parts never share a key.

    PostgreSQL gets one statement for all the parts below `COPY_FROM` rows (each a
    data-modifying CTE over arrays; the ledger has no foreign keys or triggers between them):
    a single-event group's events, batch, moves and balances cost one round trip, not four.
    Larger parts get COPY; a larger upsert (a chunk's balances, with the deletes of that
    table) is copied into a temporary table that the one statement takes its rows from.
    """
    if conn.dialect.name != "postgresql":
        for table, columns, rows, keys in inserts:
            bulk_insert(conn, table, columns, rows, keys)
        for table, keys, rows in deletes:
            bulk_delete(conn, table, keys, rows)
        return
    in_statement = [rows for _, _, rows, keys in inserts if keys or len(rows) < COPY_FROM]
    elements = sum(map(len, in_statement)) + sum(len(rows) for _, _, rows in deletes)
    staged, inserts, deletes = _staged(inserts, deletes)
    _no_jit(conn, elements, [sql for s in staged for sql in _stage_sql(conn, s.table, s.columns)])
    parts: list[str] = [sql for s in staged for sql in _stage(conn, s)]
    params: list[Any] = []
    for table, columns, rows, keys in inserts:
        if not rows:
            continue
        if not keys and len(rows) >= COPY_FROM:
            bulk_insert(conn, table, columns, rows)
            continue
        parts.append(_insert_sql(conn, table, columns, keys))
        params.extend(_arrays(rows))
    for table, keys, rows in deletes:
        if rows:
            parts.append(_delete_sql(conn, table, keys))
            params.extend(_arrays(rows))
    if not parts:
        return
    *ctes, last = parts
    head = ", ".join(f"w{i} AS ({cte})" for i, cte in enumerate(ctes))
    conn.exec_driver_sql(f"WITH {head} {last}" if ctes else last, tuple(params))


# --- PostgreSQL: a table's upserts and deletes through a binary COPY into a temporary table --

Inserts = Sequence[tuple[sa.Table, Sequence[str], Sequence[tuple[Any, ...]], Sequence[str]]]
Deletes = Sequence[tuple[sa.Table, Sequence[str], Sequence[tuple[Any, ...]]]]


@dataclass(frozen=True, slots=True)
class _Staged:
    """A table's upserts (`rows` of `columns`) and deletes (`emptied`, rows of `keys`)."""

    table: sa.Table
    columns: Sequence[str]
    keys: Sequence[str]
    rows: Sequence[tuple[Any, ...]]
    emptied: Sequence[tuple[Any, ...]]


def _staged(inserts: Inserts, deletes: Deletes) -> tuple[list[_Staged], Inserts, Deletes]:
    """The first upsert part of `COPY_FROM` rows or more, with the deletes of its table by
    the same keys, to go through a stage (at most one: its rows are one CTE of the
    statement); and the inserts and deletes left."""
    for i, (table, columns, rows, keys) in enumerate(inserts):
        if not keys:
            continue
        same = [j for j, (t, k, _) in enumerate(deletes) if t is table and list(k) == list(keys)]
        emptied = deletes[same[0]][2] if same else ()
        if len(rows) + len(emptied) < COPY_FROM:
            continue
        rest = [d for j, d in enumerate(deletes) if j not in same[:1]]
        return (
            [_Staged(table, columns, keys, rows, emptied)],
            [*inserts[:i], *inserts[i + 1 :]],
            rest,
        )
    return [], inserts, deletes


def _stage_sql(conn: Connection, table: sa.Table, columns: Sequence[str]) -> list[str]:
    """The temporary table of `columns` of `table` as text (no constraints), made once per
    session and emptied by each commit; emptied now if this transaction used it already."""
    name = _names(conn, [table.name])
    tx, used = conn.get_transaction(), f"keruen_staged_{table.name}"
    again = tx is not None and conn.info.get(used) is tx
    conn.info[used] = tx
    texts = ", ".join(f"{c}::text AS {c}" for c in (_names(conn, [c]) for c in columns))
    return [
        f"CREATE TEMP TABLE IF NOT EXISTS keruen_stage_{table.name} ON COMMIT DELETE ROWS"
        f" AS SELECT {texts} FROM {name} WITH NO DATA",
        *([f"TRUNCATE pg_temp.keruen_stage_{table.name}"] if again else []),
    ]


def _stage(conn: Connection, s: _Staged) -> list[str]:
    """COPY the upserted rows and the deleted keys (their other columns NULL) into the stage
    of the table, every value as text; returns the statement's parts that delete the rows
    whose first non-key column is NULL and upsert the others (cast back to their types).
    For the client's CPU: psycopg dumps a list parameter element by element in Python, and a
    Decimal in binary through its digit tuple; `str` and a COPY row in C cost less. Same
    process, alternating chunk by chunk at 1 M events: the writer's client CPU for a chunk's
    insert 119 -> 89 ms (arrays -> this), the server's 321 -> 329 ms."""
    stage, n = f"pg_temp.keruen_stage_{s.table.name}", len(s.keys)
    assert list(s.columns[:n]) == list(s.keys)  # the keys first, then the values
    assert all(not s.table.c[c].nullable for c in s.columns[n:])  # NULL says "delete"
    pad = (None,) * (len(s.columns) - n)
    rows = chain(
        ((*r[:n], *map(str, r[n:])) for r in s.rows) if n < len(s.columns) else s.rows,
        ((*k, *pad) for k in s.emptied),
    )
    _copy_into(conn, stage, s.columns, ["text"] * len(s.columns), rows)
    types = _copy_types(conn, s.table, tuple(s.columns))
    names = [_names(conn, [c]) for c in s.columns]
    marker, name = names[n], _names(conn, [s.table.name])
    found = _looked_up(conn, s.table, ["ctid"], s.keys, stage, f"k.{marker} IS NULL")
    gone = f"DELETE FROM {name} AS t WHERE t.ctid = ANY(ARRAY(SELECT t.ctid {found}))"
    typed = ", ".join(f"{c}::{t} AS {c}" for c, t in zip(names, types, strict=True))
    kept = f"(SELECT {typed} FROM {stage} WHERE {marker} IS NOT NULL) AS k"
    return [gone, _insert_sql(conn, s.table, s.columns, s.keys, kept)]


def _insert_sql(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[str],
    upsert_keys: Sequence[str],
    source: str | None = None,
) -> str:
    """PostgreSQL's INSERT … SELECT from one array parameter per column, or from `source` (a
    FROM item of `columns`), upserting on keys."""
    name, cols = _names(conn, [table.name]), _names(conn, columns)
    conflict = _on_conflict(conn, columns, upsert_keys)
    source = source or _unnest(conn, table, columns)
    return f"INSERT INTO {name} ({cols}) SELECT * FROM {source}{conflict}"


def _on_conflict(conn: Connection, columns: Sequence[str], upsert_keys: Sequence[str]) -> str:
    """` ON CONFLICT (keys) DO UPDATE SET` the other columns (both dialects), or nothing."""
    if not upsert_keys:
        return ""
    quote = conn.dialect.identifier_preparer.quote
    updates = ", ".join(
        f"{quote(c)} = excluded.{quote(c)}" for c in columns if c not in upsert_keys
    )
    return f" ON CONFLICT ({_names(conn, upsert_keys)}) DO UPDATE SET {updates}"


# --- PostgreSQL: many rows as one array parameter per column --------------------------------


def _unnest(conn: Connection, table: sa.Table, columns: Sequence[str]) -> str:
    """`unnest(%b::type[], …)`: rows from one array parameter per column, each sent in
    binary (`%b`): the server does not parse a text array literal of a chunk's 20,000 keys,
    nor the driver quote one (12 -> 2.4 ms of server time for 14,000 rows of three columns)."""
    types = []
    for c in columns:
        t = table.c[c].type
        if isinstance(t, sa.types.TypeDecorator):
            t = t.load_dialect_impl(conn.dialect)
        types.append(f"%b::{t.compile(dialect=conn.dialect)}[]")
    return f"unnest({', '.join(types)})"


def _keys_join(conn: Connection, table: sa.Table, keys: Sequence[str]) -> tuple[str, str]:
    """(`unnest(…) AS k(k0, …)`, `t.key0 = k.k0 AND …`): the table as `t` joined to key rows."""
    aliases = ", ".join(f"k{i}" for i in range(len(keys)))
    on = " AND ".join(f"t.{_names(conn, [k])} = k.k{i}" for i, k in enumerate(keys))
    return f"{_unnest(conn, table, keys)} AS k({aliases})", on


def _looked_up(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[str],
    keys: Sequence[str],
    staged: str = "",
    where: str = "",
) -> str:
    """PostgreSQL: `FROM` the key rows, each looked up in `table` (as `t`, with `columns`) by
    its index. A plain join of 20,000 key rows is planned as a hash join over a scan of the
    whole table (440 ms a chunk at 220 k events, growing with the ledger); a LATERAL subquery
    fenced by OFFSET 0 cannot be flattened into one, so it is a nested loop of index probes
    (70 ms, growing with the chunk only). The key rows are the array parameters, or the
    relation `staged` (as `k`, its columns named as the keys), filtered by `where`."""
    if staged:
        keyrows = f"{staged} AS k"
        names = (_names(conn, [k]) for k in keys)
        on = " AND ".join(f"t.{n} = k.{n}" for n in names)
    else:
        keyrows, on = _keys_join(conn, table, keys)
    name, cols = _names(conn, [table.name]), ", ".join(f"t.{_names(conn, [c])}" for c in columns)
    return (
        f"FROM {keyrows} CROSS JOIN LATERAL"
        f" (SELECT {cols} FROM {name} AS t WHERE {on} OFFSET 0) AS t"
        + (f" WHERE {where}" if where else "")
    )


def _delete_sql(conn: Connection, table: sa.Table, keys: Sequence[str]) -> str:
    """PostgreSQL: DELETE the rows whose keys are in the array parameters, found by index
    probes (`_looked_up`) and removed by their row addresses (a TID scan), never by a hash
    join over the whole table."""
    name = _names(conn, [table.name])
    found = f"SELECT t.ctid {_looked_up(conn, table, ['ctid'], keys)}"
    return f"DELETE FROM {name} AS t WHERE t.ctid = ANY(ARRAY({found}))"


def _arrays(rows: Sequence[tuple[Any, ...]]) -> tuple[list[Any], ...]:
    return tuple(list(column) for column in zip(*rows, strict=True))


def _copy(
    conn: Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """COPY in binary: the server neither splits lines nor parses numbers and escapes, the
    client only prefixes lengths (text COPY of events and moves cost the server 8-9 µs of CPU
    per row at 10 M events)."""
    types = _copy_types(conn, table, tuple(columns))
    _copy_into(conn, _names(conn, [table.name]), columns, types, rows)


def _copy_into(
    conn: Connection,
    name: str,
    columns: Sequence[str],
    types: list[str],
    rows: Iterable[tuple[Any, ...]],
) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    cols = _names(conn, columns)
    with raw.cursor() as cur, cur.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _copy_types(conn: Connection, table: sa.Table, columns: tuple[str, ...]) -> list[str]:
    """The PostgreSQL type names of `columns`, as binary COPY must be told them."""
    types = []
    for c in columns:
        t = table.c[c].type
        if isinstance(t, sa.types.TypeDecorator):
            t = t.load_dialect_impl(conn.dialect)
        types.append(t.compile(dialect=conn.dialect).split("(", 1)[0].lower())
    return types


def fetch_in(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[str],
    keys: Sequence[str],
    values: Iterable[tuple[Any, ...]],
) -> Iterator[tuple[Any, ...]]:
    """Rows whose `keys` columns equal one of `values` (raw driver values, in chunks)."""
    quote = conn.dialect.identifier_preparer.quote
    name = _names(conn, [table.name])
    cols = ", ".join(f"t.{quote(c)}" for c in columns)
    if conn.dialect.name == "postgresql":
        # one statement, one parameter per key column, however many rows (no re-planning)
        rows = sorted(values)
        if rows:
            found = _looked_up(conn, table, columns, keys)
            _no_jit(conn, len(rows))
            yield from conn.exec_driver_sql(f"SELECT {cols} {found}", _arrays(rows))
        return
    select = f"SELECT {cols} FROM "
    for part in chunks(sorted(values)):
        params = tuple(v for value in part for v in value)
        if len(keys) == 1:
            sql = f"{select}{name} AS t WHERE t.{quote(keys[0])} IN ({_marks(conn, len(part))})"
        else:
            # a join with a VALUES list: SQLite scans the whole table for `(a, b) IN (VALUES …)`
            row = f"({_marks(conn, len(keys))})"
            on = " AND ".join(f"t.{quote(k)} = k.column{i}" for i, k in enumerate(keys, 1))
            sql = f"{select}(VALUES {', '.join([row] * len(part))}) AS k JOIN {name} AS t ON {on}"
        yield from conn.exec_driver_sql(sql, params)


def fetch_newest_and_in(
    conn: Connection,
    newest: tuple[sa.Table, Sequence[str], str],
    parts: Sequence[tuple[sa.Table, Sequence[str], Sequence[str], Iterable[tuple[Any, ...]]]],
) -> list[list[list[str | None]]]:
    """PostgreSQL: in one statement (one snapshot, one round trip), the newest row of a table
    (table, columns, ordered by) and the rows of several `fetch_in` (table, columns, keys,
    values); every value as text. Returns the rows of `newest`, then of each part."""
    quote = conn.dialect.identifier_preparer.quote

    def row(columns: Sequence[str]) -> str:
        return f"ARRAY[{', '.join(f't.{quote(c)}::text' for c in columns)}]"

    table, columns, order = newest
    name = _names(conn, [table.name])
    selects = [
        f"SELECT 0 AS part, v FROM (SELECT {row(columns)} AS v FROM {name} AS t"
        f" ORDER BY t.{quote(order)} DESC LIMIT 1) AS newest"
    ]
    params: list[Any] = []
    for i, (table, columns, keys, values) in enumerate(parts, 1):
        rows = sorted(values)
        if rows:
            found = _looked_up(conn, table, columns, keys)
            selects.append(f"SELECT {i}, {row(columns)} {found}")
            params.extend(_arrays(rows))
    _no_jit(conn, max((len(p) for p in params), default=0))
    out: list[list[list[str | None]]] = [[] for _ in range(len(parts) + 1)]
    for part, values in conn.exec_driver_sql(" UNION ALL ".join(selects), tuple(params)):
        out[part].append(values)
    return out


def bulk_delete(
    conn: Connection, table: sa.Table, keys: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """DELETE the rows whose `keys` columns equal each of `rows`, by key lookups."""
    if not rows:
        return
    name = _names(conn, [table.name])
    if conn.dialect.name == "postgresql":
        _no_jit(conn, len(rows))
        conn.exec_driver_sql(_delete_sql(conn, table, keys), _arrays(rows))
        return
    where = " AND ".join(f"{_names(conn, [k])} = ?" for k in keys)
    conn.exec_driver_sql(f"DELETE FROM {name} WHERE {where}", list(rows))

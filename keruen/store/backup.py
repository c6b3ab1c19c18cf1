"""Online, consistent backups of a whole Keruen database, and their restore.

A backup is one gzip'd JSON Lines file, the same on both databases (a SQLite backup restores
into PostgreSQL and back): a header (format, schema revision, heads of the chains), then
each table's name and columns followed by its rows, then an end marker with the row count
(a cut file is refused). It is read in one snapshot: a read-only REPEATABLE READ transaction
on PostgreSQL, a deferred read transaction on SQLite's WAL; writers go on meanwhile.

A restore fills a new, empty database at the backup's schema revision, table by table in
foreign-key order, moves the id sequences past the restored ids and past every id the source
ever handed out (the header's `high_water`: SQLite's `sqlite_sequence`, PostgreSQL's
sequences), so an id deleted before the backup (a removed user's, whose old keys named it) is
never handed out again after the restore; and is verified with
`keruen.store.integrity.verify` before it is reported done.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keruen.errors import ConfigError, StorageFailure
from keruen.store import db, integrity
from keruen.store import schema as t
from keruen.store.ledger import head

FORMAT = "keruen-backup"
VERSION = 1
BATCH = 5_000
Progress = Callable[[int], None]


class Header(msgspec.Struct, kw_only=True):
    format: str
    version: int
    revisions: list[str]
    events: int
    head: tuple[int, str]
    # per table, the largest id ever handed out (deleted rows' included); absent in older
    # backups, whose restores then continue after the restored ids only
    high_water: dict[str, int] = msgspec.field(default_factory=dict)


class TableStart(msgspec.Struct, kw_only=True):
    table: str
    columns: list[str]


class End(msgspec.Struct, kw_only=True):
    end: bool
    rows: int


@dataclass(frozen=True, slots=True)
class Summary:
    tables: int
    rows: int
    events: int
    head: tuple[int, str]


_encoder = msgspec.json.Encoder(decimal_format="string")


def _enc(value: Any) -> bytes:
    return _encoder.encode(value) + b"\n"


def tables() -> list[sa.Table]:
    """Every table of every area, parents before children."""
    return list(t.full_metadata().sorted_tables)


def revisions(conn: Connection) -> list[str]:
    return sorted(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))


@contextmanager
def snapshot(eng: Engine) -> Iterator[Connection]:
    """A read-only connection on one consistent snapshot that does not block writers."""
    if eng.dialect.name == "postgresql":
        with eng.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield conn
        return
    reader = sa.create_engine(eng.url, connect_args={"timeout": 30})

    @sa.event.listens_for(reader, "connect")
    def _autocommit(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    try:
        with reader.connect() as conn:
            conn.exec_driver_sql("BEGIN")  # deferred: a WAL snapshot from its first read
            try:
                yield conn
            finally:
                conn.exec_driver_sql("COMMIT")
    finally:
        reader.dispose()


def backup(eng: Engine, out: IO[bytes], progress: Progress | None = None) -> Summary:
    """Write the whole database, as one snapshot, to `out` (a binary file, gzip'd here)."""
    rows = 0
    with snapshot(eng) as conn, gzip.GzipFile(fileobj=out, mode="wb", compresslevel=5) as z:
        events = conn.scalar(sa.select(sa.func.count()).select_from(t.events)) or 0
        top = head(conn)
        z.write(
            _enc(
                Header(
                    format=FORMAT,
                    version=VERSION,
                    revisions=revisions(conn),
                    events=events,
                    head=top,
                    high_water=high_water(conn),
                )
            )
        )
        kept = tables()
        for table in kept:
            columns = [str(c.name) for c in table.columns]
            z.write(_enc(TableStart(table=str(table.name), columns=columns)))
            q = sa.select(*table.columns).order_by(*table.primary_key.columns)
            for part in conn.execute(q.execution_options(yield_per=BATCH)).partitions():
                z.write(b"".join(_enc(list(r)) for r in part))
                rows += len(part)
                if progress:
                    progress(len(part))
        z.write(_enc(End(end=True, rows=rows)))
    return Summary(len(kept), rows, events, top)


def restore(eng: Engine, src: IO[bytes], progress: Progress | None = None) -> Summary:
    """Fill the new, empty database `eng` from a backup; refuses one that holds anything."""
    db.migrate(eng)
    with eng.begin() as conn:
        _require_empty(conn)
        summary, header = _load(conn, _lines(src), progress)
        _advance_sequences(conn, header.high_water)
    return summary


def _lines(src: IO[bytes]) -> Iterator[bytes]:
    with gzip.GzipFile(fileobj=src, mode="rb") as z:
        try:
            yield from z
        except (OSError, EOFError) as e:
            raise ConfigError(f"the backup is damaged or cut: {e}") from e


def _require_empty(conn: Connection) -> None:
    """A restore never overwrites or mixes with what a database holds."""
    for table in tables():
        if conn.scalar(sa.select(sa.func.count()).select_from(table)):
            raise StorageFailure(
                db.describe(), f"table {table.name} is not empty: restore into a new database"
            )


def _load(
    conn: Connection, lines: Iterator[bytes], progress: Progress | None
) -> tuple[Summary, Header]:
    header = _header(conn, next(lines, b""))
    by_name = {table.name: table for table in tables()}
    table: sa.Table | None = None
    columns: list[str] = []
    pending: list[dict[str, Any]] = []
    rows = count = 0
    for raw in lines:
        item = msgspec.json.decode(raw)
        if isinstance(item, list):
            if table is None:
                raise ConfigError("the backup has rows before any table")
            pending.append(dict(zip(columns, item, strict=True)))
            if len(pending) >= BATCH:
                conn.execute(table.insert(), _typed(table, pending))
                rows += len(pending)
                if progress:
                    progress(len(pending))
                pending = []
            continue
        if table is not None and pending:
            conn.execute(table.insert(), _typed(table, pending))
            rows += len(pending)
            pending = []
        if "end" in item:
            end = msgspec.convert(item, End)
            if end.rows != rows:
                raise ConfigError(f"the backup holds {rows:,} rows, its end says {end.rows:,}")
            return Summary(count, rows, header.events, header.head), header
        start = msgspec.convert(item, TableStart)
        if start.table not in by_name:
            raise ConfigError(f"the backup has a table this version does not: {start.table}")
        table, columns, count = by_name[start.table], start.columns, count + 1
    raise ConfigError("the backup is cut: no end marker")


def _header(conn: Connection, raw: bytes) -> Header:
    try:
        header = msgspec.json.decode(raw, type=Header)
    except msgspec.DecodeError as e:
        raise ConfigError(f"not a Keruen backup ({e})") from e
    if header.format != FORMAT or header.version != VERSION:
        raise ConfigError(f"not a Keruen backup of version {VERSION}")
    if header.revisions != revisions(conn):
        raise ConfigError(
            f"the backup is of schema {header.revisions}, this database of {revisions(conn)}: "
            "restore with the Keruen version that took it"
        )
    return header


def _typed(table: sa.Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON gives decimals as strings and bytes as base64: back to Decimal for the decimal
    columns, to bytes for the binary ones (a case's documents)."""
    decimals = [c.name for c in table.columns if isinstance(c.type, t.DecimalText | sa.Numeric)]
    binaries = [c.name for c in table.columns if isinstance(c.type, sa.LargeBinary)]
    if decimals or binaries:
        for row in rows:
            for name in decimals:
                if row.get(name) is not None:
                    row[name] = Decimal(row[name])
            for name in binaries:
                if isinstance(row.get(name), str):
                    row[name] = base64.b64decode(row[name], validate=True)
    return rows


def _serial(table: sa.Table) -> str | None:
    """The column of a table's own integer id that the database numbers, if it has one."""
    columns = list(table.primary_key.columns)
    if len(columns) != 1:
        return None
    column = columns[0]
    if column.autoincrement is True or (
        column.autoincrement == "auto" and isinstance(column.type, sa.Integer)
    ):
        return str(column.name)
    return None


def high_water(conn: Connection) -> dict[str, int]:
    """Per table, the largest id the database ever handed out, deleted rows' included."""
    if conn.dialect.name == "sqlite":
        known = conn.scalar(
            sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")
        )
        if not known:
            return {}
        rows = conn.execute(sa.text("SELECT name, seq FROM sqlite_sequence"))
        return {str(name): int(seq) for name, seq in rows if seq}
    marks = {}
    for table in tables():
        column = _serial(table)
        sequence = column and conn.scalar(
            sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column}
        )
        if sequence:
            last, called = conn.execute(
                sa.text(f"SELECT last_value, is_called FROM {sequence}")
            ).one()
            if (mark := int(last) if called else int(last) - 1) > 0:
                marks[str(table.name)] = mark
    return marks


def _advance_sequences(conn: Connection, marks: dict[str, int]) -> None:
    """Ids continue after the restored ones and after the source's high-water marks."""
    for table in tables():
        column = _serial(table)
        if column is None:
            continue
        name, mark = str(table.name), marks.get(str(table.name), 0)
        top = max(mark, conn.scalar(sa.select(sa.func.max(table.c[column]))) or 0)
        if conn.dialect.name == "postgresql":
            conn.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence(:t, :c), :v, false) "
                    "WHERE pg_get_serial_sequence(:t, :c) IS NOT NULL"
                ),
                {"t": name, "c": column, "v": top + 1},
            )
        elif table.dialect_options["sqlite"].get("autoincrement") and top:
            # AUTOINCREMENT keeps its mark in sqlite_sequence (the table's own rows set it
            # only to their largest id; a mark above it must be written)
            updated = conn.execute(
                sa.text("UPDATE sqlite_sequence SET seq = max(seq, :v) WHERE name = :t"),
                {"t": name, "v": top},
            )
            if not updated.rowcount:
                conn.execute(
                    sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :v)"),
                    {"t": name, "v": top},
                )


def verify_restored(eng: Engine) -> integrity.Report:
    with eng.connect() as conn:
        return integrity.verify(conn)


def open_out(path: Path) -> IO[bytes]:
    """A new backup file (never overwrites one)."""
    try:
        return path.open("xb")
    except FileExistsError:
        raise ConfigError(f"{path} exists: a backup never overwrites a file") from None
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror or e}") from e

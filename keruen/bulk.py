"""Bulk load: a backfill into a new SQLite ledger file, checked in full before it exists.

`ingest_bulk` judges every line exactly as `keruen.ingest.ingest_lines` does (the same
outcomes: accepted, duplicate, or a stored rejection with its reason), but into a temporary
file beside the target, with what only a file nobody else sees allows:

- no durability while loading (`synchronous=OFF`, the rollback journal in memory): a crash or
  a power cut can ruin the temporary file, never a ledger, since the ledger does not exist yet;
- the indexes the ingest itself never reads (events by type and time and by ref, links by
  output) built once at the end, sorted, instead of one random B-tree insert per event.

Then the whole file is checked: SQLite's `integrity_check` (every B-tree and index), and
`keruen.store.integrity.verify` (the hash chain, every indexed column, the projections
replayed through the rules, the rejections' chain), the two at once on the two cores. Only a
file that passes is made the ledger, atomically (a hard link that refuses an existing target,
then the temporary name removed); anything else removes the temporary file and raises. Never
for the API or a ledger in use: the target must not exist.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from keruen.errors import IntegrityFailure, StorageFailure
from keruen.ingest import Progress, Report, ingest_lines
from keruen.jurisdiction import Jurisdiction
from keruen.settings import get_settings, normalise_db_url
from keruen.store import db, integrity

# built after the load: the ingest reads none of them (it reads events by id, batches,
# balances and moves by their keys)
DEFERRED = ("ix_events_type_time", "ix_events_ref", "ix_links_output")


@dataclass(slots=True)
class BulkReport:
    """The ingest's outcomes, the check that passed, and where the time went."""

    report: Report
    checked: integrity.Report
    load_s: float
    index_s: float
    check_s: float


def ingest_bulk(
    lines: Iterable[bytes],
    target: str,
    source: str = "-",
    chunk_size: int | None = None,
    progress: Progress | None = None,
    jurisdiction: Jurisdiction | None = None,
    loaded: Callable[[], None] | None = None,
) -> BulkReport:
    """Ingest `lines` into the new SQLite ledger file `target` (a path or sqlite:/// URL),
    which must not exist; it appears only once the load is complete and checked. `loaded` is
    called once every line is in, before the indexes are built and the file checked."""
    path = _new_ledger_path(target)
    temporary = os.path.join(
        os.path.dirname(path), f".{os.path.basename(path)}.bulk-{os.getpid()}.tmp"
    )
    _remove_stale(path)
    _remove(temporary)
    # the two-process ingest's child reads the file while it is written: only WAL allows that
    journal = "WAL" if get_settings().ingest_split else "MEMORY"
    eng = db.new_engine(temporary, sync="off", journal=journal)
    try:
        db.migrate(eng)
        indexes = _drop_deferred(eng)
        start = time.perf_counter()
        report = ingest_lines(
            eng,
            lines,
            source=source,
            chunk_size=chunk_size,
            progress=progress,
            jurisdiction=jurisdiction,
        )
        if loaded is not None:
            loaded()
        load_end = time.perf_counter()
        with eng.begin() as conn:
            for sql in indexes:
                conn.exec_driver_sql(sql)
        indexed = time.perf_counter()
        checked = check(eng, temporary, journal)
        done = time.perf_counter()
        _finish(eng)
        eng.dispose()
        _publish(temporary, path)
    except BaseException:
        eng.dispose()
        _remove(temporary)
        raise
    return BulkReport(report, checked, load_end - start, indexed - load_end, done - indexed)


def _new_ledger_path(target: str) -> str:
    url = normalise_db_url(target)
    path = db.sqlite_path(url)
    if path is None:
        raise StorageFailure(db.describe(url), "a bulk load writes a new SQLite ledger file only")
    path = os.path.abspath(path)
    for name in (path, f"{path}-wal", f"{path}-journal"):
        if os.path.exists(name):
            raise StorageFailure(path, "exists; a bulk load only writes a new ledger file")
    if not os.path.isdir(os.path.dirname(path)):
        raise StorageFailure(path, "no such directory")
    return path


def _drop_deferred(eng: Engine) -> list[str]:
    """Drop the deferred indexes; their CREATE statements, as the migrations made them."""
    with eng.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN "
            f"({', '.join('?' * len(DEFERRED))})",
            DEFERRED,
        ).all()
        for name, _ in rows:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [sql for _, sql in rows]


def check(eng: Engine, path: str, journal: str) -> integrity.Report:
    """SQLite's integrity check and `keruen verify`'s, on the whole file `path` that `eng`
    writes; raises `IntegrityFailure` naming the first problems if either finds one.

    The two run at once: SQLite's check on a read-only connection of its own, in a thread (it
    runs in C, without the GIL), beside verify's replay in this one."""
    reader = db.new_engine(path, sync="off", readonly=True, journal=journal)
    try:
        with ThreadPoolExecutor(1) as pool:
            sqlite_check = pool.submit(_integrity_check, reader)
            try:
                with eng.connect() as conn:
                    report = integrity.verify(conn)
                    conn.rollback()
            except Exception:
                _raise_if_damaged(sqlite_check.result())  # what a damaged file makes verify do
                raise
            _raise_if_damaged(sqlite_check.result())
    finally:
        reader.dispose()
    if not report.ok:
        raise IntegrityFailure(
            "the loaded ledger does not verify: " + "; ".join(str(p) for p in report.problems[:5])
        )
    return report


def _integrity_check(eng: Engine) -> list[str]:
    with eng.connect() as conn:
        conn.exec_driver_sql("PRAGMA cache_size=-16384")  # reads each page once: 16 MB will do
        found = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check").all()]
        conn.rollback()
    return found


def _raise_if_damaged(found: list[str]) -> None:
    if found != ["ok"]:
        raise IntegrityFailure(f"SQLite integrity check: {'; '.join(found[:5])}")


def _finish(eng: Engine) -> None:
    """The file as a ledger made by `keruen ingest` is: write-ahead log, durable on disk."""
    raw = eng.raw_connection()  # outside any transaction: journal modes change only there
    try:
        driver = raw.driver_connection
        assert driver is not None
        driver.execute("PRAGMA journal_mode=WAL").fetchall()
    finally:
        raw.close()


def _publish(temporary: str, path: str) -> None:
    """Make the checked file the ledger: on disk first, then under its name, atomically and
    never over an existing file (a link fails if the target appeared meanwhile)."""
    wal = f"{temporary}-wal"
    if os.path.exists(wal) and os.path.getsize(wal) > 0:  # not all in the file: not published
        raise StorageFailure(path, "the loaded file's write-ahead log was not checkpointed")
    for name in (wal, f"{temporary}-shm"):
        with suppress(FileNotFoundError):
            os.unlink(name)
    with open(temporary, "rb") as f:
        os.fsync(f.fileno())
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise StorageFailure(path, "appeared during the bulk load; left as it was") from None
    os.unlink(temporary)
    directory = os.open(os.path.dirname(path), os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _remove_stale(path: str) -> None:
    """Temporary files of bulk loads into `path` whose process is gone (killed mid-load)."""
    prefix = f".{os.path.basename(path)}.bulk-"
    for name in os.listdir(os.path.dirname(path)):
        pid = name.removeprefix(prefix).removesuffix(".tmp")
        if name.startswith(prefix) and name.endswith(".tmp") and pid.isdigit():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                _remove(os.path.join(os.path.dirname(path), name))
            except PermissionError:  # another user's live process
                continue


def _remove(path: str) -> None:
    for name in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        with suppress(FileNotFoundError):
            os.unlink(name)


__all__ = ["DEFERRED", "BulkReport", "check", "ingest_bulk"]

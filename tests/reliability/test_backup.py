"""Backup and restore: a backup taken while ingest writes is one consistent snapshot, restores
into a new database of either kind, and verifies there (chains, projections, head)."""

from __future__ import annotations

import gzip
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keruen.bench.streams import StreamGen
from keruen.errors import ConfigError, StorageFailure
from keruen.ingest import ingest_lines
from keruen.store import backup, db, integrity
from tests.conftest import BACKENDS, fresh_engine
from tests.factory import import_, line
from tests.reliability.test_errors import run

EVENTS, CHUNK = 6_000, 300


def _count(eng: Engine) -> int:
    with eng.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM events")).scalar() or 0)


def _backup_during_ingest(eng: Engine) -> tuple[bytes, int]:
    """A backup taken while another thread ingests chunk after chunk: (backup, events then)."""
    lines = list(StreamGen(seed=5).events(EVENTS))
    writer = threading.Thread(
        target=ingest_lines, args=(eng, lines), kwargs={"chunk_size": CHUNK, "parallel": False}
    )
    writer.start()
    while _count(eng) < 2 * CHUNK:
        time.sleep(0.01)
    out = io.BytesIO()
    summary = backup.backup(eng, out)
    writer.join()
    assert 0 < summary.events <= EVENTS
    return out.getvalue(), summary.events


@pytest.fixture(params=BACKENDS)
def other(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A new, empty database to restore into, of each kind."""
    yield from fresh_engine(request.param)


def test_a_backup_taken_during_ingest_restores_and_verifies(engine: Engine, other: Engine) -> None:
    data, events = _backup_during_ingest(engine)
    summary = backup.restore(other, io.BytesIO(data))
    assert summary.events == events == _count(other)  # the snapshot: no chunk half in
    assert _count(engine) == EVENTS  # the writer went on meanwhile
    with other.connect() as conn:
        report = integrity.verify(conn, [summary.head])
    assert report.ok, [str(p) for p in report.problems]
    assert (report.events.count, report.events.last) == (events, summary.head[0])
    with engine.connect() as conn:  # the source's event at that seq has the same hash
        assert integrity.verify(conn, [summary.head]).ok


def test_a_restored_ledger_takes_new_events(engine: Engine, other: Engine) -> None:
    ingest_lines(engine, [line(import_("i1", "55301/010324/0000001/001"))])
    out = io.BytesIO()
    backup.backup(engine, out)
    backup.restore(other, io.BytesIO(out.getvalue()))
    report = ingest_lines(other, [line(import_("i2", "55301/020324/0000002/001")), b"{bad"])
    assert (report.accepted, report.rejected) == (1, 1)  # ids and chains continue
    with other.connect() as conn:
        assert integrity.verify(conn).ok


def test_restore_refuses_a_database_that_holds_anything(sqlite_engine: Engine) -> None:
    ingest_lines(sqlite_engine, [line(import_("i1", "55301/010324/0000001/001"))])
    out = io.BytesIO()
    backup.backup(sqlite_engine, out)
    with pytest.raises(StorageFailure, match="not empty"):
        backup.restore(sqlite_engine, io.BytesIO(out.getvalue()))


def test_a_cut_backup_is_refused_and_nothing_is_restored(sqlite_engine: Engine) -> None:
    ingest_lines(sqlite_engine, [line(import_("i1", "55301/010324/0000001/001"))])
    out = io.BytesIO()
    backup.backup(sqlite_engine, out)
    text = gzip.decompress(out.getvalue()).splitlines(keepends=True)
    cut = gzip.compress(b"".join(text[:-1]))  # no end marker
    with db.scratch() as target:
        with pytest.raises(ConfigError, match="cut"):
            backup.restore(target, io.BytesIO(cut))
        assert _count(target) == 0


def test_cli_backup_and_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, copy, file = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "a.backup"
    events = tmp_path / "e.jsonl"
    events.write_bytes(line(import_("i1", "55301/010324/0000001/001")) + b"\n")
    assert run(["ingest", str(events), "--db", str(source)], capsys)[0] == 0
    assert run(["backup", str(file), "--db", str(source)], capsys)[0] == 0
    code, err = run(["backup", str(file), "--db", str(source)], capsys)
    assert code == 1 and "never overwrites" in err
    assert run(["restore", str(file), "--db", str(copy)], capsys)[0] == 0
    code, err = run(["restore", str(file), "--db", str(copy)], capsys)
    assert code == 1 and "not empty" in err


def test_ids_deleted_before_a_backup_are_never_reused_after_its_restore(
    engine: Engine, other: Engine
) -> None:
    """A removed user's id (which its old keys named) stays retired across backup and restore,
    from either database into either: the high-water marks travel with the backup."""
    from keruen.api import accounts

    with engine.begin() as conn:
        for name in ("root", "olga", "ivan", "petr"):
            accounts.add_user(conn, name, "admin" if name == "root" else "officer")
        for name in ("ivan", "petr"):  # the newest two: the largest ids left are below them
            accounts.remove_user(conn, name)
        highest = conn.scalar(sa.text("SELECT max(id) FROM users"))
        assert highest == 2
    out = io.BytesIO()
    backup.backup(engine, out)
    backup.restore(other, io.BytesIO(out.getvalue()))
    with other.begin() as conn:
        accounts.add_user(conn, "new", "officer")
        new_id = conn.scalar(sa.text("SELECT id FROM users WHERE name = 'new'"))
    assert new_id == 5  # never 3 or 4, the removed users' ids

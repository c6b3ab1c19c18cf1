"""The bulk load (keruen.bulk): the same ledger as the normal ingest, made only when complete
and checked, never over an existing file, and nothing left as a ledger after a failure or a
kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keruen import bulk
from keruen.bench.streams import StreamGen
from keruen.errors import IntegrityFailure, StorageFailure
from keruen.ingest import ingest_lines
from keruen.store import db, integrity
from tests.ledger.test_split import TABLES, ledger, mixed


def _schema(eng: Any) -> list[tuple[str, str]]:
    """The indexes (tables' CHECK constraints come out of the migrations in any order)."""
    with eng.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "ORDER BY name"
        ).all()
    return [(name, sql) for name, sql in rows]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    chunk=st.sampled_from([7, 100, 997]),
    dup=st.floats(0, 0.1),
    bad=st.floats(0, 0.1),
    conflict=st.floats(0, 0.05),
    cancel=st.floats(0, 0.05),
)
def test_bulk_and_normal_ingest_make_the_same_ledger(
    seed: int, chunk: int, dup: float, bad: float, conflict: float, cancel: float
) -> None:
    lines = mixed(seed, 500, dup, bad, conflict, cancel)
    with db.scratch() as normal:
        expected = ingest_lines(normal, lines, source="s", chunk_size=chunk)
        want, schema = ledger(normal), _schema(normal)
    with db.scratch() as scratch:  # a directory of its own, removed afterwards
        target = str(Path(str(scratch.url).split("///", 1)[1]).with_name("bulk.db"))
        result = bulk.ingest_bulk(lines, target, source="s", chunk_size=chunk)
        made = db.new_engine(target)
        try:
            got = ledger(made)
            assert _schema(made) == schema  # the deferred indexes as the migrations make them
            with made.connect() as conn:
                mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        finally:
            made.dispose()
    assert result.report.public() == expected.public()
    for name in TABLES:  # event hashes and chain head, moves, balances, batches, rejections
        assert got[name] == want[name], name
    assert result.checked.ok and result.checked.events.count == expected.accepted
    assert mode == "wal"


def test_an_existing_file_or_another_database_is_refused(tmp_path: Path) -> None:
    lines = list(StreamGen(seed=1).events(20))
    used = tmp_path / "used.db"
    used.write_bytes(b"")
    for target in (str(used), "postgresql://127.0.0.1:5432/test", str(tmp_path / "no/x.db")):
        with pytest.raises(StorageFailure):
            bulk.ingest_bulk(lines, target)
    assert used.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["used.db"]


def test_a_failed_check_leaves_no_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = integrity.verify

    def finds_a_problem(conn: Any, *args: Any, **kwargs: Any) -> integrity.Report:
        report = real(conn, *args, **kwargs)
        report.add("balances", "holder/batch A/X", "altered")
        return report

    monkeypatch.setattr(bulk.integrity, "verify", finds_a_problem)
    with pytest.raises(IntegrityFailure, match="altered"):
        bulk.ingest_bulk(list(StreamGen(seed=1).events(50)), str(tmp_path / "l.db"))
    assert list(tmp_path.iterdir()) == []


def test_kill_9_during_a_bulk_load_leaves_no_ledger(tmp_path: Path) -> None:
    stream = tmp_path / "stream.jsonl"
    stream.write_bytes(b"".join(line + b"\n" for line in StreamGen(seed=4).events(30_000)))
    target = tmp_path / "ledger.db"
    cmd = [sys.executable, "-c", "from keruen.cli import main; main()", "ingest", str(stream)]
    proc = subprocess.Popen(
        [*cmd, "--bulk", "--db", str(target)],
        env={**os.environ, "KERUEN_CHUNK": "1000"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(tmp_path.glob(".ledger.db.bulk-*.tmp")):
        time.sleep(0.02)
    time.sleep(0.5)  # well into the load
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not target.exists()
    assert any(tmp_path.glob(".ledger.db.bulk-*.tmp"))  # the killed load's, never the ledger
    done = subprocess.run([*cmd, "--bulk", "--db", str(target), "--json"], capture_output=True)
    assert done.returncode == 0, done.stderr
    again = subprocess.run([*cmd, "--bulk", "--db", str(target)], capture_output=True, text=True)
    assert again.returncode == 1 and "exists" in again.stdout + again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.db", "stream.jsonl"]
    eng = db.new_engine(str(target))
    try:
        with eng.connect() as conn:
            report = integrity.verify(conn)
        assert report.ok and report.events.count == 30_000
    finally:
        eng.dispose()

"""The CLI contract other parts and users rely on, run as a user would (a real subprocess)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import factory as f
from tests.conftest import BACKENDS, PG_URL
from tests.ledger.test_store import B1, STORY


def keruen(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "keruen", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def ledger(tmp_path: Path) -> tuple[Path, Path]:
    events = tmp_path / "events.jsonl"
    bad = f.line(f.transfer("bad", B1, f.A, f.B, "1000"))
    events.write_bytes(b"\n".join([*f.lines(*STORY), b"{oops", bad]) + b"\n")
    return events, tmp_path / "k.db"


def test_ingest_json_report_and_rejects_file(ledger: tuple[Path, Path], tmp_path: Path) -> None:
    events, dbfile = ledger
    rejects = tmp_path / "rejects.jsonl"
    run = keruen("ingest", str(events), "--db", str(dbfile), "--json", "--rejects", str(rejects))
    assert run.returncode == 3, run.stderr  # lines were rejected
    report = json.loads(run.stdout)
    assert (report["accepted"], report["rejected"], report["duplicates"]) == (len(STORY), 2, 0)
    assert [r["line"] for r in report["rejections"]] == [len(STORY) + 1, len(STORY) + 2]
    assert report["rejections"][1]["id"] == "bad"
    assert "holds" in report["rejections"][1]["reason"]
    assert rejects.read_bytes().splitlines()[0] == b"{oops"
    again = json.loads(
        keruen("ingest", "-", "--db", str(dbfile), "--json", stdin=events.read_bytes()).stdout
    )
    assert (again["accepted"], again["duplicates"]) == (0, len(STORY))


def test_stock_trace_history_and_verify(ledger: tuple[Path, Path]) -> None:
    events, dbfile = ledger
    keruen("ingest", str(events), "--db", str(dbfile))
    stock = json.loads(keruen("stock", f.D, "--db", str(dbfile), "--json").stdout)
    assert stock == [{"batch": "P-1", "hs": "847150", "quantity": "1", "unit": "PCE"}]
    back = json.loads(keruen("trace", "P-1", "--back", "--db", str(dbfile), "--json").stdout)
    assert back["origins"][0]["batch"] == B1
    text = keruen("trace", B1, "--forward", "--db", str(dbfile)).stdout.decode()
    assert "ООО Ромашка" in text and "write_off 20" in text
    hist = json.loads(keruen("history", B1, "--db", str(dbfile), "--json").stdout)
    assert len(hist["events"]) == 5
    ok = keruen("verify", "--db", str(dbfile))
    assert ok.returncode == 0 and b"intact" in ok.stdout
    with sqlite3.connect(dbfile) as conn:
        conn.execute(
            "UPDATE events SET canonical = replace(canonical, '\"60\"', '\"61\"') WHERE id = 't1'"
        )
    broken = keruen("verify", "--db", str(dbfile))
    assert broken.returncode == 1
    assert b"t1" in broken.stderr and b"Traceback" not in broken.stderr


def test_user_mistakes_get_a_message_not_a_traceback(tmp_path: Path) -> None:
    dbfile = str(tmp_path / "k.db")
    for args in (
        ["ingest", "nope.jsonl", "--db", dbfile],
        ["trace", "X", "--back", "--db", dbfile],
        ["trace", "X", "--db", dbfile],
        ["history", "X", "--db", dbfile],
    ):
        run = keruen(*args)
        assert run.returncode != 0
        assert b"Traceback" not in run.stderr and run.stderr.strip(), args


@pytest.mark.parametrize("backend", BACKENDS)
def test_bench_ingest_and_trace_print_their_figures(backend: str) -> None:
    db_args = ["--db", PG_URL] if backend == "postgresql" and PG_URL else []
    run = keruen("bench", "ingest", "--events", "3000", "--chunk", "1000", "--json", *db_args)
    assert run.returncode == 0, run.stderr
    r = json.loads(run.stdout)
    assert (r["accepted"], r["rejected"], r["stored"]) == (3000, 0, 3000)
    # the ratio is printed to 3 decimals: within half a unit of the last
    assert r["ratio"] == pytest.approx(r["events_per_s"] / r["raw_events_per_s"], abs=5e-4)
    assert 0 < r["events_per_s"] < r["stored_rows_events_per_s"]
    assert 0 < r["peak_rss_mb"] <= r["peak_rss_mb_with_baselines"]  # the ingest's, then all
    run = keruen("bench", "trace", "--events", "3000", "--samples", "50", "--json", *db_args)
    assert run.returncode == 0, run.stderr
    r = json.loads(run.stdout)
    assert (r["events"], r["samples"]) == (3000, 50)
    assert 0 < r["back_p50_ms"] <= r["back_p99_ms"]
    assert 0 < r["forward_p50_ms"] <= r["forward_p99_ms"]


def test_bench_trace_times_an_existing_ledger_without_writing_to_it(tmp_path: Path) -> None:
    """A large ledger is built once and timed many times (`--ledger`); a missing file is
    refused, never created."""
    ledger = tmp_path / "built.db"
    built = keruen("bench", "trace", "--events", "2000", "--samples", "10", "--db", str(ledger))
    assert built.returncode == 0, built.stderr
    before = hashlib.sha256(ledger.read_bytes()).hexdigest()
    run = keruen("bench", "trace", "--ledger", str(ledger), "--samples", "40", "--json")
    assert run.returncode == 0, run.stderr
    r = json.loads(run.stdout)
    assert (r["events"], r["samples"]) == (2000, 40) and r["batches"] > 0
    assert 0 < r["back_p50_ms"] <= r["back_p99_ms"]
    assert hashlib.sha256(ledger.read_bytes()).hexdigest() == before
    missing = keruen("bench", "trace", "--ledger", str(tmp_path / "none.db"))
    assert missing.returncode != 0 and b"no such file" in missing.stderr
    assert not (tmp_path / "none.db").exists()


@pytest.mark.skipif(PG_URL is None, reason="needs PostgreSQL")
def test_bench_ingest_keeps_a_postgresql_ledger_that_trace_times() -> None:
    """At 10 M events a ledger is built once (`bench ingest --keep`) and its traces timed
    after (`bench trace --ledger URL`); a schema without a ledger is refused."""
    assert PG_URL is not None
    run = keruen("bench", "ingest", "--events", "2000", "--db", PG_URL, "--keep", "--json")
    assert run.returncode == 0, run.stderr
    url = json.loads(run.stdout)["ledger"]
    schema = url.rsplit("search_path%3D", 1)[1]
    try:
        traced = keruen("bench", "trace", "--ledger", url, "--samples", "30", "--json")
        assert traced.returncode == 0, traced.stderr
        r = json.loads(traced.stdout)
        assert (r["events"], r["samples"]) == (2000, 30) and r["batches"] > 0
        assert 0 < r["back_p50_ms"] <= r["back_p99_ms"]
        empty = url.replace(schema, "pg_catalog")
        refused = keruen("bench", "trace", "--ledger", empty, "--samples", "3")
        assert refused.returncode != 0 and b"no ledger" in refused.stderr
        assert b"Traceback" not in refused.stderr
    finally:
        eng = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with eng.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        eng.dispose()
    sqlite_keep = keruen("bench", "ingest", "--events", "10", "--keep")
    assert sqlite_keep.returncode != 0 and b"--keep" in sqlite_keep.stderr


def test_a_progress_bar_on_a_terminal_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ingest forks its second process only from a single-threaded process: a bar's
    refresh thread kept `keruen ingest` on one core whenever it ran on a terminal."""
    import threading

    from keruen import console

    monkeypatch.setattr(console.err, "_force_terminal", True)
    assert console.err.is_terminal
    before = set(threading.enumerate())  # other tests in this process may have left theirs
    with console.progress("ingest", 10) as advance:
        advance(5)
        assert set(threading.enumerate()) == before

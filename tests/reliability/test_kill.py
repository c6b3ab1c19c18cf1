"""kill -9 during ingest and during API load, on SQLite and PostgreSQL (loopback only, bounded
counts): nothing acknowledged is lost, nothing is doubled, and the recovered ledger is the
clean one, head hash included. What every recovery does is what a user does: run the same
ingest again, submit the same events again."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keruen.bench.api import free_port, make_key, single_events
from keruen.bench.streams import StreamGen
from keruen.ingest import ingest_lines
from keruen.store import db, integrity
from keruen.store.ledger import head
from tests.conftest import BACKENDS, ledger_with_url

EVENTS, CHUNK, KILLS = 4_000, 200, 3
API_EVENTS, API_KILL_AFTER = 120, 40


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """A new ledger and the URL a subprocess reaches it by."""
    yield from ledger_with_url(request.param, tmp_path)


def _count(eng: Engine) -> int:
    with eng.connect() as conn:
        return int(conn.scalar(sa.text("SELECT count(*) FROM events")) or 0)


def _distinct(eng: Engine) -> int:
    with eng.connect() as conn:
        return int(conn.scalar(sa.text("SELECT count(DISTINCT id) FROM events")) or 0)


def _events_now(eng: Engine, url: str) -> int:
    """The event count, read without the writer's lock (SQLite: a plain WAL reader)."""
    return _events_now_at(url) if eng.dialect.name == "sqlite" else _count(eng)


def _events_now_at(path: str) -> int:
    """The events in the SQLite file `path`, read as a plain WAL reader; 0 before the
    migrations have made the table."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


KERUEN = [sys.executable, "-c", "from keruen.cli import main; main()"]  # the `keruen` command


def _keruen(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*KERUEN, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


@pytest.mark.parametrize("split", ["0", "1"])
def test_kill_9_during_ingest_loses_and_doubles_nothing(
    target: tuple[Engine, str], tmp_path: Path, split: str
) -> None:
    """With the parse process and with the two-process split (`keruen.split`)."""
    eng, url = target
    stream = tmp_path / "stream.jsonl"
    stream.write_bytes(b"".join(line + b"\n" for line in StreamGen(seed=7).events(EVENTS)))
    with db.scratch() as clean:  # the ledger an ingest nobody killed makes
        with stream.open("rb") as f:
            expected = ingest_lines(clean, f, source=str(stream), chunk_size=CHUNK)
        with clean.connect() as conn:
            clean_head = head(conn)
    env = {"KERUEN_CHUNK": str(CHUNK), "KERUEN_INGEST_SPLIT": split}
    argv = ("ingest", str(stream), "--db", url, "--allow-rejects", "--json")
    kills = 0
    for k in range(1, KILLS + 1):
        proc = _keruen(*argv, env=env)
        while proc.poll() is None and _events_now(eng, url) < k * EVENTS // (KILLS + 1):
            time.sleep(0.02)
        if proc.poll() is None:
            kills += 1
        _kill(proc)
    final = _keruen(*argv, env=env)
    assert final.wait(timeout=600) == 0, final.stderr.read() if final.stderr else ""
    assert kills == KILLS  # each kill hit a running ingest
    assert _count(eng) == _distinct(eng) == expected.accepted  # 0 lost, 0 doubled
    with eng.connect() as conn:
        assert head(conn) == clean_head
        report = integrity.verify(conn)
        rejections = conn.scalar(sa.text("SELECT count(*) FROM rejections"))
    assert report.ok, [str(p) for p in report.problems[:5]]
    assert rejections == expected.rejected  # logged once, however many runs saw them


@pytest.mark.parametrize("split", ["0", "1"])
def test_ctrl_c_during_ingest_says_what_stays(tmp_path: Path, split: str) -> None:
    """Ctrl-C at a terminal (SIGINT to the whole process group: the ingest and its helper
    processes): exit 130, one line saying how many lines are in the ledger, and the ledger is
    exactly what ingesting that many lines makes; the same command again finishes the file."""
    lines = [line + b"\n" for line in StreamGen(seed=11).events(20 * EVENTS)]
    stream, url = tmp_path / "stream.jsonl", str(tmp_path / "ledger.db")
    stream.write_bytes(b"".join(lines))
    env = {**os.environ, "KERUEN_CHUNK": str(CHUNK), "KERUEN_INGEST_SPLIT": split}
    argv = ("ingest", str(stream), "--db", url, "--allow-rejects", "--json")
    cmd = [*KERUEN, *argv]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True
    )
    while proc.poll() is None and (not os.path.exists(url) or _events_now_at(url) < EVENTS):
        time.sleep(0.02)
    assert proc.poll() is None, "the ingest ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    out, errors = proc.communicate(timeout=120)
    assert proc.returncode == 130, errors.decode()
    said = json.loads(out)
    assert said["interrupted"] is True
    committed = said["lines_committed"]
    assert EVENTS <= committed < len(lines)
    assert b"Traceback" not in errors
    assert f"interrupted: the first {committed:,} lines are in the ledger".encode() in errors
    eng = db.new_engine(url)
    with db.scratch() as first, db.scratch() as whole:  # what the lines alone make
        ingest_lines(first, iter(lines[:committed]), source=str(stream), chunk_size=CHUNK)
        ingest_lines(whole, iter(lines), source=str(stream), chunk_size=CHUNK)
        with eng.connect() as conn, first.connect() as a, whole.connect() as b:
            assert head(conn) == head(a)
            whole_head = head(b)
    again = subprocess.run(cmd, capture_output=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr.decode()
    with eng.connect() as conn:
        assert head(conn) == whole_head
        assert integrity.verify(conn).ok
    eng.dispose()


def test_ctrl_c_during_a_bulk_load_leaves_no_ledger(tmp_path: Path) -> None:
    """A bulk load interrupted: exit 130, saying no ledger was made; neither the ledger nor
    its temporary file is left."""
    stream, url = tmp_path / "stream.jsonl", tmp_path / "new.db"
    stream.write_bytes(b"".join(line + b"\n" for line in StreamGen(seed=12).events(20 * EVENTS)))
    env = {**os.environ, "KERUEN_CHUNK": str(CHUNK)}
    cmd = [*KERUEN, "ingest", str(stream), "--bulk", "--db", str(url)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True
    )
    temporary = tmp_path / f".new.db.bulk-{proc.pid}.tmp"
    while proc.poll() is None and (
        not temporary.exists() or _events_now_at(str(temporary)) < EVENTS
    ):
        time.sleep(0.02)
    assert proc.poll() is None, "the load ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    _, errors = proc.communicate(timeout=120)
    assert proc.returncode == 130, errors.decode()
    assert b"interrupted: no ledger was made" in errors
    assert b"Traceback" not in errors
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stream.jsonl"]


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {"KERUEN_SECRET": "kill-test-" + "x" * 40}
    args = ("serve", "--db", url, "--host", "127.0.0.1", "--port", str(port))
    proc = _keruen(*args, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    _kill(proc)
    raise RuntimeError("the server did not become ready")


def _submit(base: str, key: str, bodies: list[bytes]) -> set[int]:
    """Submit from 4 clients at once; the indexes of the submissions acknowledged (2xx)."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def one(i: int) -> int | None:
        try:
            r = httpx.post(f"{base}/v1/events", content=bodies[i], headers=headers, timeout=30)
        except httpx.HTTPError:
            return None
        return i if r.status_code in (200, 201) else None

    with ThreadPoolExecutor(4) as pool:
        return {i for i in pool.map(one, range(len(bodies))) if i is not None}


def test_kill_9_of_the_api_under_load_loses_no_acknowledged_event(
    target: tuple[Engine, str],
) -> None:
    eng, url = target
    key = make_key(url)
    bodies = single_events(API_EVENTS, seed=11)
    port = free_port()
    server = _serve(url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with ThreadPoolExecutor(1) as load:
            acked = load.submit(_submit, base, key, bodies)
            while _events_now(eng, url) < API_KILL_AFTER and not acked.done():
                time.sleep(0.01)
            _kill(server)  # mid-load: requests in flight fail, unacknowledged
            first = acked.result()
        assert 0 < len(first) < API_EVENTS
        with eng.connect() as conn:
            stored = set(conn.scalars(sa.text("SELECT id FROM events")))
        lost = {json.loads(bodies[i])["id"] for i in first} - stored
        assert lost == set()  # every acknowledged event survived the kill
        server = _serve(url, port)
        again = _submit(base, key, bodies)  # the client retries everything
    finally:
        if server.poll() is None:
            server.terminate()
        server.wait(timeout=60)
    assert again == set(range(API_EVENTS))  # all accepted now, or duplicates of stored ones
    assert _count(eng) == _distinct(eng) == API_EVENTS  # 0 lost, 0 doubled
    with eng.connect() as conn:
        report = integrity.verify(conn)
    assert report.ok, [str(p) for p in report.problems[:5]]

"""The two-process ingest (keruen.split) gives the sequential path's answers: the same reports,
chain, balances, moves, batches, links, cancellations and rejections, on mixed streams at
several chunk sizes; with another writer between chunks; when its judging child dies; and its
child dies with a killed ingest. On SQLite and on PostgreSQL (`tests.conftest.BACKENDS`)."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from keruen import split
from keruen.bench.streams import StreamGen
from keruen.ingest import Report, ingest_lines
from keruen.settings import get_settings
from keruen.store import db, integrity
from tests import factory as f
from tests.conftest import BACKENDS, PG_URL, ledger_with_url

TABLES = {
    "events": "seq, id, type, time_us, key, ref, canonical, digest, prev_hash, hash",
    "moves": "*",
    "balances": "*",
    "batches": "*",
    "links": "*",
    "cancellations": "*",
    "rejections": "source, line, event_id, error, field, reason, raw, digest",
}


def mixed(seed: int, n: int, dup: float, bad: float, conflict: float, cancel: float) -> list[bytes]:
    """A stream of the bench's events with duplicates, malformed and blank lines, reused ids
    with other content, and cancels of earlier events (some refused: stock moved on)."""
    rng = random.Random(seed)
    base = list(StreamGen(seed=seed, holders=50, live=200).events(n))
    out: list[bytes] = []
    for i, line in enumerate(base):
        out.append(line)
        r = rng.random()
        if r < dup:
            out.append(rng.choice(out))
        elif r < dup + bad:
            out.append(
                rng.choice([b"{not json", b'{"type": "teleport", "id": "z"}', b"   ", b"[]"])
            )
        elif r < dup + bad + conflict:
            event = json.loads(rng.choice(base[: i + 1]))
            event["note"] = f"other content {i}"
            out.append(json.dumps(event).encode())
        elif r < dup + bad + conflict + cancel:
            target = json.loads(rng.choice(base[: i + 1]))["id"]
            out.append(
                f.line(f.cancel(f"c-{i}", target, day=28) | {"time": "2026-01-01T00:00:00Z"})
            )
    return out


def ledger(eng: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with eng.connect() as conn:
        assert integrity.verify(conn).ok
        return {
            name: [
                tuple(r) for r in conn.exec_driver_sql(f"SELECT {cols} FROM {name} ORDER BY 1, 2")
            ]
            for name, cols in TABLES.items()
        }


def both(
    backend: str,
    lines: list[bytes],
    chunk: int,
    between: Callable[[Engine, int], None] | None = None,
    before: bool = False,
) -> tuple[tuple[Report, dict[str, Any]], tuple[Report, dict[str, Any]]]:
    """The same lines ingested the sequential way and the split way; `between(engine, n)`
    runs after each chunk (another writer, a kill), with `before` also as `n = 0` first."""
    out = []
    for parallel in (False, True):
        with db.scratch(PG_URL if backend == "postgresql" else None) as eng:
            done = [0]
            if before and between is not None:
                between(eng, 0)

            def progress(n: int, eng: Engine = eng, done: list[int] = done) -> None:
                done[0] += 1
                if between is not None:
                    between(eng, done[0])

            report = ingest_lines(
                eng, lines, source="s", chunk_size=chunk, progress=progress, parallel=parallel
            )
            out.append((report, ledger(eng)))
    return out[0], out[1]


def same(a: tuple[Report, dict[str, Any]], b: tuple[Report, dict[str, Any]]) -> None:
    (ra, la), (rb, lb) = a, b
    assert rb.public() == ra.public()
    for name in TABLES:
        assert lb[name] == la[name], name


@pytest.fixture(autouse=True)
def _split_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KERUEN_INGEST_SPLIT", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("backend", "setting", "splits"),
    [(b, s, s != "0") for b in BACKENDS for s in ("", "1", "0")],
)
def test_the_split_path_is_the_one_taken(
    monkeypatch: pytest.MonkeyPatch, backend: str, setting: str, splits: bool
) -> None:
    """The split is the default on both databases, for a SQLite file since the twelfth sitting
    (1.5-1.6x the sequential path at 1 M); KERUEN_INGEST_SPLIT=0 keeps the sequential path.
    Same answers either way (the property below)."""
    monkeypatch.setenv("KERUEN_INGEST_SPLIT", setting)
    get_settings.cache_clear()
    runs: list[int] = []
    real = split.run

    def spy(*args: Any, **kwargs: Any) -> None:
        runs.append(1)
        real(*args, **kwargs)

    monkeypatch.setattr(split, "run", spy)
    with db.scratch(PG_URL if backend == "postgresql" else None) as eng:
        assert backend == "postgresql" or db.sqlite_path(str(eng.url)) is not None
        report = ingest_lines(
            eng, list(StreamGen(seed=1).events(300)), chunk_size=50, parallel=True
        )
    assert runs == ([1] if splits else []) and report.accepted == 300


@pytest.mark.parametrize(
    ("value", "on"),
    [("", True), ("1", True), ("yes", True), ("0", False), (" OFF ", False), ("No", False)],
)
def test_the_switches_are_on_unless_turned_off(
    monkeypatch: pytest.MonkeyPatch, value: str, on: bool
) -> None:
    for name in ("KERUEN_INGEST_SPLIT", "KERUEN_NATIVE"):
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    assert (get_settings().ingest_split, get_settings().native) == (on, on)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    chunk=st.sampled_from([3, 50, 997]),
    dup=st.floats(0, 0.1),
    bad=st.floats(0, 0.1),
    conflict=st.floats(0, 0.05),
    cancel=st.floats(0, 0.05),
)
def test_split_gives_the_sequential_answers(
    backend: str, seed: int, chunk: int, dup: float, bad: float, conflict: float, cancel: float
) -> None:
    lines = mixed(seed, 600 if chunk > 3 else 150, dup, bad, conflict, cancel)
    seq, par = both(backend, lines, chunk)
    same(seq, par)
    assert seq[0].accepted > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_adjust_knows_what_chunks_in_flight_moved(backend: str) -> None:
    """A chunk in flight (judged, not yet committed) hands what it moved on to a later chunk's
    adjusts alone (`_InFlight.held`): a holder who received a batch there and passed it on may
    still adjust it; one who never held it may not; as the sequential way says, at chunks of
    two lines (each adjust two chunks after the receipt)."""
    batch = "55501/010324/0000001/001"
    lines = f.lines(
        f.import_("i", batch, f.A, "10", day=1),
        f.transfer("t1", batch, f.A, f.B, "10", day=2),
        f.transfer("t2", batch, f.B, f.C, "10", day=3),
        f.adjust("a-held", batch, f.B, "1", day=4),
        f.adjust("a-never", batch, f.D, "1", day=5),
        f.adjust("a-taken", batch, f.C, "-10", day=6),
    )
    seq, par = both(backend, lines, 2)
    same(seq, par)
    assert seq[0].accepted == 5 and seq[0].rejected == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_carried_state_dropped_at_its_limit_is_read_again(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `CARRY_LIMIT` batches and balances the child starts a state with none carried (no
    longer whole) but for what its chunks in flight changed: at a limit a few chunks' worth,
    dropped again and again over the stream, the sequential answers."""
    from keruen.ledger import overlay

    monkeypatch.setattr(overlay, "CARRY_LIMIT", 120)
    lines = mixed(11, 1_500, 0.03, 0.02, 0.02, 0.03)
    seq, par = both(backend, lines, 40)
    same(seq, par)
    assert seq[0].accepted > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_ledger_holding_stock_is_read_not_assumed(backend: str) -> None:
    """The child skips the lookups of batches and balances only on a state read from a ledger
    with none (`Overlay.whole`) or for the batches made on it (`made`): ingested into a
    ledger that holds the first half of a stream, the second half (moving the first half's
    batches) gives the sequential answers."""
    lines = mixed(5, 1_200, 0.03, 0.02, 0.02, 0.03)

    def first_half(eng: Engine, n: int) -> None:
        if n == 0:
            ingest_lines(eng, lines[:600], source="first", parallel=False)

    seq, par = both(backend, lines[600:], 50, first_half, before=True)
    same(seq, par)
    assert seq[0].accepted > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_ids_used_before_are_found_without_a_redo(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over an empty ledger the child looks up only the ids its filter of accepted ids may
    hold (`Overlay.seen`): duplicates and reused ids of events committed chunks before are
    still found by the child, never by the database refusing a chunk (a redo)."""
    real, fallbacks = split.run, []

    def spy(eng: Engine, parts: Any, source: str, fallback: Any, *rest: Any, **kw: Any) -> None:
        def counted(part: Any) -> None:
            fallbacks.append(len(part))
            fallback(part)

        real(eng, parts, source, counted, *rest, **kw)

    monkeypatch.setattr(split, "run", spy)
    lines = mixed(3, 1_500, 0.05, 0.0, 0.05, 0.02)
    seq, par = both(backend, lines, 100)
    same(seq, par)
    assert seq[0].duplicates > 0 and fallbacks == []


def test_a_state_is_whole_only_over_a_ledger_without_stock() -> None:
    from keruen.store import ledger as store

    with db.scratch() as eng:
        with eng.connect() as conn:
            empty = store.state_at(conn)
            assert empty.whole and empty.seen is not None
        ingest_lines(eng, f.lines(f.import_("i", "55501/010324/0000001/001", f.A, "5")))
        with eng.connect() as conn:
            assert not store.state_at(conn).whole and store.state_at(conn).seen is None


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgresql"])
def test_a_judging_thread_leaves_the_collecting_to_the_writer(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heap is the process's: with the judge a thread (PostgreSQL), the young generations
    are collected by the writer's collector alone, not by a second one in the thread."""
    noted: set[str] = set()
    real = split.YoungCollector.note

    def note(self: split.YoungCollector, lines: int) -> None:
        noted.add(threading.current_thread().name)
        real(self, lines)

    monkeypatch.setattr(split.YoungCollector, "note", note)
    with db.scratch(PG_URL) as eng:
        report = ingest_lines(
            eng, list(StreamGen(seed=1).events(300)), chunk_size=50, parallel=True
        )
    assert report.accepted == 300
    assert noted == {threading.main_thread().name}


def _other_writer(every: int) -> Callable[[Engine, int], None]:
    """Another writer: after every `every`-th chunk, an import and a transfer of its own."""

    def write(eng: Engine, n: int) -> None:
        if n % every:
            return
        batch = f"55501/0103{n % 100:02d}/{n:07d}/001"
        # a connection of its own from the pool (a PostgreSQL scratch schema is named in the
        # engine's connect arguments, not in its URL)
        ingest_lines(
            eng,
            f.lines(
                f.import_(f"o-{n}", batch, f.A, "5"),
                f.transfer(f"ot-{n}", batch, f.A, f.B, "5"),
            ),
            source="other",
            parallel=False,
        )

    return write


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("every", [3, 1])
def test_another_writer_between_chunks(backend: str, every: int) -> None:
    """Every third chunk: the child starts over each time; every chunk: past MAX_REDO restarts
    the rest goes the sequential way. The rules see the other writer's events either way."""
    lines = mixed(11, 1_500, 0.05, 0.02, 0.01, 0.02)
    seq, par = both(backend, lines, 100, _other_writer(every))
    same(seq, par)
    assert any(r[1].startswith("o-") for r in par[1]["events"])


def test_the_child_ends_when_the_chunks_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """The judging child exits of itself once the parent has closed its end of the pipe: the
    fork had copied that end into the child, which then never saw the chunks end, and the
    parent killed it after a 5 s wait at the end of every ingest."""
    real, exits = split._Child.close, []

    def close(self: Any) -> None:
        real(self)
        exits.append(self.process.exitcode)

    monkeypatch.setattr(split._Child, "close", close)
    lines = mixed(7, 600, 0.03, 0.02, 0.01, 0.02)
    seq, par = both("sqlite", lines, 100)
    same(seq, par)
    assert exits == [0]  # not -SIGKILL


def test_the_child_dying_leaves_the_rest_to_the_sequential_way() -> None:
    """SQLite: the judge is a forked child (on PostgreSQL a thread, below), beside the parse
    process."""

    killed: list[int] = []

    def kill_child(eng: Engine, n: int) -> None:
        if n == 3:
            for judge in multiprocessing.active_children():
                if judge.name == split.JUDGE_NAME:
                    os.kill(judge.pid or 0, signal.SIGKILL)
                    killed.append(judge.pid or 0)

    lines = mixed(5, 2_000, 0.03, 0.02, 0.01, 0.02)
    seq, par = both("sqlite", lines, 150, kill_child)
    same(seq, par)
    assert len(killed) == 1  # the split's judge, not the parse process


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_judge_failing_leaves_the_rest_to_the_sequential_way(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The judge (a child or a thread) fails on its fourth chunk: the rest goes sequentially."""
    real, calls = split._judge_chunk, [0]

    def failing(*args: Any) -> Any:
        calls[0] += 1
        if calls[0] == 4:
            raise RuntimeError("a bug in the judge")
        return real(*args)

    monkeypatch.setattr(split, "_judge_chunk", failing)
    lines = mixed(6, 2_000, 0.03, 0.02, 0.01, 0.02)
    seq, par = both(backend, lines, 150)
    same(seq, par)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_killed_ingest_takes_its_child_with_it(tmp_path: Path, backend: str) -> None:
    stream = tmp_path / "stream.jsonl"
    stream.write_bytes(b"".join(line + b"\n" for line in StreamGen(seed=2).events(40_000)))
    with _victim(backend, tmp_path) as (eng, url):
        cmd = [sys.executable, "-c", "from keruen.cli import main; main()", "ingest", str(stream)]
        proc = subprocess.Popen(
            [*cmd, "--db", url],
            env={**os.environ, "KERUEN_CHUNK": "500", "KERUEN_INGEST_SPLIT": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _helpers_of(proc.pid):
            time.sleep(0.05)
        helpers = _helpers_of(proc.pid)
        assert helpers, "the ingest forked no helper"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in helpers):
            time.sleep(0.05)
        assert not any(_alive(p) for p in helpers)
        final = subprocess.run([*cmd, "--db", url, "--json"], capture_output=True)
        assert final.returncode == 0, final.stderr
        with db.scratch() as clean:
            expected = ingest_lines(clean, stream.open("rb"), chunk_size=500)
            assert ledger(eng)["events"] == ledger(clean)["events"]
        assert expected.accepted == 40_000


_victim = contextmanager(ledger_with_url)


def _helpers_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"

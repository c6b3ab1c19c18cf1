"""Automatic checkpoints: `keruen ingest` and the API sign the heads without an operator, every
N lines or T seconds after a commit, with a key the database does not hold; a truncation made
after one — consistent enough that `keruen verify` alone passes — is found with them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from keruen.api import accounts, create_app
from keruen.bench.api import single_events
from keruen.errors import ConfigError
from keruen.settings import get_settings
from keruen.store import checkpoint, db, integrity
from tests.api.conftest import SETTINGS
from tests.reliability.test_errors import run, run_out

SECRET = b"an automatic checkpoint key, not in the database"


@pytest.fixture
def keyed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings with a checkpoint key (a file) and automatic checkpoints every 200 lines; the
    checkpoint file they go to."""
    key = tmp_path / "checkpoint.key"
    key.write_bytes(SECRET)
    cps = tmp_path / "auto.jsonl"
    monkeypatch.setenv("KERUEN_CHECKPOINT_KEY_FILE", str(key))
    monkeypatch.setenv("KERUEN_CHECKPOINT_FILE", str(cps))
    monkeypatch.setenv("KERUEN_CHECKPOINT_EVERY", "200")
    monkeypatch.setenv("KERUEN_CHUNK", "100")
    get_settings.cache_clear()
    yield cps
    get_settings.cache_clear()


def truncate_after(eng: Engine, seq: int) -> None:
    """Drop every event after `seq` and everything they made (independent imports: their
    moves, batches and balances), so that the projections still match the events left and
    the chain still links: only a head held outside the database shows the loss."""
    with eng.begin() as conn:
        gone = "(SELECT id FROM events WHERE seq > :s)"
        made = f"(SELECT batch FROM batches WHERE event_id IN {gone})"
        conn.execute(sa.text(f"DELETE FROM balances WHERE batch IN {made}"), {"s": seq})
        conn.execute(sa.text(f"DELETE FROM batches WHERE event_id IN {gone}"), {"s": seq})
        conn.execute(sa.text("DELETE FROM moves WHERE event_seq > :s"), {"s": seq})
        conn.execute(sa.text("DELETE FROM events WHERE seq > :s"), {"s": seq})


def test_ingest_signs_heads_on_its_own_and_verify_finds_a_later_truncation(
    keyed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = tmp_path / "events.jsonl"
    stream.write_bytes(b"".join(b + b"\n" for b in single_events(700, seed=4)))
    ledger = tmp_path / "k.db"
    assert run(["ingest", str(stream), "--db", str(ledger)], capsys)[0] == 0
    taken = checkpoint.read(keyed)
    # every 200 lines (chunks of 100) and at the end: 200, 400, 600, 700
    assert [cp.events.last for cp in taken] == [200, 400, 600, 700]
    code, out, _ = run_out(
        ["verify", "--db", str(ledger), "--json", "--checkpoints", str(keyed)], capsys
    )
    assert code == 0 and json.loads(out)["ok"]
    eng = db.new_engine(str(ledger))
    truncate_after(eng, 650)  # after the third checkpoint, before the last
    with eng.connect() as conn:
        assert integrity.verify(conn).ok  # consistent: verify alone cannot tell
    eng.dispose()
    code, out, _ = run_out(
        ["verify", "--db", str(ledger), "--json", "--checkpoints", str(keyed)], capsys
    )
    problems = json.loads(out)["problems"]
    assert code == 1 and len(problems) == 1, problems
    assert "seq 700" in json.dumps(problems) and "checkpoint #4" in json.dumps(problems)


def test_the_api_signs_heads_on_its_own(keyed: Path, engine: Engine) -> None:
    with engine.begin() as conn:
        accounts.add_user(conn, "olga", "officer")
        key = accounts.create_key(conn, "olga").key
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    bodies = single_events(450, seed=5)
    with TestClient(create_app(engine, SETTINGS)) as client:
        for i in range(0, len(bodies), 50):  # batches of 50: a checkpoint every 4 requests
            batch = b"[" + b",".join(bodies[i : i + 50]) + b"]"
            assert client.post("/v1/events", content=batch, headers=headers).json()["accepted"]
    taken = checkpoint.read(keyed)
    assert [cp.events.last for cp in taken] == [200, 400, 450]  # the last when it stopped
    assert taken[-1].audit.last == 9  # one entry per request
    truncate_after(engine, 420)
    with engine.connect() as conn:
        report = integrity.verify(conn)
        assert report.ok
        checkpoint.check(conn, report, taken, SECRET)
    assert [p.where for p in report.problems] == ["seq 450"]


def test_every_t_seconds_only_when_something_moved(sqlite_engine: Engine, tmp_path: Path) -> None:
    now = [0.0]
    path = tmp_path / "t.jsonl"
    auto = checkpoint.Auto(
        sqlite_engine, SECRET, path, every=0, interval_s=60, clock=lambda: now[0]
    )
    assert auto.note(1) is None  # not yet 60 s
    now[0] = 61
    assert auto.note(1) is not None  # 60 s and lines written
    now[0] = 200
    assert auto.note(0) is None  # nothing written since
    assert auto.note(1) is None  # written, but the heads did not move: no new line
    assert len(checkpoint.read(path)) == 1


def test_a_failed_checkpoint_never_fails_the_writes(
    sqlite_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    auto = checkpoint.Auto(sqlite_engine, SECRET, tmp_path / "no" / "dir.jsonl", every=1)
    with caplog.at_level(logging.ERROR, "keruen.checkpoint"):
        assert auto.note(1) is None
    assert "automatic checkpoint failed" in caplog.text
    assert auto.pending == 1  # tried again at the next commit


def test_a_checkpoint_file_without_a_key_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, sqlite_engine: Engine, tmp_path: Path
) -> None:
    monkeypatch.delenv("KERUEN_CHECKPOINT_KEY_FILE", raising=False)
    monkeypatch.delenv("KERUEN_CHECKPOINT_KEY", raising=False)
    monkeypatch.setenv("KERUEN_CHECKPOINT_FILE", str(tmp_path / "c.jsonl"))
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError, match="no key signs the checkpoints"):
            checkpoint.Auto.from_settings(sqlite_engine)
        monkeypatch.delenv("KERUEN_CHECKPOINT_FILE")
        get_settings.cache_clear()
        assert checkpoint.Auto.from_settings(sqlite_engine) is None  # no key: off
    finally:
        get_settings.cache_clear()

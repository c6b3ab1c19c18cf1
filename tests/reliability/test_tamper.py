"""The tamper suite: each way of changing what officers read behind the ledger's back is
found by `keruen verify` (the chains, the indexed columns, the projections rebuilt from the
events) together with a signed checkpoint taken before the tampering (truncation and
consistent rewrites), on SQLite and PostgreSQL. A clean ledger verifies with no problem."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keruen.api.audit import AuditEntry
from keruen.api.audit import write as write_audit
from keruen.ingest import ingest_lines
from keruen.store import checkpoint, integrity
from keruen.store.chain import chain_hash
from tests.factory import A, B, C, cancel, dispatch, import_, line, transfer, transform
from tests.reliability.test_errors import run, run_out

B1, B2 = "55301/010324/0000001/001", "55301/020324/0000002/001"
SECRET = b"a checkpoint key the database never sees"
STORY = [
    import_("i1", B1),
    import_("i2", B2, holder=B),
    transfer("t1", B1, A, B, "5"),
    transfer("t2", B1, A, C, "7"),
    transform("x1", A, [(B1, "10")], "OUT1", "3"),
    cancel("c1", "t2"),
    dispatch("d1", B1, B, "1"),
    transfer("t3", B2, B, C, "2", day=6),
]
BAD = [b"{oops", b'{"type":[]}', line(transfer("t9", B1, A, B, "1000000"))]


def _build(eng: Engine) -> checkpoint.Checkpoint:
    report = ingest_lines(eng, [line(e) for e in STORY] + BAD, source="story.jsonl")
    assert (report.accepted, report.rejected) == (len(STORY), len(BAD)), report.public()
    with eng.begin() as conn:
        for n in range(3):
            write_audit(conn, [AuditEntry(None, "events.read", f"B{n}", "127.0.0.1")])
    with eng.connect() as conn:
        return checkpoint.take(conn, SECRET)


def _verify(eng: Engine, cp: checkpoint.Checkpoint) -> integrity.Report:
    with eng.connect() as conn:
        report = integrity.verify(conn)
        checkpoint.check(conn, report, [cp], SECRET)
    return report


@pytest.fixture
def ledger(engine: Engine) -> Iterator[tuple[Engine, checkpoint.Checkpoint]]:
    yield engine, _build(engine)


# --- tamperings -------------------------------------------------------------------------------

Tamper = Callable[[Connection], object]


def sql(*statements: str) -> Tamper:
    def apply(conn: Connection) -> None:
        for s in statements:
            conn.execute(sa.text(s))

    return apply


def _rechain(conn: Connection, first: int, edit: Callable[[dict[str, object]], None]) -> None:
    """Rewrite the event at `first` with `edit` and recompute every digest and hash after it:
    a consistent rewrite, which no chain finds without a head held elsewhere."""
    rows = conn.execute(
        sa.text("SELECT seq, canonical, prev_hash FROM events WHERE seq >= :s ORDER BY seq"),
        {"s": first},
    ).all()
    prev = rows[0].prev_hash
    for row in rows:
        canonical = row.canonical
        if row.seq == first:
            event = json.loads(canonical)
            edit(event)
            canonical = json.dumps(event, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        prev_new = chain_hash(prev, digest)
        conn.execute(
            sa.text(
                "UPDATE events SET canonical = :c, digest = :d, prev_hash = :p, hash = :h "
                "WHERE seq = :s"
            ),
            {"c": canonical, "d": digest, "p": prev, "h": prev_new, "s": row.seq},
        )
        prev = prev_new


def consistent_rewrite(conn: Connection) -> None:
    _rechain(conn, 3, lambda e: e["value"].update(amount="1"))  # a price no projection holds


def _append(conn: Connection, event: dict[str, object], with_moves: bool) -> None:
    seq, prev = conn.execute(sa.text("SELECT seq, hash FROM events ORDER BY seq DESC")).first()
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    conn.execute(
        sa.text(
            "INSERT INTO events (seq, id, type, time_us, key, canonical, digest, prev_hash, "
            "hash, received_us) VALUES (:s, :i, :t, 1709528400000000, :k, :c, :d, :p, :h, 1)"
        ),
        {
            "s": seq + 1,
            "i": event["id"],
            "t": event["type"],
            "k": event["batch"],
            "c": canonical,
            "d": digest,
            "p": prev,
            "h": chain_hash(prev, digest),
        },
    )
    if with_moves:
        conn.execute(
            sa.text(
                "INSERT INTO moves (event_seq, n, batch, source, target, quantity, kind, "
                f"time_us, event_id) VALUES ({seq + 1}, 0, '{B1}', '{A}', '{B}', '1000000', "
                f"'transfer', 1709528400000000, '{event['id']}')"
            )
        )


def forged_transfer(conn: Connection) -> None:
    """An event that the rules refuse, appended with a valid chain and its moves."""
    _append(conn, transfer("f1", B1, A, B, "1000000", day=4), with_moves=True)


def forged_import(conn: Connection) -> None:
    """A valid-looking import appended with a valid chain, without its projections."""
    _append(conn, import_("f2", "55301/030324/0000009/001"), with_moves=False)


def _first_hash(conn: Connection, table: str) -> str:
    return str(conn.execute(sa.text(f"SELECT hash FROM {table} ORDER BY id")).scalar())


def forged_rejection(conn: Connection) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO rejections (received_us, source, line, event_id, error, field, reason, "
            "raw, digest, hash) VALUES (1, 'x', 1, NULL, 'InvalidEvent', '', 'bad', 'x', :d, :h)"
        ),
        {"d": "0" * 64, "h": _first_hash(conn, "rejections")},
    )


def forged_audit(conn: Connection) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO audit_log (at_us, user_id, actor, role, action, subject, outcome, "
            "client, detail, hash) VALUES (1, NULL, 'x', 'none', 'a', 's', 'ok', 'c', NULL, :h)"
        ),
        {"h": _first_hash(conn, "audit_log")},
    )


NEWEST = "(SELECT max(seq) FROM events)"
TAMPERINGS: dict[str, Tamper] = {
    "drop the newest event": sql(
        f"DELETE FROM moves WHERE event_seq = {NEWEST}", f"DELETE FROM events WHERE seq = {NEWEST}"
    ),
    "drop the newest events and their projections": sql(
        "DELETE FROM moves WHERE event_seq >= 7",
        "DELETE FROM events WHERE seq >= 7",
        f"UPDATE balances SET quantity = '4' WHERE holder = '{B}' AND batch = '{B1}'",
    ),
    "drop all events and projections": sql(
        *(f"DELETE FROM {t}" for t in ("moves", "links", "cancellations", "balances")),
        "DELETE FROM batches",
        "DELETE FROM events",
    ),
    "drop an event in the middle": sql("DELETE FROM events WHERE seq = 3"),
    "consistent chain rewrite": consistent_rewrite,
    "forged append refused by the rules": forged_transfer,
    "forged append without projections": forged_import,
    "event content": sql("UPDATE events SET canonical = replace(canonical, '\"5\"', '\"50\"')"),
    "event content and digest": sql(
        "UPDATE events SET canonical = replace(canonical, 'processors', 'toys'), "
        "digest = '" + "1" * 64 + "' WHERE seq = 1"
    ),
    "event hash": sql("UPDATE events SET hash = '" + "2" * 64 + "' WHERE seq = 2"),
    "event prev_hash": sql("UPDATE events SET prev_hash = '" + "3" * 64 + "' WHERE seq = 4"),
    "column id": sql("UPDATE events SET id = 'other' WHERE seq = 3"),
    "column type": sql("UPDATE events SET type = 'seal_ping' WHERE seq = 3"),
    "column time_us": sql("UPDATE events SET time_us = time_us + 86400000000 WHERE seq = 3"),
    "column key": sql(f"UPDATE events SET key = '{B2}' WHERE seq = 3"),
    "column ref": sql(f"UPDATE events SET ref = '{B2}' WHERE seq = 3"),
    "UPDATE moves quantity": sql("UPDATE moves SET quantity = '50' WHERE event_seq = 3"),
    "UPDATE moves target": sql(f"UPDATE moves SET target = '{C}' WHERE event_seq = 3"),
    "UPDATE moves event_id": sql("UPDATE moves SET event_id = 'other' WHERE event_seq = 3"),
    "DELETE FROM moves": sql("DELETE FROM moves WHERE event_seq = 3"),
    "INSERT INTO moves": sql(
        f"INSERT INTO moves VALUES (3, 9, '{B1}', NULL, '{C}', '5', 'adjust', 1, "
        "(SELECT id FROM events WHERE seq = 3))"
    ),
    "INSERT INTO balances": sql(f"INSERT INTO balances VALUES ('{C}', 'OUT1', '40')"),
    "UPDATE balances": sql(f"UPDATE balances SET quantity = '999' WHERE holder = '{A}'"),
    "DELETE FROM balances": sql(f"DELETE FROM balances WHERE holder = '{B}'"),
    "UPDATE batches SET origin": sql("UPDATE batches SET origin = 'KZ'"),
    "DELETE FROM batches": sql("DELETE FROM batches WHERE batch = 'OUT1'"),
    "INSERT INTO batches": sql(
        "INSERT INTO batches VALUES ('FAKE', '854231', 'PCE', 'x', 'CN', 1, 'i1')"
    ),
    "INSERT INTO links": sql(f"INSERT INTO links VALUES ('{B2}', 'OUT1', 5)"),
    "DELETE FROM links": sql("DELETE FROM links"),
    "INSERT INTO cancellations": sql("INSERT INTO cancellations VALUES ('t1', 'c1')"),
    "DELETE FROM cancellations": sql("DELETE FROM cancellations"),
    "UPDATE rejections reason": sql("UPDATE rejections SET reason = 'fine' WHERE line = 10"),
    "DELETE a rejection": sql("DELETE FROM rejections WHERE line = 10"),
    "DELETE the newest rejection": sql(
        "DELETE FROM rejections WHERE id = (SELECT max(id) FROM rejections)"
    ),
    "INSERT INTO rejections": forged_rejection,
    "UPDATE audit_log outcome": sql("UPDATE audit_log SET outcome = 'denied' WHERE subject = 'B1'"),
    "DELETE an audit entry": sql("DELETE FROM audit_log WHERE subject = 'B1'"),
    "DELETE the newest audit entry": sql(
        "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)"
    ),
    "INSERT INTO audit_log": forged_audit,
}


def test_a_clean_ledger_verifies(ledger: tuple[Engine, checkpoint.Checkpoint]) -> None:
    eng, cp = ledger
    report = _verify(eng, cp)
    assert report.ok, [str(p) for p in report.problems]
    assert (report.events.count, report.rejections.count, report.audit.count) == (8, 3, 3)


def test_at_least_the_28_tamperings_of_the_issue() -> None:
    assert len(TAMPERINGS) >= 28


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_tampering_is_detected(name: str, ledger: tuple[Engine, checkpoint.Checkpoint]) -> None:
    eng, cp = ledger
    with eng.begin() as conn:
        TAMPERINGS[name](conn)
    report = _verify(eng, cp)
    assert not report.ok, name


def test_a_forged_checkpoint_is_refused(ledger: tuple[Engine, checkpoint.Checkpoint]) -> None:
    eng, cp = ledger
    forged = checkpoint.Checkpoint(
        at_us=cp.at_us, events=cp.events, rejections=cp.rejections, audit=cp.audit, sig="0" * 64
    )
    with eng.connect() as conn:
        report = integrity.verify(conn)
        checkpoint.check(conn, report, [forged], SECRET)
    assert [p.table for p in report.problems] == ["checkpoints"]


def test_cli_verify_json_expect_and_checkpoints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from keruen.settings import get_settings

    db = tmp_path / "k.db"
    events = tmp_path / "e.jsonl"
    events.write_bytes(b"\n".join(line(e) for e in STORY) + b"\n")
    assert run(["ingest", str(events), "--db", str(db)], capsys)[0] == 0
    key = tmp_path / "checkpoint.key"
    key.write_bytes(SECRET)
    monkeypatch.setenv("KERUEN_CHECKPOINT_KEY_FILE", str(key))
    get_settings.cache_clear()
    cps = tmp_path / "cps.jsonl"
    assert run(["checkpoint", "--db", str(db), "--out", str(cps)], capsys)[0] == 0
    code, out, _ = run_out(["verify", "--db", str(db), "--json", "--checkpoints", str(cps)], capsys)
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["problems"] == []
    assert report["events"] == report["head"]["seq"] == len(STORY)
    with sqlite3.connect(db) as conn:
        seq, digest = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC").fetchone()
        conn.execute("DELETE FROM moves WHERE event_seq = ?", (seq,))
        conn.execute("DELETE FROM events WHERE seq = ?", (seq,))
    assert run(["verify", "--db", str(db), "--expect", f"{seq}:{digest}"], capsys)[0] == 1
    assert run(["verify", "--db", str(db), "--checkpoints", str(cps)], capsys)[0] == 1
    get_settings.cache_clear()

"""The ledger on a real database — the same contract on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keruen import ingest as ingest_module
from keruen.errors import NotFound
from keruen.ingest import ingest_lines
from keruen.store import db, queries
from keruen.store import ledger as store
from keruen.store import schema as t
from tests import factory as f
from tests.factory import A, B, C, D

B1 = "55501/010324/0000001/001"
B2 = "55501/010324/0000002/001"

STORY = [
    f.import_("imp1", B1, A, "100", day=1),
    f.import_("imp2", B2, A, "50", day=1, hs="854232"),
    f.transfer("t1", B1, A, B, "60", day=2),
    f.transfer("t2", B1, B, C, "60", day=3),
    f.transform("x1", C, [(B1, "40")], "P-1", "4", day=4),
    f.transfer("t3", "P-1", C, D, "4", day=5),
    f.dispatch("d1", "P-1", D, "3", day=6),
    f.write_off("w1", B1, C, "20", day=6),
    f.transit_open("tr1", "24KZ0001", day=2),
]


def ingest(engine: Engine, *events: dict[str, object], chunk: int = 1000) -> store.Rejection | None:
    report = ingest_lines(engine, f.lines(*events), chunk_size=chunk)
    return report.rejections[0] if report.rejections else None


def test_story_balances_history_and_traces(engine: Engine) -> None:
    report = ingest_lines(engine, f.lines(*STORY))
    assert (report.accepted, report.rejected) == (len(STORY), 0)
    with engine.connect() as conn:
        assert queries.public(queries.stock(conn, A))[0]["quantity"] == "40"
        assert [(r["batch"], r["quantity"]) for r in queries.public(queries.stock(conn, D))] == [
            ("P-1", "1")
        ]
        assert queries.public(queries.stock(conn, B)) == []
        hist = queries.public(queries.history(conn, B1))
        assert [e["id"] for e in hist["events"]] == ["imp1", "t1", "t2", "x1", "w1"]
        back = queries.public(queries.trace_back(conn, "P-1"))
        assert [o["batch"] for o in back["origins"]] == [B1]
        assert back["origins"][0]["seller"]["country"] == "CN"
        chain = [
            (h["from"], h["to"]) for n in back["batches"] if n["batch"] == B1 for h in n["holders"]
        ]
        assert chain == [(A, B), (B, C)]
        fwd = queries.public(queries.trace_forward(conn, B1))
        assert fwd["totals"] == {"held": "40", "transformed": "40", "write_off": "20"}
        p1 = next(n for n in fwd["batches"] if n["batch"] == "P-1")
        assert p1["exits"][0]["buyer"]["country"] == "RU"
        assert p1["held_by"] == [{"holder": D, "quantity": "1"}]


def test_unknown_batch_query_is_not_found(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(NotFound):
        queries.public(queries.trace_back(conn, "nope"))


def test_rejections_are_stored_with_raw_input_and_reason(engine: Engine) -> None:
    lines = [*f.lines(STORY[0]), b"{not json", f.line(f.transfer("bad", B1, A, B, "101"))]
    report = ingest_lines(engine, lines, source="upload.jsonl")
    assert (report.accepted, report.rejected) == (1, 2)
    assert [r.line for r in report.rejections] == [2, 3]
    with engine.connect() as conn:
        rows = queries.public(queries.rejections(conn))
    assert {r["error"] for r in rows} == {"InvalidEvent", "InsufficientStock"}
    stored = next(r for r in rows if r["error"] == "InsufficientStock")
    assert stored["event_id"] == "bad" and stored["field"] == "quantity"
    assert json.loads(stored["raw"])["quantity"] == "101"
    assert stored["source"] == "upload.jsonl"


def test_idempotency_duplicates_and_conflicts(engine: Engine) -> None:
    ingest(engine, STORY[0])
    again = ingest_lines(engine, f.lines(STORY[0], STORY[0] | {"quantity": "99"}))
    assert (again.accepted, again.duplicates, again.rejected) == (0, 1, 1)
    assert again.rejections[0].error.field == "id"
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(t.events)) == 1


def test_cancel_reverses_and_trace_ignores_cancelled(engine: Engine) -> None:
    assert ingest(engine, *STORY[:3], f.cancel("c1", "t1", day=4)) is None
    with engine.connect() as conn:
        assert queries.public(queries.stock(conn, A))[0]["quantity"] in ("100", "50")
        assert {r["batch"]: r["quantity"] for r in queries.public(queries.stock(conn, A))}[
            B1
        ] == "100"
        assert queries.public(queries.stock(conn, B)) == []
        hist = queries.public(queries.history(conn, B1))["events"]
        assert next(e for e in hist if e["id"] == "t1")["cancelled_by"] == "c1"
        assert queries.public(queries.trace_back(conn, B1))["batches"][0]["holders"] == []
    refused = ingest(engine, f.cancel("c2", "t1", day=5))
    assert refused is not None and "already cancelled" in refused.error.reason


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_chunking_never_changes_the_outcome(engine: Engine, chunk: int) -> None:
    events = [*STORY, f.transfer("late", B1, A, B, "41", day=7), f.cancel("c", "d1", day=8)]
    report = ingest_lines(engine, f.lines(*events), chunk_size=chunk)
    assert (report.accepted, report.rejected) == (len(events) - 1, 1)
    with engine.connect() as conn:
        assert {r["batch"]: r["quantity"] for r in queries.public(queries.stock(conn, D))} == {
            "P-1": "4"
        }
        assert [s for s in store.verify(conn) if isinstance(s, store.ChainBreak)] == []


def test_a_writer_between_chunks_is_seen_by_the_next_chunk(engine: Engine) -> None:
    """State carried from one chunk to the next must not hide another writer's events."""

    def stream() -> Iterator[bytes]:
        yield from f.lines(f.import_("imp1", B1, A, "100", day=1), f.transfer("t1", B1, A, B, "10"))
        # another writer moves A's remaining stock while this ingest is between chunks
        other = ingest_lines(engine, f.lines(f.transfer("other", B1, A, C, "90", day=2)))
        assert other.accepted == 1
        yield from f.lines(f.transfer("t2", B1, A, D, "50", day=3))

    report = ingest_lines(engine, stream(), chunk_size=2, parallel=False)
    assert (report.accepted, report.rejected) == (2, 1)
    assert report.rejections[0].event_id == "t2"
    assert "holds 0" in report.rejections[0].error.reason
    with engine.connect() as conn:
        assert queries.public(queries.stock(conn, A)) == []
        assert [s for s in store.verify(conn) if isinstance(s, store.ChainBreak)] == []


def test_parsing_in_a_second_process_changes_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the parse process (the split path, the default for a SQLite file, is tested in test_split)
    monkeypatch.setattr(ingest_module, "_may_split", lambda eng, parallel: False)
    forks: list[int] = []
    real = ingest_module._in_parse_process
    spy = lambda parts, job: forks.append(1) or real(parts, job)  # noqa: E731
    monkeypatch.setattr(ingest_module, "_in_parse_process", spy)
    events = f.lines(*STORY, f.transfer("late", B1, A, B, "41", day=7), STORY[2])
    stream = [*events[:3], b"", b"{not json", *events[3:], b'{"type": "import", "id": "x"}']
    here = ingest_lines(engine, stream, chunk_size=3, parallel=False)
    with db.scratch() as other:
        forked = ingest_lines(other, stream, chunk_size=3, parallel=True)
        with other.connect() as conn:
            chain = [
                (r.id, r.hash) for r in conn.execute(sa.select(t.events.c.id, t.events.c.hash))
            ]
    assert forks == [1]  # the forked path really ran
    assert forked.public() == here.public()
    assert (here.accepted, here.duplicates, here.rejected) == (len(STORY), 1, 3)
    assert [r["line"] for r in here.public()["rejections"]] == [5, 12, 14]
    with engine.connect() as conn:
        assert chain == [
            (r.id, r.hash) for r in conn.execute(sa.select(t.events.c.id, t.events.c.hash))
        ]


def test_verify_names_the_first_altered_event(engine: Engine) -> None:
    ingest(engine, *STORY)
    with engine.begin() as conn:
        c = t.events.c
        canonical = conn.scalar(sa.select(c.canonical).where(c.id == "t2"))
        conn.execute(
            t.events.update().where(c.id == "t2").values(canonical=canonical.replace('"60"', '"6"'))
        )
    with engine.connect() as conn:
        breaks = [s for s in store.verify(conn) if isinstance(s, store.ChainBreak)]
    assert [(b.event_id, b.seq) for b in breaks] == [("t2", 4)]


def test_verify_catches_a_rewritten_digest_and_a_deleted_event(engine: Engine) -> None:
    ingest(engine, *STORY)
    with engine.begin() as conn:
        conn.execute(t.events.update().where(t.events.c.id == "t1").values(digest="0" * 64))
    with engine.connect() as conn:
        assert [b.event_id for b in store.verify(conn) if isinstance(b, store.ChainBreak)] == ["t1"]
    with engine.begin() as conn:
        conn.execute(t.events.delete().where(t.events.c.id == "t1"))
    with engine.connect() as conn:
        found = [b for b in store.verify(conn) if isinstance(b, store.ChainBreak)]
    assert found[0].event_id == "t2" and "missing" in found[0].reason


def test_the_chain_cannot_fork(engine: Engine) -> None:
    """A second event extending the same predecessor claims the same seq: refused."""
    ingest(engine, STORY[0], STORY[1])
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.events).where(t.events.c.seq == 2)).one()._asdict()
    row |= {"id": "fork", "digest": "1" * 64, "hash": "2" * 64}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(t.events.insert().values(**row))


def test_migrations_match_the_tables(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def here(obj: object, _name: object, _type: object, _reflected: object, _to: object) -> bool:
        return t.on_dialect(obj, engine.dialect.name)  # an index only_on the other is absent

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": here})
        diff = compare_metadata(context, t.full_metadata())
    assert diff == []


def test_undecodable_bytes_are_kept_not_lost(engine: Engine) -> None:
    report = ingest_lines(engine, [b'{"id": "\xff\xfe"}'])
    assert report.rejected == 1
    with engine.connect() as conn:
        assert queries.public(queries.rejections(conn))[0]["raw"] == '{"id": "\\xff\\xfe"}'


def test_an_adjust_reads_past_holdings_from_storage(engine: Engine) -> None:
    ingest(engine, f.import_("imp1", B1, A, "10", day=1), f.transfer("t1", B1, A, B, "10", day=2))
    assert ingest(engine, f.adjust("a1", B1, A, "2", day=3)) is None  # A held it before
    refused = ingest(engine, f.adjust("a2", B1, C, "2", day=3))
    assert refused is not None and refused.error.field == "holder"
    assert "never held" in refused.error.reason


def test_an_adjust_after_passing_the_whole_batch_on_in_its_chunk(engine: Engine) -> None:
    """A holder with stock when its chunk is read, who passes all of it on in the chunk before
    adjusting it, still held it: the past holdings are read whatever the balance is then (the
    reading skipped holders with a balance, and the adjust was refused as from a stranger)."""
    ingest(engine, f.import_("imp1", B1, A, "10", day=1), f.transfer("t1", B1, A, B, "10", day=2))
    report = ingest_lines(
        engine,
        f.lines(f.transfer("t2", B1, B, C, "10", day=3), f.adjust("a1", B1, B, "1", day=4)),
    )
    assert (report.accepted, report.rejected) == (2, 0)


def test_an_event_dated_in_the_future_is_refused(engine: Engine) -> None:
    refused = ingest(engine, f.import_("imp1", B1, A, "10") | {"time": "2099-01-01T00:00:00Z"})
    assert refused is not None and refused.error.field == "time"
    assert "in the future" in refused.error.reason


def test_a_retry_in_another_offset_and_notation_is_a_duplicate(engine: Engine) -> None:
    first = f.import_("imp1", B1, A, "10") | {"time": "2024-03-01T04:00:00Z"}
    retry = first | {"time": "2024-03-01T10:00:00+06:00", "quantity": "10.000"}
    report = ingest_lines(engine, f.lines(first))
    again = ingest_lines(engine, f.lines(retry))
    assert (report.accepted, again.duplicates, again.rejected) == (1, 1, 0)


def test_every_migration_has_its_own_revision_id() -> None:
    """Two files with one revision id make alembic warn and skip one of them (seen twice)."""
    import ast
    from pathlib import Path

    import keruen.store

    ids: list[str] = []
    for path in sorted((Path(keruen.store.__file__).parent / "migrations/versions").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            target = node.targets[0] if isinstance(node, ast.Assign) else None
            if isinstance(target, ast.Name) and target.id == "revision":
                ids.append(ast.literal_eval(node.value))
    assert len(ids) >= 13 and len(ids) == len(set(ids)), sorted(ids)


def test_the_checkpointer_copies_committed_pages_into_the_file(tmp_path: object) -> None:
    """`db.Checkpointer` moves what the WAL holds into the database file (read here with
    `immutable=1`, which ignores the WAL), without the writer's own checkpoint."""
    import sqlite3
    from pathlib import Path

    path = str(Path(str(tmp_path)) / "wal.db")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (x)")
    writer.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1000)])

    def in_the_file() -> int:
        reader = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            return int(reader.execute("SELECT count(*) FROM t").fetchone()[0])
        except sqlite3.OperationalError:  # the table is not in the file yet
            return 0
        finally:
            reader.close()

    assert in_the_file() == 0
    checkpointer = db.Checkpointer(path)
    checkpointer.committed()
    checkpointer.close()
    assert in_the_file() == 1000
    writer.close()


def test_an_ingest_of_many_chunks_starts_a_checkpointer_on_sqlite_files(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the second commit on (a one-chunk ingest, as the API's, starts none); the
    ledger is the same as without it (the test above: what it does to the file)."""
    started: list[db.Checkpointer] = []
    original = db.Checkpointer.__init__

    def spy(self: db.Checkpointer, path: str) -> None:
        started.append(self)
        original(self, path)

    monkeypatch.setattr(db.Checkpointer, "__init__", spy)
    report = ingest_lines(engine, f.lines(*STORY), chunk_size=len(STORY))
    assert started == []
    report = ingest_lines(engine, f.lines(*STORY), chunk_size=2)
    assert report.duplicates == len(STORY)
    file_based = db.sqlite_path(str(engine.url)) is not None
    assert len(started) == (1 if file_based else 0)


def test_a_file_with_a_rollback_journal_gets_no_checkpoint_thread(tmp_path: object) -> None:
    """A bulk load writes its new file with a rollback journal: there is no WAL to copy, so
    `checkpointing` starts no thread for it (it asks the journal mode before starting one)."""
    import threading
    from pathlib import Path

    eng = db.new_engine(str(Path(str(tmp_path)) / "bulk.db"), sync="off", journal="DELETE")
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x)")

    def checkpoint_threads() -> int:
        return sum(t.name == "keruen-checkpoint" for t in threading.enumerate())

    with db.checkpointing(eng) as committed:
        for _ in range(3):
            committed()
            assert checkpoint_threads() == 0
    wal = db.new_engine(str(Path(str(tmp_path)) / "wal.db"))
    with wal.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x)")
    with db.checkpointing(wal) as committed:
        committed()
        committed()
        assert checkpoint_threads() == 1
    assert checkpoint_threads() == 0
    eng.dispose()
    wal.dispose()

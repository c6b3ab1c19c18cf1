"""The API's write engine leaves WAL checkpoints to the Checkpointer thread (SQLite files);
on PostgreSQL the reader is the engine itself, the writer its connections without the pool's
ping, and there are no checkpoints."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keruen.api import engines
from keruen.ingest import ingest_lines
from tests.factory import import_, line


def _pragma(eng: Engine, name: str) -> int:
    with eng.connect() as conn:
        return int(conn.exec_driver_sql(f"PRAGMA {name}").scalar_one())


def test_writer_commits_leave_checkpoints_to_the_checkpointer(sqlite_engine: Engine) -> None:
    write = engines.writer(sqlite_engine)
    try:
        assert write is not sqlite_engine
        assert _pragma(write, "wal_autocheckpoint") == engines.SAFETY_NET_PAGES
        assert _pragma(sqlite_engine, "wal_autocheckpoint") < engines.SAFETY_NET_PAGES
        events = [import_(f"e{i}", f"55501/010324/{i:07d}/001") for i in range(50)]
        report = ingest_lines(write, [line(e) for e in events], source="t")
        assert report.accepted == 50
        checkpointer = engines.Checkpointer(write, interval=3600)
        busy, frames, copied = checkpointer.checkpoint() or (-1, -1, -1)
        assert busy == 0 and frames > 0 and copied == frames
        checkpointer.start()
        assert checkpointer._thread is not None and checkpointer._thread.is_alive()
        ingest_lines(write, [line(import_("x1", "55501/010324/0000999/001"))], source="t")
        checkpointer.stop()  # stops the thread, then checkpoints what is left
        assert checkpointer._thread is None
        busy, frames, copied = checkpointer.checkpoint() or (-1, -1, -1)
        assert busy == 0 and copied == frames
        with sqlite_engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one() == 51
    finally:
        write.dispose()


def test_the_writer_finishing_a_long_wal_starts_it_over(sqlite_engine: Engine) -> None:
    write = engines.writer(sqlite_engine)
    checkpointer = engines.Checkpointer(write, interval=3600, restart_frames=20)
    try:
        lines = [line(import_(f"e{i}", f"55501/010324/{i:07d}/001")) for i in range(30)]
        for i in range(0, 30, 3):  # ten commits
            ingest_lines(write, lines[i : i + 3], source="t")
        assert not checkpointer.finish()  # not asked to: nothing happens
        before = checkpointer.checkpoint() or (-1, -1, -1)
        assert before[1] >= 20
        checkpointer.background_pass()
        assert checkpointer.finish() and not checkpointer.finish()  # once per request
        ingest_lines(write, [line(import_("x1", "55501/010324/0000999/001"))], source="t")
        after = checkpointer.checkpoint() or (-1, -1, -1)
        assert 0 < after[1] < before[1] / 3  # the WAL holds only the last commit
    finally:
        write.dispose()


def test_separate_engines_and_checkpoints_only_for_a_sqlite_file(engine: Engine) -> None:
    separate = engine.dialect.name == "sqlite"
    write, read = engines.writer(engine), engines.reader(engine)
    checkpointer = engines.Checkpointer(engine)
    checkpointer.start()
    try:
        assert (write is not engine, read is not engine) == (True, separate)
        assert (checkpointer._thread is not None) == separate
    finally:
        checkpointer.stop()
        for own in {write, read} - {engine}:
            own.dispose()


def test_the_postgresql_writer_survives_a_dropped_connection(pg_engine: Engine) -> None:
    """Without the pool's ping, a connection the server dropped fails the one group that used
    it (503: retry) and the next group gets a fresh connection."""
    engine = pg_engine
    from keruen.api.access import Principal, Role
    from keruen.api.audit import AuditEntry
    from keruen.api.errors import StorageUnavailable
    from keruen.api.writer import Job, Writer

    write = engines.writer(engine)
    writer = Writer(write)
    who = Principal(1, "olga", Role.officer, None, "k")

    def job(n: int) -> Job:
        event = import_(f"d{n}", f"55501/010324/{n:07d}/001")
        return Job(
            "api:user/1", [line(event)], [event["id"]], lambda _: [AuditEntry(who, "a", "s", "c")]
        )

    try:
        assert writer.submit(job(1)).result(60)[0].status == "accepted"
        with write.connect() as conn:  # the writer's one connection, back in its pool
            pid = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        with engine.connect() as admin:
            admin.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        with pytest.raises(StorageUnavailable):
            writer.submit(job(2)).result(60)
        assert writer.submit(job(2)).result(60)[0].status == "accepted"
    finally:
        writer.stop()
        write.dispose()

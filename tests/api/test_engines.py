"""The API's write engine leaves WAL checkpoints to the Checkpointer thread (SQLite files);
on PostgreSQL both are the engine itself / nothing."""

from __future__ import annotations

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
        assert (write is not engine, read is not engine) == (separate, separate)
        assert (checkpointer._thread is not None) == separate
    finally:
        checkpointer.stop()
        for own in {write, read} - {engine}:
            own.dispose()

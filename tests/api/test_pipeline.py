"""The writer's pipelined PostgreSQL connections (keruen.api.pipeline)."""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import wait

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keruen.api import engines, tables
from keruen.api.access import Principal, Role
from keruen.api.audit import AuditEntry
from keruen.api.pipeline import returns_no_rows
from keruen.api.writer import Job, Writer
from keruen.store import schema as t
from keruen.store.chain import AUDIT_COLUMNS, GENESIS, chain_hash, row_digest
from keruen.store.db import lock_writer
from tests.factory import import_, line

WHO = Principal(1, "olga", Role.officer, None, "k")

NO_ROWS = [
    ("INSERT INTO events (id) SELECT * FROM unnest(%s::text[])", True),
    ("insert into t (a) values (1) on conflict (a) do update set a = excluded.a", True),
    ("DELETE FROM balances AS t USING unnest(%s) AS k(b) WHERE t.b = k.b", True),
    ("WITH w0 AS (INSERT INTO a SELECT 1) DELETE FROM b USING (SELECT 1) s WHERE true", True),
    ("WITH RECURSIVE new AS (SELECT 1), chain(n) AS (SELECT 0) INSERT INTO x SELECT 1", True),
    ("SELECT pg_advisory_xact_lock(7411)", True),
    ("SELECT id FROM events", False),
    ("WITH w AS (INSERT INTO a SELECT 1 RETURNING id) SELECT id FROM w", False),
    ("INSERT INTO a (id) VALUES (1) RETURNING id", False),
    ("UPDATE a SET b = 'returning' WHERE (c) RETURNING b", False),
    ("UPDATE a SET b = 'x RETURNING y'", True),
    ('INSERT INTO "RETURNING" (a) VALUES (1)', True),
    ("WITH w AS (SELECT 1) SELECT * FROM w", False),
    ("SHOW search_path", False),
    ("COPY events FROM STDIN", False),
]


@pytest.mark.parametrize(("statement", "expected"), NO_ROWS)
def test_a_statement_is_sent_without_awaiting_its_rows_only_when_it_has_none(
    statement: str, expected: bool
) -> None:
    assert returns_no_rows(statement) is expected


def _job(n: int, source: str = "api:user/1") -> Job:
    event = import_(f"p{n}", f"55501/010324/{n:07d}/001")
    return Job(source, [line(event)], [event["id"]], lambda _: [AuditEntry(WHO, "a", "s", "c")])


def test_the_pipelined_writer_accepts_each_event_once_and_chains_the_audit_log(
    pg_engine: Engine,
) -> None:
    write = engines.writer(pg_engine)
    writer = Writer(write)
    jobs = [_job(n, f"api:user/{n % 3}") for n in range(60)]
    jobs.append(
        Job(
            "api:user/1",
            [line(import_("p0", "55501/010324/0000000/001")), b"{x"],
            ["p0", None],
            lambda _: [AuditEntry(WHO, "b", "s", "c")],
        )
    )
    try:
        futures = [writer.submit(job) for job in jobs]
        wait(futures, timeout=120)
    finally:
        writer.stop()
        write.dispose()
    assert [f.result()[0].status for f in futures[:60]] == ["accepted"] * 60
    assert [o.status for o in futures[60].result()] == ["duplicate", "rejected"]
    with pg_engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(t.events)) == 60
        rows = conn.execute(sa.select(tables.audit_log).order_by(tables.audit_log.c.id)).all()
    prev = GENESIS
    for row in rows:
        prev = chain_hash(prev, row_digest([getattr(row, c) for c in AUDIT_COLUMNS]))
        assert row.hash == prev
    assert len(rows) == 61


def test_a_statement_refused_in_the_pipeline_fails_its_transaction_only(
    pg_engine: Engine,
) -> None:
    """The refusal is raised (at the latest by the commit), nothing of the transaction is
    stored, its lock is released, and the next transaction on the same connection works."""
    write = engines.writer(pg_engine)
    insert = "INSERT INTO users (name, role, created_us) VALUES (%s, 'officer', 1)"
    try:
        with write.begin() as conn:
            conn.exec_driver_sql(insert, ("ada",))
        with pytest.raises(sa.exc.IntegrityError), write.begin() as conn:
            lock_writer(conn)
            conn.exec_driver_sql(insert, ("bob",))
            conn.exec_driver_sql(insert, ("ada",))  # the name is unique
        with pg_engine.begin() as other:  # the failed transaction holds the lock no more
            assert other.scalar(sa.text("SELECT pg_try_advisory_xact_lock(7411)")) is True
        with write.begin() as conn:
            conn.exec_driver_sql(insert, ("cy",))
            names = conn.scalars(sa.text("SELECT name FROM users ORDER BY name")).all()
        assert names == ["ada", "cy"]
    finally:
        write.dispose()


def test_a_single_event_group_waits_for_the_server_twice(pg_engine: Engine) -> None:
    """BEGIN, lock and read in one round trip; the write, audit insert and COMMIT in another
    (counted in libpq's trace of the connection: each wait is a Flush or a Sync)."""
    write = engines.writer(pg_engine)
    writer = Writer(write)
    try:
        assert writer.submit(_job(1)).result(60)[0].status == "accepted"  # warm
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "trace")
            with open(path, "w") as f:
                raw = write.raw_connection()
                raw.dbapi_connection.pgconn.trace(f.fileno())  # type: ignore[attr-defined]
                raw.close()
                assert writer.submit(_job(2)).result(60)[0].status == "accepted"
            with open(path) as f:
                sent = [m[3] for m in (ln.rstrip("\n").split("\t") for ln in f) if m[1:2] == ["F"]]
    finally:
        writer.stop()
        write.dispose()
    assert [m for m in sent if m in ("Flush", "Sync")] == ["Flush", "Sync"]

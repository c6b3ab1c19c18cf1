"""The API tables: migration 0004 matches the metadata; accounts and the writer on each backend."""

from __future__ import annotations

from concurrent.futures import wait

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from keruen.api import accounts, tables
from keruen.api.access import Principal, Role
from keruen.api.audit import AuditEntry
from keruen.api.errors import Conflict, Unauthorized
from keruen.api.writer import Job, Writer
from keruen.errors import RejectedEvent
from keruen.store import schema as t
from keruen.store.ledger import Rejection
from tests.factory import A, import_, line

API_TABLES = {"users", "api_keys", "audit_log"}


def test_migration_matches_metadata(engine: Engine) -> None:
    """Compare the migrated database with the API tables alone (types included)."""
    ours = sa.MetaData()
    for table in (tables.users, tables.api_keys, tables.audit_log):
        table.to_metadata(ours)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, ours)
    assert [d for d in diff if not _elsewhere(d)] == []


def _elsewhere(diff: object) -> bool:
    """A table or index of another area, absent from our metadata on purpose."""
    if not isinstance(diff, tuple) or diff[0] not in ("remove_table", "remove_index"):
        return False
    table = diff[1] if diff[0] == "remove_table" else diff[1].table
    return table.name not in API_TABLES


def test_schema_refuses_a_declarant_without_tax_id(engine: Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            tables.users.insert(),
            {"name": "x", "role": "declarant", "tax_id": None, "created_us": 1},
        )


def test_accounts(engine: Engine) -> None:
    with engine.begin() as conn:
        accounts.add_user(conn, "acme", "declarant", A)
        key = accounts.create_key(conn, "acme", "erp")
    with engine.connect() as conn:
        p = accounts.principal_by_key(conn, key.key)
        assert (p.name, p.role, p.tax_id, p.key_id) == ("acme", Role.declarant, A, key.key_id)
        stored = conn.execute(sa.select(tables.api_keys)).one()
        assert stored.digest != key.key and key.key not in str(tuple(stored))
    with pytest.raises(Conflict), engine.begin() as conn:
        accounts.add_user(conn, "acme", "officer")
    with engine.begin() as conn:
        accounts.revoke_key(conn, key.key_id)
    with pytest.raises(Unauthorized), engine.connect() as conn:
        accounts.principal_by_key(conn, key.key)


def test_writer_groups_concurrent_jobs_and_reports_each(engine: Engine) -> None:
    writer = Writer(engine, batch_limit=100)
    who = Principal(1, "olga", Role.officer, None, "k")
    events = [import_(f"e{i}", f"55501/010324/{i:07d}/001") for i in range(20)]
    jobs = [
        Job("api:user/1", [line(e)], [e["id"]], lambda outs: [AuditEntry(who, "a", "s", "c")])
        for e in events
    ]
    jobs.append(
        Job(
            "api:user/2",
            [line(events[0]), b"{oops"],
            ["e0", None],
            lambda outs: [AuditEntry(who, "b", "s", "c")],
        )
    )
    futures = [writer.submit(job) for job in jobs]
    wait(futures, timeout=60)
    writer.stop()
    assert [f.result()[0].status for f in futures[:20]] == ["accepted"] * 20
    assert [o.status for o in futures[20].result()] == ["duplicate", "rejected"]
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(t.events)) == 20
        assert conn.scalar(sa.select(t.rejections.c.source)) == "api:user/2"
        assert conn.scalar(sa.select(sa.func.count()).select_from(tables.audit_log)) == 21


def test_events_commit_with_their_audit_entry_or_not_at_all(engine: Engine) -> None:
    """The audit entry is written in the transaction of the events it records: when it cannot
    be written, the events are not stored either (and a crash cannot split them)."""
    writer = Writer(engine, batch_limit=100)
    who = Principal(1, "olga", Role.officer, None, "k")

    def broken(outs: list[object]) -> list[AuditEntry]:
        raise RuntimeError("the audit entry cannot be built")

    failing = writer.submit(
        Job("api:user/1", [line(import_("f1", "55501/010324/0000001/001"))], ["f1"], broken)
    )
    with pytest.raises(RuntimeError):
        failing.result(60)
    ok = writer.submit(
        Job(
            "api:user/1",
            [line(import_("f2", "55501/010324/0000002/001")), b"{oops"],
            ["f2", None],
            lambda outs: [AuditEntry(who, "events.submit", "*", "c", detail={"n": len(outs)})],
        )
    )
    assert [o.status for o in ok.result(60)] == ["accepted", "rejected"]
    writer.stop()
    with engine.connect() as conn:
        assert [r.id for r in conn.execute(sa.select(t.events.c.id))] == ["f2"]
        entries = conn.execute(sa.select(tables.audit_log)).all()
    assert [(e.action, e.detail) for e in entries] == [("events.submit", '{"n": 2}')]


def _refusal(n: int) -> Rejection:
    error = RejectedEvent("batch", "unknown batch (tenancy)")
    return Rejection(n, f"r{n}", error, line(import_(f"r{n}", f"55501/010324/{n:07d}/009")))


@pytest.mark.parametrize("with_events", [True, False])
def test_refusals_decided_before_the_writer_commit_with_their_audit_entry(
    engine: Engine, with_events: bool
) -> None:
    """Rows refused before the writer (tenancy, a document's unmappable events) are stored in
    the transaction of the request's events and audit entry, or of the entry alone when no
    line is left: when the entry cannot be written, no refusal is stored either."""
    writer = Writer(engine, batch_limit=100)
    who = Principal(1, "acme", Role.declarant, A, "k")
    lines = [line(import_("ok1", "55501/010324/0000001/001"))] if with_events else []
    ids: list[str | None] = ["ok1"] if with_events else []

    def broken(outs: list[object]) -> list[AuditEntry]:
        raise RuntimeError("the audit entry cannot be built")

    failing = writer.submit(Job("api:user/4", lines, ids, broken, rejections=[_refusal(2)]))
    with pytest.raises(RuntimeError):
        failing.result(60)
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(t.rejections)) == 0
        assert conn.scalar(sa.select(sa.func.count()).select_from(t.events)) == 0

    def entry(outs: list[object]) -> list[AuditEntry]:
        return [AuditEntry(who, "events.submit", A, "c", detail={"n": len(outs)})]

    ok = writer.submit(Job("api:user/4", lines, ids, entry, rejections=[_refusal(2)]))
    ok.result(60)
    writer.stop()
    with engine.connect() as conn:
        stored = conn.execute(sa.select(t.rejections.c.source, t.rejections.c.line)).all()
        assert [tuple(r) for r in stored] == [("api:user/4", 2)]
        assert conn.scalar(sa.select(sa.func.count()).select_from(t.events)) == len(lines)
        assert [e.action for e in conn.execute(sa.select(tables.audit_log))] == ["events.submit"]


def test_audit_entries_chain_alike_on_both_databases(engine: Engine) -> None:
    """PostgreSQL chains the audit log in the insert itself (SQL's sha256); the hashes are the
    ones `chain_hash` computes, entry by entry, across calls."""
    from keruen.api import audit
    from keruen.store.chain import AUDIT_COLUMNS, GENESIS, chain_hash, row_digest

    who = Principal(1, "olga", Role.officer, None, "k")
    with engine.begin() as conn:
        audit.write(conn, [AuditEntry(who, "a", f"s{n}", "c", detail={"n": n}) for n in range(3)])
    with engine.begin() as conn:
        audit.write(conn, [AuditEntry(None, "b", "s3", "c", "denied")])
    with engine.connect() as conn:
        stored = conn.execute(sa.select(tables.audit_log).order_by(tables.audit_log.c.id)).all()
    prev = GENESIS
    for row in stored:
        prev = chain_hash(prev, row_digest([getattr(row, c) for c in AUDIT_COLUMNS]))
        assert row.hash == prev
    assert [r.subject for r in stored] == ["s0", "s1", "s2", "s3"]

"""Migration 0007 on a populated ledger: old rejections get their digest and a chain."""

from __future__ import annotations

from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from keruen.ingest import ingest_lines
from keruen.store import db
from keruen.store.chain import GENESIS, REJECTION_COLUMNS, chain_hash, raw_digest, row_digest


def test_old_rejections_are_digested_and_chained(engine: Engine) -> None:
    with engine.begin() as conn:  # back to before 0007, with rejections of the old shape
        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("keruen.store") / "migrations"))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
        conn.execute(
            sa.text(
                "INSERT INTO rejections (received_us, source, line, event_id, error, field, "
                "reason, raw) VALUES (1, 'f', :n, NULL, 'InvalidEvent', '', 'bad', :raw)"
            ),
            [{"n": n, "raw": f"bad line {n}"} for n in (1, 2, 3)],
        )
    db.migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM rejections ORDER BY id")).mappings().all()
    prev = GENESIS
    for row in rows:
        assert row["digest"] == raw_digest(row["raw"])
        prev = chain_hash(prev, row_digest([row[c] for c in REJECTION_COLUMNS]))
        assert row["hash"] == prev
    # the same lines of the same source are now known: not logged again
    report = ingest_lines(engine, [b"bad line 1", b"bad line 2", b"bad line 3"], source="f")
    assert report.rejected == 3
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM rejections")).scalar() == 3


def test_migration_0011_chains_an_existing_audit_log(engine: Engine) -> None:
    from keruen.store import integrity

    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("keruen.store") / "migrations"))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0010")
        conn.execute(
            sa.text(
                "INSERT INTO audit_log (at_us, user_id, actor, role, action, subject, outcome, "
                "client, detail) VALUES (:n, NULL, 'olga', 'officer', 'batch.read', :s, 'ok', "
                "'127.0.0.1', NULL)"
            ),
            [{"n": n, "s": f"B{n}"} for n in (1, 2, 3)],
        )
    db.migrate(engine)
    with engine.connect() as conn:
        report = integrity.verify(conn)
        assert report.ok and report.audit.count == 3
        conn.execute(sa.text("UPDATE audit_log SET subject = 'B9' WHERE subject = 'B2'"))
        assert not integrity.verify(conn).ok

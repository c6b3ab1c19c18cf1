"""The audit log: who read or wrote which party-level data, when, from where, with what outcome.

Entries are built by the routers and written by the API's single writer (`keruen.api.writer`)
before the response leaves, so an answered request is an audited request.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.api.access import Principal
from keruen.api.tables import audit_log, users
from keruen.ledger.rules import iso
from keruen.settings import get_settings
from keruen.store.chain import AUDIT_COLUMNS, GENESIS, chain_hash, row_digest
from keruen.store.db import lock_writer
from keruen.store.ledger import micros_now

ANONYMOUS = "anonymous"  # the actor of a request refused before it was authenticated
CLI = "cli"  # the client of what the command line does
OS_USER = "os-user"  # the role of a CLI actor that is no Keruen user (the OS account)


@dataclass(frozen=True, slots=True)
class CliActor:
    """Who acts from the command line: the configured operator (`KERUEN_OPERATOR`), else the
    OS user; `user_id` and `role` are its account's when it has one."""

    user_id: int | None
    name: str
    role: str


@dataclass(slots=True)
class AuditEntry:
    """One audited access; `principal` is None for a caller that did not authenticate (a
    refused key or password: `detail` then says what it claimed), a `CliActor` for the CLI."""

    principal: Principal | CliActor | None
    action: str
    subject: str
    client: str
    outcome: str = "ok"
    detail: dict[str, Any] | None = None
    at_us: int = field(default_factory=micros_now)

    def row(self) -> dict[str, Any]:
        p = self.principal
        return {
            "at_us": self.at_us,
            "user_id": p.user_id if p else None,
            "actor": p.name if p else ANONYMOUS,
            "role": (p.role if isinstance(p, CliActor) else p.role.value) if p else "none",
            "action": self.action,
            "subject": self.subject[:200],
            "outcome": self.outcome,
            "client": self.client[:64],
            "detail": json.dumps(self.detail, sort_keys=True) if self.detail else None,
        }


def write(conn: Connection, entries: list[AuditEntry]) -> None:
    """Append entries, each chained to the one before (one writer at a time)."""
    if not entries:
        return
    lock_writer(conn)
    rows = [e.row() for e in entries]
    digests = [row_digest([row[c] for c in AUDIT_COLUMNS]) for row in rows]
    if conn.dialect.name == "postgresql":
        _chained_in_sql(conn, rows, digests)
        return
    a = audit_log.c
    prev = conn.scalar(sa.select(a.hash).order_by(a.id.desc()).limit(1)) or GENESIS
    for row, digest in zip(rows, digests, strict=True):
        prev = chain_hash(prev, digest)
        row["hash"] = prev
    conn.execute(audit_log.insert(), rows)


# PostgreSQL: the chain computed by the server from the newest stored hash, in the insert
# itself — `chain_hash` in SQL (SHA-256 of the previous hash's bytes and the row digest's) —
# so appending costs one round trip, not two (a read of the head, then the insert).
_CHAINED_INSERT = f"""
WITH RECURSIVE
  new AS (
    SELECT * FROM unnest(
      %s::bigint[], %s::integer[], %s::text[], %s::text[], %s::text[], %s::text[],
      %s::text[], %s::text[], %s::text[], %s::text[]
    ) WITH ORDINALITY AS v({", ".join(AUDIT_COLUMNS)}, digest, n)
  ),
  chain(n, hash) AS (
    SELECT 0::bigint, coalesce(
      (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), '{GENESIS}')::text
    UNION ALL
    SELECT new.n, encode(sha256(decode(chain.hash, 'hex') || decode(new.digest, 'hex')), 'hex')
    FROM chain JOIN new ON new.n = chain.n + 1
  )
INSERT INTO audit_log ({", ".join(AUDIT_COLUMNS)}, hash)
SELECT {", ".join(f"new.{c}" for c in AUDIT_COLUMNS)}, chain.hash
FROM new JOIN chain ON chain.n = new.n ORDER BY new.n
"""


def _chained_in_sql(conn: Connection, rows: list[dict[str, Any]], digests: list[str]) -> None:
    columns = [[row[c] for row in rows] for c in AUDIT_COLUMNS]
    conn.exec_driver_sql(_CHAINED_INSERT, (*columns, digests))


def cli_actor(conn: Connection, name: str | None = None) -> CliActor:
    """The CLI's actor: `name` (a case command's checked operator), else `KERUEN_OPERATOR`,
    else the OS user; with its user id and role when it is a Keruen user."""
    if not name:
        name = get_settings().operator
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no name for the OS account (a bare container)
            name = "unknown"
    u = users.c
    row = conn.execute(sa.select(u.id, u.role).where(u.name == name)).first()
    return CliActor(row.id, name, row.role) if row else CliActor(None, name, OS_USER)


def write_cli(
    conn: Connection,
    actor: CliActor,
    action: str,
    subject: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit what a command did, in the transaction `conn` that did it (both commit, or
    neither): the same actions as the API's, client `cli`."""
    write(conn, [AuditEntry(actor, action, subject, CLI, "ok", detail)])


def read(
    conn: Connection, limit: int = 100, user: str | None = None, before_id: int | None = None
) -> list[dict[str, Any]]:
    """Newest entries first; `before_id` pages back."""
    a = audit_log.c
    q = sa.select(audit_log).order_by(a.id.desc()).limit(limit)
    if user is not None:
        q = q.where(a.actor == user)
    if before_id is not None:
        q = q.where(a.id < before_id)
    return [_public(r) for r in conn.execute(q)]


def _public(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": iso(row.at_us),
        "user_id": row.user_id,
        "actor": row.actor,
        "role": row.role,
        "action": row.action,
        "subject": row.subject,
        "outcome": row.outcome,
        "client": row.client,
        "detail": json.loads(row.detail) if row.detail else None,
    }

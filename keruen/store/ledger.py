"""The ledger's storage adapter: snapshot a chunk's state, write its outcome, verify the chain."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.errors import RejectedEvent
from keruen.ledger.overlay import Accepted, Known, Overlay, cancel_needs, needs
from keruen.ledger.rules import Batch, micros
from keruen.model import events as ev
from keruen.store import schema as t
from keruen.store.db import chunks, upsert

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int | None
    event_id: str | None
    error: RejectedEvent
    raw: bytes

    def public(self) -> dict[str, Any]:
        return {"line": self.line, "id": self.event_id, "field": self.error.field,
                "reason": str(self.error)}


def chain_hash(prev: str, digest: str) -> str:
    return hashlib.sha256(bytes.fromhex(prev) + bytes.fromhex(digest)).hexdigest()


def event_key(e: ev.Event) -> str | None:
    """The identifier an event is most often looked up by."""
    for name in ("batch", "mrn", "seal", "ref", "target"):
        value = getattr(e, name, None)
        if isinstance(value, str):
            return value
    if isinstance(e, ev.Transform):
        return e.outputs[0].batch
    return None


# --- reading the state a chunk needs -------------------------------------------------------


def snapshot(conn: Connection, events: Sequence[ev.Event]) -> Overlay:
    overlay = Overlay()
    batch_ids, balance_keys, ids = needs(events)
    _load_events(conn, overlay, ids)
    more_batches, more_balances = cancel_needs(overlay, events)
    _load_batches(conn, overlay, batch_ids | more_batches)
    _load_balances(conn, overlay, balance_keys | more_balances)
    return overlay


def _load_events(conn: Connection, overlay: Overlay, ids: set[str]) -> None:
    q = sa.select(t.events.c.id, t.events.c.digest, t.events.c.canonical)
    for part in chunks(sorted(ids)):
        for row in conn.execute(q.where(t.events.c.id.in_(part))):
            overlay.known[row.id] = Known(row.digest, row.canonical.encode())
    c = t.cancellations.c
    for part in chunks(sorted(overlay.known)):
        overlay.cancelled_ids.update(
            conn.scalars(sa.select(c.target).where(c.target.in_(part))))


def _load_batches(conn: Connection, overlay: Overlay, ids: set[str]) -> None:
    for part in chunks(sorted(ids)):
        for row in conn.execute(sa.select(t.batches).where(t.batches.c.batch.in_(part))):
            overlay.batches[row.batch] = Batch(**row._mapping)


def _load_balances(conn: Connection, overlay: Overlay, keys: set[tuple[str, str]]) -> None:
    c = t.balances.c
    for part in chunks(sorted(keys)):
        q = sa.select(c.holder, c.batch, c.quantity).where(sa.tuple_(c.holder, c.batch).in_(part))
        for row in conn.execute(q):
            overlay.balances[(row.holder, row.batch)] = row.quantity


# --- writing a chunk's outcome --------------------------------------------------------------


def head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(
        sa.select(t.events.c.seq, t.events.c.hash).order_by(t.events.c.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else (0, GENESIS)


def write(conn: Connection, accepted: Sequence[Accepted], rejected: Sequence[Rejection],
          overlay: Overlay, source: str) -> None:
    now = micros_now()
    seq, prev = head(conn)
    event_rows, move_rows, batch_rows, link_rows, cancel_rows = [], [], [], [], []
    for a in accepted:
        seq += 1
        e, effect = a.parsed.event, a.effect
        h = chain_hash(prev, a.parsed.digest)
        at = micros(e.time)
        event_rows.append({
            "seq": seq, "id": e.id, "type": e.__struct_config__.tag, "time_us": at,
            "key": event_key(e), "canonical": a.parsed.canonical.decode(),
            "digest": a.parsed.digest, "prev_hash": prev, "hash": h, "received_us": now,
        })
        prev = h
        move_rows.extend(
            {"event_seq": seq, "n": n, "batch": m.batch, "source": m.source, "target": m.target,
             "quantity": m.quantity, "kind": m.kind, "time_us": at}
            for n, m in enumerate(effect.moves))
        batch_rows.extend(vars_of(b) for b in effect.new_batches)
        link_rows.extend({"input": i, "output": o, "event_seq": seq} for i, o in effect.links)
        if effect.cancels:
            cancel_rows.append({"target": effect.cancels, "event_id": e.id})
    for table, rows in ((t.events, event_rows), (t.batches, batch_rows), (t.moves, move_rows),
                        (t.links, link_rows), (t.cancellations, cancel_rows)):
        if rows:
            conn.execute(table.insert(), rows)
    _write_balances(conn, overlay)
    write_rejections(conn, rejected, source, now)


def _write_balances(conn: Connection, overlay: Overlay) -> None:
    zero = [k for k in overlay.touched if overlay.balances[k] == 0]
    rows = [{"holder": h, "batch": b, "quantity": overlay.balances[(h, b)]}
            for h, b in overlay.touched if overlay.balances[(h, b)] != 0]
    upsert(conn, t.balances, rows, ("holder", "batch"))
    c = t.balances.c
    for part in chunks(zero):
        conn.execute(t.balances.delete().where(sa.tuple_(c.holder, c.batch).in_(part)))


def write_rejections(conn: Connection, rejected: Sequence[Rejection], source: str,
                     now: int | None = None) -> None:
    if not rejected:
        return
    now = now or micros_now()
    conn.execute(t.rejections.insert(), [
        {"received_us": now, "source": source[:200], "line": r.line, "event_id": r.event_id,
         "error": type(r.error).__name__, "field": r.error.field[:200], "reason": r.error.reason,
         "raw": r.raw.decode("utf-8", errors="replace")}
        for r in rejected
    ])


def vars_of(b: Batch) -> dict[str, Any]:
    return {s: getattr(b, s) for s in b.__slots__}


def micros_now() -> int:
    return time.time_ns() // 1000


# --- tamper evidence ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    event_id: str
    reason: str


def verify(conn: Connection) -> Iterator[int | ChainBreak]:
    """Recompute the chain; yields each verified seq, then the first break if there is one."""
    prev = GENESIS
    c = t.events.c
    q = sa.select(c.seq, c.id, c.canonical, c.digest, c.prev_hash, c.hash).order_by(c.seq)
    expected_seq = 1
    for row in conn.execution_options(yield_per=10_000).execute(q):
        digest = hashlib.sha256(row.canonical.encode()).hexdigest()
        if row.seq != expected_seq:
            yield ChainBreak(row.seq, row.id, f"event number {expected_seq} is missing")
            return
        if digest != row.digest:
            yield ChainBreak(row.seq, row.id, "stored content does not match its digest")
            return
        if row.prev_hash != prev or chain_hash(prev, digest) != row.hash:
            yield ChainBreak(row.seq, row.id, "hash chain broken: the event or its predecessor was altered")
            return
        prev = row.hash
        expected_seq += 1
        yield row.seq


def balance_of(conn: Connection, holder: str, batch: str) -> Decimal:
    c = t.balances.c
    q = sa.select(c.quantity).where(c.holder == holder, c.batch == batch)
    return conn.scalar(q) or Decimal(0)

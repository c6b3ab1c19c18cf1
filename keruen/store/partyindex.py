"""The party index: which events name a tax id (in any role) or moved its stock.

A party's pages ask for "every event of this tax id". Without an index that is a scan of the
whole ledger (a text match on the stored JSON, then a decode to be sure): seconds at a million
events. `refresh(engine)` indexes what was appended since its cursor, `(tax_id, seq)` per
party an event names (`keruen.ledger.parties`) and per holder its moves took stock from or to
(a cancel names nobody, but reverses moves that do). The port (`LedgerReader.select_events(
party=...)`) reads the index up to the cursor and matches only the events after it, so a
read is complete whether or not the index was refreshed; refreshing keeps that part short.
The cursor keeps the chain hash of its event: a ledger without that hash there is another
ledger, and the index starts over.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from keruen.ledger.parties import parties
from keruen.store import schema as t
from keruen.store.codec import decode_event
from keruen.store.db import upsert

CURSOR = "parties"
STEP = 20_000  # events read per round of a refresh


def indexed_upto(conn: Connection) -> int:
    """The seq up to which the index is complete for this ledger (0: nothing usable)."""
    c = t.event_parties_cursor.c
    row = conn.execute(sa.select(c.seq, c.hash).where(c.name == CURSOR)).first()
    if row is None or not row.seq:
        return 0
    stored = conn.scalar(sa.select(t.events.c.hash).where(t.events.c.seq == row.seq))
    return int(row.seq) if stored == row.hash else 0


def refresh(eng: Engine, most: int | None = None) -> int:
    """Index the events appended since the cursor (at most `most` of them when given);
    returns how many (tax id, event) pairs were added. Commits in rounds of `STEP` events,
    so a first refresh of a large ledger makes progress that a later one continues."""
    added, done = 0, 0
    while most is None or done < most:
        with eng.begin() as conn:
            start = indexed_upto(conn)
            if start == 0:
                conn.execute(t.event_parties.delete())
            head = conn.execute(
                sa.select(t.events.c.seq, t.events.c.hash).order_by(t.events.c.seq.desc()).limit(1)
            ).first()
            if head is None or head.seq <= start:
                return added
            end = min(int(head.seq), start + min(STEP, most - done if most else STEP))
            done += end - start
            pairs = sorted(set(_pairs(conn, start, end)))
            for i in range(0, len(pairs), 5000):
                part = [{"tax_id": p, "seq": s} for p, s in pairs[i : i + 5000]]
                conn.execute(_insert_new(conn), part)
            hash_ = conn.scalar(sa.select(t.events.c.hash).where(t.events.c.seq == end))
            upsert(
                conn,
                t.event_parties_cursor,
                [{"name": CURSOR, "seq": end, "hash": hash_}],
                ("name",),
            )
            added += len(pairs)
    return added


def _pairs(conn: Connection, after: int, upto: int) -> Iterator[tuple[str, int]]:
    e, m = t.events.c, t.moves.c
    rows = conn.execute(
        sa.select(e.seq, e.canonical).where(e.seq > after, e.seq <= upto, e.type != "seal_ping")
    )
    for row in rows:
        for tax_id in parties(decode_event(row.canonical)):
            yield tax_id, int(row.seq)
    moved = sa.select(m.event_seq, m.source, m.target).where(
        m.event_seq > after, m.event_seq <= upto
    )
    for seq, source, target in conn.execute(moved):
        for holder in (source, target):
            if holder:
                yield holder, int(seq)


def _insert_new(conn: Connection) -> Any:
    """INSERT that skips pairs already there (a refresh cut short and run again)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(t.event_parties).on_conflict_do_nothing()


def matching(tax_id: str) -> sa.Select[tuple[int]]:
    """The seqs the index holds for `tax_id`."""
    ep = t.event_parties.c
    return sa.select(ep.seq).where(ep.tax_id == tax_id)

"""The seal-binding index over the ledger: refreshed incrementally, read with a catch-up.

`refresh(engine)` indexes the declarations (and authority incidents that applied seals)
appended since its cursor. `lookup(conn, ...)` reads the index and scans only the events
appended after the cursor, so a read is always complete, refreshed or not; refreshing just
keeps that scan short. The cursor keeps the chain hash of its event: a ledger that no
longer has that hash at that position is another ledger, and the index starts over.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keruen.model import events as ev
from keruen.store.db import chunks, upsert
from keruen.store.port import LedgerReader
from keruen.transit.model import AUTHORITY_INCIDENTS
from keruen.transit.tables import transit_bindings, transit_cursor
from keruen.transit.tracker import new_seals

CURSOR = "bindings"


@dataclass(frozen=True, slots=True)
class Binding:
    seal: str
    event_seq: int
    mrn: str
    time_us: int


def bindings_of(
    e: ev.Event, extra: Mapping[str, Any] | None, seq: int, time_us: int
) -> list[Binding]:
    """The seals an event binds to its MRN: a declaration's, or those an authority applied."""
    if isinstance(e, ev.TransitOpen):
        return [Binding(s, seq, e.mrn, time_us) for s in e.seals]
    if isinstance(e, ev.Incident) and e.kind in AUTHORITY_INCIDENTS:
        return [Binding(s, seq, e.mrn, time_us) for s in new_seals(extra)]
    return []


def _scan(conn: Connection, after_seq: int) -> Iterator[Binding]:
    """The bindings made by events after `after_seq`: the incremental read of the index."""
    found = LedgerReader(conn).select_events(
        types=("transit_open", "incident"), after_seq=after_seq, extra_for=("incident",)
    )
    for s in found:
        yield from bindings_of(s.event, s.extra, s.seq, s.time_us)


def _cursor(conn: Connection) -> tuple[int, int]:
    """Where the stored index ends (seq, latest time), or (0, 0) when none or stale."""
    row = conn.execute(sa.select(transit_cursor).where(transit_cursor.c.name == CURSOR)).first()
    if row is None or row.seq == 0:
        return 0, 0
    stored = LedgerReader(conn).hash_at(row.seq)
    return (int(row.seq), int(row.time_us)) if stored == row.hash else (0, 0)


def _start(conn: Connection) -> int:
    return _cursor(conn)[0]


def _latest_after(conn: Connection, seq: int, upto: int | None = None) -> int:
    return LedgerReader(conn).latest_time_us(after_seq=seq, upto_seq=upto)


def latest_us(conn: Connection) -> int | None:
    """The latest event time in the ledger, reading only what the cursor has not seen."""
    seq, time_us = _cursor(conn)
    latest = max(time_us, _latest_after(conn, seq))
    return latest or None


def refresh(eng: Engine) -> int:
    """Index what was appended since the last refresh; returns the bindings added."""
    with eng.begin() as conn:
        start, time_us = _cursor(conn)
        if start == 0:
            conn.execute(transit_bindings.delete())
        seq, hash_ = LedgerReader(conn).head()
        rows = [asdict(b) for b in _scan(conn, start) if b.event_seq <= seq]
        for part in chunks(rows, 1000):
            upsert(conn, transit_bindings, part, ("seal", "event_seq"))
        latest = max(time_us, _latest_after(conn, start, seq))
        upsert(
            conn,
            transit_cursor,
            [{"name": CURSOR, "seq": seq, "hash": hash_, "time_us": latest}],
            ("name",),
        )
    return len(rows)


def lookup(
    conn: Connection, mrns: Collection[str] = (), seals: Collection[str] = ()
) -> list[Binding]:
    """Every binding of these MRNs or of these seals (stored, plus any not yet indexed)."""
    start = _start(conn)
    fresh = list(_scan(conn, start))
    found = [b for b in fresh if b.mrn in mrns or b.seal in seals]
    if start:
        found += _stored(conn, transit_bindings.c.mrn, mrns)
        found += _stored(conn, transit_bindings.c.seal, seals)
    return found


def related(conn: Connection, mrn: str) -> tuple[set[str], set[str]]:
    """The seals ever bound to `mrn`, and every MRN that any of those seals was bound to."""
    start = _start(conn)
    fresh = list(_scan(conn, start))  # what the index has not seen yet: read once
    own = [b for b in fresh if b.mrn == mrn]
    if start:
        own += _stored(conn, transit_bindings.c.mrn, [mrn])
    seals = {b.seal for b in own}
    sharing = [b for b in fresh if b.seal in seals]
    if start:
        sharing += _stored(conn, transit_bindings.c.seal, seals)
    return seals, {b.mrn for b in sharing} | {mrn}


def _stored(conn: Connection, column: sa.Column[str], values: Collection[str]) -> list[Binding]:
    out = []
    for part in chunks(sorted(values)):
        q = sa.select(transit_bindings).where(column.in_(part))
        out += [Binding(r.seal, r.event_seq, r.mrn, r.time_us) for r in conn.execute(q)]
    return out

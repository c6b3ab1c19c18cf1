"""How long movements wait at a post, measured from the ledger's own events (SPEC C5).

A transit presents itself at its entry post with its declaration (`transit_open`) and leaves
that post when it passes the checkpoint there; at a later post it arrives with a checkpoint
passage and is released when the movement is closed there (`transit_close`). The wait at a
post is the time between the two:

- entry: the declaration to the first checkpoint at the entry post at or after it;
- exit: the last checkpoint at the closing post at or before the close, to the close.

A movement with no such pair has no measured wait there (nothing is guessed). The passages
are kept in `risk_passages`, refreshed incrementally from the ledger (`refresh`): only the
events after the cursor are read; a cancelled declaration, checkpoint or close leaves the
measurement. The cursor keeps the chain hash of its event: another ledger starts over.

Legitimate movements are those no standing case decision found to be a diversion: the
measured wait is what honest traders pay for selectivity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keruen.model import events as ev
from keruen.risk import tables as rt
from keruen.risk.policy import decided_movements
from keruen.store.port import LedgerReader

CURSOR = "passages"
KINDS = {"transit_open": "open", "checkpoint": "checkpoint", "transit_close": "close"}
HOUR_US = 3_600_000_000


@dataclass(frozen=True, slots=True)
class Wait:
    mrn: str
    post: str
    where: str  # entry | exit
    arrived_us: int
    released_us: int

    @property
    def hours(self) -> float:
        return (self.released_us - self.arrived_us) / HOUR_US


def _cursor(conn: Connection) -> int:
    c = rt.risk_cursors.c
    row = conn.execute(sa.select(c.seq, c.hash).where(c.name == CURSOR)).first()
    if row is None or not row.seq:
        return 0
    return int(row.seq) if LedgerReader(conn).hash_at(int(row.seq)) == row.hash else 0


def refresh(eng: Engine) -> int:
    """Keep the passages of the events appended since the cursor; returns how many."""
    p = rt.risk_passages
    with eng.begin() as conn:
        start = _cursor(conn)
        if start == 0:
            conn.execute(sa.delete(p))
        reader = LedgerReader(conn)
        head = reader.head()
        if head.seq <= start:
            return 0
        rows = [
            _passage(s.seq, s.event, s.time_us)
            for s in reader.select_events(types=tuple(KINDS), after_seq=start)
            if s.seq <= head.seq and not s.cancelled
        ]
        for i in range(0, len(rows), 1000):
            conn.execute(sa.insert(p), rows[i : i + 1000])
        cancels = reader.select_events(types=("cancel",), after_seq=start)
        withdrawn = [s.event.target for s in cancels if isinstance(s.event, ev.Cancel)]
        for i in range(0, len(withdrawn), 500):
            conn.execute(sa.delete(p).where(p.c.event_id.in_(withdrawn[i : i + 500])))
        c = rt.risk_cursors
        conn.execute(sa.delete(c).where(c.c.name == CURSOR))
        conn.execute(sa.insert(c).values(name=CURSOR, seq=head.seq, hash=head.hash))
    return len(rows)


def _passage(seq: int, e: ev.Event, time_us: int) -> dict[str, Any]:
    if isinstance(e, ev.TransitOpen):
        mrn, kind, post = e.mrn, "open", e.entry_post
    elif isinstance(e, ev.Checkpoint):
        mrn, kind, post = e.mrn, "checkpoint", e.post
    elif isinstance(e, ev.TransitClose):
        mrn, kind, post = e.mrn, "close", e.post
    else:  # pragma: no cover - the select names only these types
        raise TypeError(type(e).__name__)
    return {
        "seq": seq,
        "event_id": e.id,
        "mrn": mrn,
        "kind": kind,
        "post": post,
        "time_us": time_us,
    }


def measured(conn: Connection) -> list[Wait]:
    """Every measured wait: at the entry post and at the closing post."""
    o, c = rt.risk_passages.alias("o"), rt.risk_passages.alias("c")
    same = sa.and_(c.c.mrn == o.c.mrn, c.c.kind == "checkpoint", c.c.post == o.c.post)
    entry = (
        sa.select(o.c.mrn, o.c.post, o.c.time_us, sa.func.min(c.c.time_us))
        .join(c, sa.and_(same, c.c.time_us >= o.c.time_us))
        .where(o.c.kind == "open")
        .group_by(o.c.seq, o.c.mrn, o.c.post, o.c.time_us)
    )
    leave = (
        sa.select(o.c.mrn, o.c.post, sa.func.max(c.c.time_us), o.c.time_us)
        .join(c, sa.and_(same, c.c.time_us <= o.c.time_us))
        .where(o.c.kind == "close")
        .group_by(o.c.seq, o.c.mrn, o.c.post, o.c.time_us)
    )
    found = [Wait(m, p, "entry", int(a), int(r)) for m, p, a, r in conn.execute(entry)]
    found += [Wait(m, p, "exit", int(a), int(r)) for m, p, a, r in conn.execute(leave)]
    return found


def found_diverted(conn: Connection) -> set[str]:
    """The MRNs and event ids that alerts in cases decided "confirmed_diversion" name."""
    return {m for m, verdict in decided_movements(conn).items() if verdict == "diverted"}


def lanes_of(conn: Connection) -> dict[str, str]:
    """The lane of every transit as of the last detection run (one read)."""
    s = rt.risk_subjects.c
    q = sa.select(s.subject, s.lane).where(s.subject_kind == "transit", s.lane.is_not(None))
    return {subject: lane for subject, lane in conn.execute(q)}


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(hours: list[float]) -> dict[str, Any]:
    ordered = sorted(hours)
    return {
        "movements": len(ordered),
        "mean_hours": round(sum(ordered) / len(ordered), 3),
        "median_hours": round(_quantile(ordered, 0.5), 3),
        "p90_hours": round(_quantile(ordered, 0.9), 3),
    }


def by_lane_and_post(conn: Connection, waits: list[Wait] | None = None) -> dict[str, Any]:
    """The measured waits of legitimate movements by lane, and by lane and post (`waits`:
    every measured wait, when the caller has them already)."""
    waits = measured(conn) if waits is None else waits
    diverted = found_diverted(conn)
    lanes = lanes_of(conn)
    lane_hours: dict[str, list[float]] = defaultdict(list)
    post_hours: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    left_out = 0
    for w in waits:
        if w.mrn in diverted:
            left_out += 1
            continue
        lane = lanes.get(w.mrn, "none")
        lane_hours[lane].append(w.hours)
        post_hours[(lane, w.where, w.post)].append(w.hours)
    posts = [
        {"lane": lane, "where": where, "post": post, **_summary(hours)}
        for (lane, where, post), hours in post_hours.items()
    ]
    posts.sort(key=lambda r: (r["lane"], r["where"], -r["movements"], r["post"]))
    return {
        "measured": len(waits) - left_out,
        "left_out_diverted": left_out,
        "lanes": {lane: _summary(hours) for lane, hours in sorted(lane_hours.items())},
        "posts": posts,
    }

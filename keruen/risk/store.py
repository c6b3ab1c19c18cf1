"""The risk area's storage adapter: read the ledger as of a time, write alerts and risks.

Everything here is SQLAlchemy Core over the shared tables, portable between SQLite and
PostgreSQL. Duplicates are impossible by the UNIQUE key of `risk_alerts`; this adapter also
skips keys already stored, so that a re-run is a no-op rather than a conflict.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, CursorResult

from keruen.model import events as ev
from keruen.risk import tables as rt
from keruen.risk.engine import Assessment
from keruen.risk.evaluation import Flag, Movement
from keruen.risk.model import Alert, Refs
from keruen.risk.state import Ledger, build_timed
from keruen.store import consumers
from keruen.store.db import chunks
from keruen.store.port import Head, LedgerReader, time_of


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key a single-row INSERT made."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def wall_us() -> int:
    return time.time_ns() // 1000


def latest_us(conn: Connection) -> int:
    """The time of the latest event: "now" when a run names none."""
    return LedgerReader(conn).latest_time_us()


# what the detectors read: stock events, transit declarations, receipts (seal pings,
# checkpoints and closes reach them as transit monitoring's findings)
READ_TYPES = (*sorted(ev.STOCK_TYPES), "transit_open", "transit_close", "receipt")


def live_events(conn: Connection, now_us: int) -> Iterator[tuple[ev.Event, int]]:
    """Events dated up to `now` that stand as of `now`, in ledger order, with their time:
    read from the whole ledger (`read` keeps them between runs and reads only what is new)."""
    found = LedgerReader(conn, yield_per=20_000).select_events(
        types=READ_TYPES, end=time_of(now_us + 1)
    )
    for stored in found:
        if stored.stands_at(now_us):
            yield stored.event, stored.time_us


def load_ledger(conn: Connection, now_us: int, reading: Reading | None = None) -> Ledger:
    """The ledger as the detectors see it as of `now`: from `reading` (kept between runs, see
    `read`), else read from the whole ledger."""
    if reading is None:
        return build_timed(live_events(conn, now_us))
    return build_timed(reading.live(now_us))


# --- what detection has read, kept between runs (keruen.store.consumers) ---------------------

STATE, STATE_FORMAT = "risk", "risk-msgpack-1"


class Kept(msgspec.Struct, array_like=True, gc=False):
    """One event the detectors read: its time, and the time of the cancel that withdrew it."""

    event: ev.AnyEvent
    time_us: int
    cancelled_us: int | None = None


class _State(msgspec.Struct, array_like=True, gc=False):
    latest_us: int  # the latest event time of the whole ledger up to the head
    kept: list[Kept]


_state = msgspec.msgpack.Decoder(_State)


@dataclass(slots=True)
class Reading:
    """Every event of `READ_TYPES` up to `head` in ledger order, whether or not it stands now;
    `read`: how many events came from the ledger this time (the rest from the kept state)."""

    head: Head
    latest_us: int
    kept: list[Kept]
    read: int
    resumed: bool

    def live(self, now_us: int) -> Iterator[tuple[ev.Event, int]]:
        """What `live_events` reads: dated up to `now`, standing as of `now`."""
        for k in self.kept:
            if k.time_us <= now_us and (k.cancelled_us is None or k.cancelled_us > now_us):
                yield k.event, k.time_us

    def encode(self) -> bytes:
        return msgspec.msgpack.encode(_State(self.latest_us, self.kept))


def read(conn: Connection) -> Reading:
    """The events detection reads, from the state kept by the last `save_reading` plus what
    was appended after it (the port's `after_seq`); the whole ledger when nothing was kept,
    or when the ledger is not the one it was kept for any more."""
    reader = LedgerReader(conn, yield_per=20_000)
    head = reader.head()
    saved = consumers.load(conn, STATE, STATE_FORMAT)
    state = _state.decode(saved.state) if saved is not None else _State(0, [])
    after = saved.seq if saved is not None else 0
    kept, cancels, n = state.kept, [], 0
    for s in reader.select_events(types=(*READ_TYPES, "cancel"), after_seq=after):
        if s.seq > head.seq:
            break  # appended while reading: the next run's
        n += 1
        if isinstance(s.event, ev.Cancel):
            cancels.append((s.event.target, s.time_us))
        else:
            kept.append(Kept(s.event, s.time_us, s.cancelled_us))
    if cancels and after:
        at = {k.event.id: i for i, k in enumerate(kept)}
        for target, t in cancels:
            i = at.get(target)
            if i is not None and kept[i].cancelled_us is None:
                k = kept[i]
                kept[i] = Kept(k.event, k.time_us, t)
    latest = max(state.latest_us, reader.latest_time_us(after_seq=after, upto_seq=head.seq))
    return Reading(head, latest, kept, n, saved is not None)


def save_reading(conn: Connection, reading: Reading) -> None:
    """Keep what `read` read, for the next run (in the caller's transaction)."""
    if reading.read or not reading.resumed:
        consumers.save(conn, STATE, STATE_FORMAT, reading.head, reading.encode())


# --- alerts -----------------------------------------------------------------------------------


def stored_keys(conn: Connection) -> set[tuple[str, str, str]]:
    a = rt.risk_alerts.c
    return {
        (r.rule, r.subject_kind, r.subject)
        for r in conn.execute(sa.select(a.rule, a.subject_kind, a.subject))
    }


def start_run(conn: Connection, now_us: int, since_us: int) -> int:
    row = {
        "started_us": wall_us(),
        "now_us": now_us,
        "since_us": since_us,
        "alerts_added": 0,
        "signals_added": 0,
    }
    return inserted_id(conn.execute(sa.insert(rt.risk_runs).values(row)))


def add_alerts(
    conn: Connection, run_id: int, alerts: Sequence[Alert], alert_min: float
) -> tuple[int, int]:
    """Store the alerts whose key is new; return (alerts, signals) added."""
    known = stored_keys(conn)
    new = [a for a in alerts if a.key not in known]
    now = wall_us()
    rows = [_row(a, run_id, now, alert_min) for a in new]
    for part in chunks(rows, 1000):
        conn.execute(sa.insert(rt.risk_alerts), list(part))
    _add_refs(conn, run_id, {a.key: a.refs for a in new})
    added = sum(1 for r in rows if r["level"] == "alert")
    conn.execute(
        sa.update(rt.risk_runs)
        .where(rt.risk_runs.c.id == run_id)
        .values(alerts_added=added, signals_added=len(rows) - added)
    )
    return added, len(rows) - added


def _row(a: Alert, run_id: int, now: int, alert_min: float) -> dict[str, Any]:
    return {
        "rule": a.rule,
        "subject_kind": a.subject_kind,
        "subject": a.subject,
        "level": "alert" if a.score >= alert_min else "signal",
        "score": a.score,
        "time_us": a.time_us,
        "detected_us": now,
        "run_id": run_id,
        "explanation": a.explanation,
        "refs": json.dumps(a.refs.public(), ensure_ascii=False),
        "facts": json.dumps(a.facts, ensure_ascii=False, default=str),
        "list_version": a.list_version,
    }


def _add_refs(conn: Connection, run_id: int, refs: dict[tuple[str, str, str], Refs]) -> None:
    a = rt.risk_alerts.c
    q = sa.select(a.id, a.rule, a.subject_kind, a.subject).where(a.run_id == run_id)
    rows: list[dict[str, Any]] = []
    for r in conn.execute(q):
        found = refs.get((r.rule, r.subject_kind, r.subject))
        if found is not None:
            rows.extend({"alert_id": r.id, "kind": k, "value": v} for k, v in set(found.items()))
    for part in chunks(rows, 2000):
        conn.execute(sa.insert(rt.risk_alert_refs), list(part))


def all_alerts(conn: Connection) -> list[Alert]:
    """Every stored alert and signal, as the scoring reads them."""
    a = rt.risk_alerts.c
    q = sa.select(a.rule, a.subject_kind, a.subject, a.score, a.time_us)
    return [
        Alert(r.rule, r.subject_kind, r.subject, r.score, r.time_us, "", Refs())
        for r in conn.execute(q)
    ]


def save_assessment(conn: Connection, run_id: int, found: Assessment) -> None:
    """Rewrite the projection: one row per subject, the lane on movements."""
    conn.execute(sa.delete(rt.risk_subjects))
    rows = []
    for key, risk in found.risks.items():
        lane = found.lanes.get(key)
        rows.append(
            {
                "subject_kind": risk.kind,
                "subject": risk.subject,
                "score": round(risk.score, 6),
                "raw": round(risk.raw, 6),
                "lane": lane.lane if lane else None,
                "random": bool(lane and lane.random),
                "rules": json.dumps(risk.rules),
                "evidence": json.dumps(risk.evidence, ensure_ascii=False),
                "run_id": run_id,
            }
        )
    for part in chunks(rows, 2000):
        conn.execute(sa.insert(rt.risk_subjects), list(part))


def lanes(conn: Connection) -> list[dict[str, Any]]:
    s = rt.risk_subjects.c
    q = sa.select(s.subject_kind, s.subject, s.lane, s.score, s.random).where(s.lane.is_not(None))
    return [dict(r._mapping) for r in conn.execute(q)]


def lane_counts(conn: Connection) -> list[tuple[tuple[str, bool], int]]:
    """How many movements each lane has, randomly selected or not: one aggregate."""
    s = rt.risk_subjects.c
    q = (
        sa.select(s.lane, s.random, sa.func.count())
        .where(s.lane.is_not(None))
        .group_by(s.lane, s.random)
    )
    return [((str(lane), bool(random)), int(n)) for lane, random, n in conn.execute(q)]


def refs_of(conn: Connection, ids: Iterable[int]) -> dict[int, dict[str, list[str]]]:
    r = rt.risk_alert_refs.c
    out: dict[int, dict[str, list[str]]] = {}
    for part in chunks(sorted(set(ids))):
        for row in conn.execute(sa.select(r.alert_id, r.kind, r.value).where(r.alert_id.in_(part))):
            out.setdefault(row.alert_id, {}).setdefault(row.kind, []).append(row.value)
    return out


# --- evaluation -------------------------------------------------------------------------------


def flags(conn: Connection) -> list[Flag]:
    """Every alert (not signal), as the evaluation reads them."""
    a = rt.risk_alerts.c
    q = sa.select(a.rule, a.subject_kind, a.subject, a.time_us).where(a.level == "alert")
    return [Flag(r.rule, r.subject_kind, r.subject, r.time_us) for r in conn.execute(q)]


def movements(conn: Connection) -> tuple[list[Movement], dict[str, int]]:
    """Each movement with its lane, and when each movement happened (by event id and MRN)."""
    found = LedgerReader(conn).select_events(types=("dispatch", "export", "transit_open"))
    times: dict[str, int] = {}
    for s in found:
        times[s.event.mrn if isinstance(s.event, ev.TransitOpen) else s.event.id] = s.time_us
    moves = [
        Movement(
            r["subject_kind"], r["subject"], times.get(r["subject"], 0), r["lane"], r["random"]
        )
        for r in lanes(conn)
    ]
    return moves, times


def runs(conn: Connection) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).select_from(rt.risk_runs)) or 0)

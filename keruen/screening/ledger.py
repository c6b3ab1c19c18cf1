"""Screening the ledger: every dispatch, export and transit, its goods and its parties.

`screen_ledger(engine)` reads the ledger's events through the read port, screens
what each event says against the current version of every list, and stores the outcome in
`screening_checks` (one row per event and list version, hits or not) and `screening_hits`.
It only does what is missing: an event already checked against a list version is skipped, so
running it after each ingest is cheap, and loading a new list version re-screens everything
against that list alone. `subjects` (pure) says what an event puts up for screening.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keruen.model import events as ev
from keruen.screening import store
from keruen.screening import tables as t
from keruen.screening.decisions import Cleared, cleared, is_cleared, party_key
from keruen.screening.model import GoodsHit, PartyHit
from keruen.screening.screener import Screener
from keruen.screening.text import analyse
from keruen.screening.words import WEIGHTS
from keruen.store import db
from keruen.store.port import LedgerReader, StoredEvent
from keruen.store.queries import BatchInfo

SCREENED_TYPES = ("dispatch", "export", "transit_open")
CHUNK = 2000


@dataclass(frozen=True, slots=True)
class Subject:
    """One thing an event puts up for screening: goods (hs, destination) or a party."""

    role: str  # goods[0], buyer, carrier, consignee, holder
    hs: str = ""
    destination: str = ""
    name: str = ""
    country: str = ""
    tax_id: str = ""


def subjects(event: dict[str, Any], hs: str | None) -> list[Subject]:
    """What a dispatch, export or transit_open puts up for screening (`hs` of the batch moved)."""
    if event.get("type") == "transit_open":
        dest = event.get("destination", "")
        found = [
            Subject(f"goods[{i}]", hs=g.get("hs", ""), destination=dest)
            for i, g in enumerate(event.get("goods") or [])
        ]
        roles: tuple[str, ...] = ("carrier", "consignee")
    else:
        dest = (event.get("buyer") or {}).get("country", "")
        found = [Subject("goods[0]", hs=hs, destination=dest)] if hs else []
        found.append(Subject("holder", tax_id=event.get("holder", "")))
        roles = ("buyer",)
    for role in roles:
        p = event.get(role) or {}
        found.append(
            Subject(
                role,
                name=p.get("name", ""),
                country=p.get("country", ""),
                tax_id=p.get("tax_id", ""),
            )
        )
    return found


@dataclass
class LedgerReport:
    events: int = 0
    screened: int = 0
    checks: int = 0
    hits: int = 0
    by_list: dict[str, int] = field(default_factory=dict)
    carried: int = 0  # hits carried over from a list's version before (their entry unchanged)
    warning: str | None = None  # no party list loaded: parties were not screened

    def public(self) -> dict[str, Any]:
        return {
            "warning": self.warning,
            "events": self.events,
            "screened": self.screened,
            "checks": self.checks,
            "hits": self.hits,
            "hits_by_list": self.by_list,
            "carried": self.carried,
        }


def screen_ledger(
    engine: Engine,
    since_seq: int | None = None,
    screener: Screener | None = None,
    progress: Callable[[int], None] | None = None,
) -> LedgerReport:
    """Screen the dispatches, exports and transits (after `since_seq`) not yet screened against
    the current version of every list; store checks and hits. Returns what was done."""
    with engine.begin() as conn:
        store.ensure_builtin(conn)
        screener = screener or store.load_screener(conn)
        decided = cleared(conn)
        changes = _changes(conn, screener)
    learn_economy(engine)
    report = LedgerReport(warning=screener.warning)
    cache: dict[tuple[str, str, str], list[PartyHit]] = {}
    for rows in _event_chunks(engine, since_seq):
        with engine.begin() as conn:
            _screen_chunk(conn, rows, Lists(screener, cache, decided, changes), report)
        if progress:
            progress(len(rows))
    return report


ECONOMY_SAMPLE = 20_000  # the latest events whose party names teach the word weights
ECONOMY_MIN_NAMES = 1_000  # fewer distinct names than this say nothing about the economy


def learn_economy(engine: Engine) -> int:
    """Teach the word weights how common each word is in the economy's own party names (the
    distinct names of the latest dispatches, exports and transits); returns how many names."""
    latest = LedgerReader(engine).select_events(
        types=SCREENED_TYPES, order="newest", limit=ECONOMY_SAMPLE, extra_for=SCREENED_TYPES
    )
    names: set[str] = set()
    for stored in latest:
        names.update(s.name for s in subjects(stored.extra or {}, None) if s.name)
    if len(names) < ECONOMY_MIN_NAMES:
        return 0
    WEIGHTS.forget_economy()
    return WEIGHTS.learn(analyse(n).skeleton for n in names)


def count_events(engine: Engine, since_seq: int | None = None) -> int:
    reader = LedgerReader(engine)
    return reader.count_events(types=SCREENED_TYPES, after_seq=since_seq or 0)


@dataclass(frozen=True, slots=True)
class _Row:
    """An event to screen: its place, its stored JSON object, the hs of the batch it moves."""

    seq: int
    id: str
    time_us: int
    event: dict[str, Any]
    hs: str | None


def _event_chunks(engine: Engine, since_seq: int | None) -> Iterator[list[_Row]]:
    """The screened types after `since_seq`, CHUNK at a time (incremental reading)."""
    reader = LedgerReader(engine)
    last = since_seq or 0
    while True:
        found = list(
            reader.select_events(
                types=SCREENED_TYPES, after_seq=last, limit=CHUNK, extra_for=SCREENED_TYPES
            )
        )
        if not found:
            return
        moved = {s.event.batch for s in found if isinstance(s.event, ev.Dispatch)}
        infos = reader.batches(moved)
        yield [_row(s, infos) for s in found]
        last = found[-1].seq


def _row(stored: StoredEvent, infos: dict[str, BatchInfo]) -> _Row:
    e = stored.event
    info = infos.get(e.batch) if isinstance(e, ev.Dispatch) else None
    return _Row(stored.seq, e.id, stored.time_us, stored.extra or {}, info.hs if info else None)


@dataclass
class Change:
    """A party list's new version, screened as a difference from the version before: hits on
    unchanged entries are carried over, and only the changed entries are screened anew."""

    delta: store.Delta
    version: str  # the current version
    screener: Screener  # the current version's added or changed entries only
    cache: dict[tuple[str, str, str], list[PartyHit]] = field(default_factory=dict)


@dataclass
class Lists:
    screener: Screener
    cache: dict[tuple[str, str, str], list[PartyHit]]
    decided: Cleared
    changes: dict[str, Change]


def _changes(conn: Connection, screener: Screener) -> dict[str, Change]:
    out: dict[str, Change] = {}
    for name, delta in store.deltas(conn, screener.versions).items():
        partial = Screener(algorithm=screener.algorithm)
        partial.thresholds = screener.thresholds
        partial.add_entries(delta.entries, screener.versions[name])
        out[name] = Change(delta, screener.versions[name], partial)
    return out


def _screen_chunk(conn: Connection, rows: list[Any], lists: Lists, report: LedgerReport) -> None:
    screener = lists.screener
    done = _checked(conn, [r.id for r in rows])
    carried = _carried(conn, rows, done, lists.changes)
    checks: list[dict[str, Any]] = []
    hits: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    now = store.now_us()
    for row in rows:
        report.events += 1
        todo = {n: v for n, v in screener.versions.items() if (row.id, n, v) not in done}
        if not todo:
            continue
        report.screened += 1
        diff = {n for n in todo if (row.id, n) in carried}
        full = {n: v for n, v in todo.items() if n not in diff}
        found = _screen_event(row, screener, lists.cache, full, lists.decided) if full else []
        for name in diff:
            change = lists.changes[name]
            found += carried[(row.id, name)]
            found += [
                h
                for h in _screen_event(row, change.screener, change.cache, todo, lists.decided)
                if h["list"] == name and h["kind"] == "party"
            ]
            report.carried += len(carried[(row.id, name)])
        for h in found:
            hits.setdefault((h["event_id"], h["list"], h["subject"], h["entry_id"]), h)
        for name, version in todo.items():
            n = sum(1 for h in found if h["list"] == name)
            checks.append(
                {
                    "event_id": row.id,
                    "list": name,
                    "version": version,
                    "hits": n,
                    "screened_us": now,
                }
            )
            report.by_list[name] = report.by_list.get(name, 0) + n
    db.upsert(conn, t.screening_checks, checks, ["event_id", "list", "version"])
    db.upsert(
        conn,
        t.screening_hits,
        list(hits.values()),
        ["event_id", "list", "version", "subject", "entry_id"],
    )
    report.checks += len(checks)
    report.hits += len(hits)


def _carried(
    conn: Connection, rows: list[Any], done: set[tuple[str, str, str]], changes: dict[str, Change]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Per (event, list) checked against the version before: its hits on entries that did not
    change, restated for the current version."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    h = t.screening_hits
    for name, change in changes.items():
        old, new = change.delta.old, change.version
        ids = [r.id for r in rows if (r.id, name, old) in done]
        for i in ids:
            out[(i, name)] = []
        for part in db.chunks(ids):
            query = sa.select(h).where(h.c.event_id.in_(part), h.c.list == name, h.c.version == old)
            for r in conn.execute(query):
                if r.entry_id not in change.delta.changed:
                    out[(r.event_id, name)].append({**r._asdict(), "version": new})
    return out


def _checked(conn: Connection, ids: list[str]) -> set[tuple[str, str, str]]:
    c = t.screening_checks
    out: set[tuple[str, str, str]] = set()
    for part in db.chunks(ids):
        out.update(
            (r.event_id, r.list, r.version)
            for r in conn.execute(
                sa.select(c.c.event_id, c.c.list, c.c.version).where(c.c.event_id.in_(part))
            )
        )
    return out


def _screen_event(
    row: Any,
    screener: Screener,
    cache: dict[tuple[str, str, str], list[PartyHit]],
    todo: dict[str, str],
    decided: Cleared,
) -> list[dict[str, Any]]:
    event = row.event
    on = datetime.fromtimestamp(row.time_us / 1e6, UTC).date()
    found: list[dict[str, Any]] = []
    for s in subjects(event, row.hs):
        if s.hs:
            found += [_goods_row(row.id, s, h) for h in _goods(screener, s, on) if h.list in todo]
        else:
            found += [
                _party_row(row.id, s, h, decided)
                for h in _party(screener, s, cache)
                if h.list in todo
            ]
    return found


def _goods(screener: Screener, s: Subject, on: date) -> list[GoodsHit]:
    return screener.screen_goods(s.hs, s.destination, on) if s.destination else []


def _party(
    screener: Screener, s: Subject, cache: dict[tuple[str, str, str], list[PartyHit]]
) -> list[PartyHit]:
    key = (s.name, s.country, s.tax_id)
    if key not in cache:
        ids = [s.tax_id] if s.tax_id else []
        cache[key] = screener.screen_party(s.name, s.country or None, ids)
    return cache[key]


def _goods_row(event_id: str, s: Subject, h: GoodsHit) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "list": h.list,
        "version": h.version,
        "subject": s.role,
        "entry_id": h.hs_prefix,
        "kind": "goods",
        "query": f"{s.hs} -> {s.destination}",
        "matched": h.hs_prefix,
        "score": 1.0,
        "action": h.action,
        "tier": h.tier,
        "explanation": json.dumps(h.public(), ensure_ascii=False),
    }


def _party_row(event_id: str, s: Subject, h: PartyHit, decided: Cleared) -> dict[str, Any]:
    """A party hit; "cleared" (kept, never raised) when an officer decided this party against
    this entry, as it still is, a false positive."""
    party = party_key(s.name, s.country, s.tax_id)
    gone = is_cleared(decided, party, h.list, h.entry_id, h.entry_digest)
    return {
        "event_id": event_id,
        "list": h.list,
        "version": h.version,
        "subject": s.role,
        "entry_id": h.entry_id,
        "kind": "party",
        "query": s.name or s.tax_id,
        "matched": h.matched_name,
        "score": round(h.score, 4),
        "action": "cleared" if gone else "match",
        "tier": "",
        "explanation": json.dumps(h.public(), ensure_ascii=False),
    }

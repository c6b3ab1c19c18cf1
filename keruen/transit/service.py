"""Transit monitoring over the ledger: the functions the CLI, the API and the risk engine call.

The state of every movement is a projection of the transit events in the `events` table,
rebuilt by replaying them in time order (ties in ledger order) through the pure `Tracker`:
one source of truth, no second copy to keep in step. Events dated after "now" are left
out, so a check "as of" a past time sees what was known then. A cancelled event is left
out too, except a cancelled declaration: the movement stays visible as `cancelled`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.engine import Connection, Engine

from keruen.clock import micros, parse_time
from keruen.model import events as ev
from keruen.store.port import Head, LedgerReader, StoredEvent, time_of
from keruen.transit import bindings, resume
from keruen.transit.corridor import Corridor
from keruen.transit.errors import BadTransitQuery, MovementNotFound
from keruen.transit.model import Config, Entry, Finding, iso
from keruen.transit.movement import Movement
from keruen.transit.places import Places
from keruen.transit.tracker import Tracker

Progress = Callable[[int], None]
TRANSIT_TYPES = ("transit_open", "seal_ping", "checkpoint", "transit_close", "incident", "receipt")


@dataclass(frozen=True, slots=True)
class MovementView:
    """What a list of movements shows about one of them."""

    mrn: str
    state: str
    declared: str
    deadline: str
    entry_post: str
    exit_post: str
    exited_at: str | None
    closed: str | None
    destination: str
    seals: list[str]
    mass_kg: str
    pings: int
    corridor: str
    findings: int

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class MovementDetail:
    """One movement with its declaration, corridor, timeline and findings."""

    view: MovementView
    declaration: dict[str, Any]
    corridor: Corridor
    timeline: list[Entry]
    findings: list[Finding]

    def public(self) -> dict[str, Any]:
        return {
            **self.view.public(),
            "declaration": self.declaration,
            "corridor_points": [p.public() for p in self.corridor.places],
            "timeline": [e.public() for e in self.timeline],
            "findings": [f.public() for f in self.findings],
        }


def parse_now(text: str) -> datetime:
    """An RFC 3339 time with an offset (as in events), for `--now`."""
    return parse_time(text, "now", BadTransitQuery)


def refresh(eng: Engine, tracker: bool = True) -> int:
    """Bring the seal-binding index and (unless `tracker` is False: one movement's replay
    needs only the index) the saved tracker up to date (reads are complete without them, only
    slower); returns the seal bindings added."""
    added = bindings.refresh(eng)
    if tracker:
        refresh_tracker(eng)
    return added


def latest_us(conn: Connection) -> int | None:
    """The time of the latest event in the ledger: "now" when none is given."""
    return bindings.latest_us(conn)


def _now_us(conn: Connection, now: datetime | None) -> int:
    if now is not None:
        return micros(now)
    return latest_us(conn) or 0


def findings(
    conn: Connection,
    now: datetime | None = None,
    config: Config | None = None,
    places: Places | None = None,
    progress: Progress | None = None,
    fed: resume.Fed | None = None,
) -> list[Finding]:
    """Every transit finding as of `now` (default: the latest event time), in time order."""
    now_us = _now_us(conn, now)
    return replay(conn, now_us, config, places, progress=progress, fed=fed).findings(now_us)


@dataclass(frozen=True, slots=True)
class Overview:
    """Every movement and every finding as of one "now", from a single replay."""

    now_us: int
    movements: list[MovementView]
    findings: list[Finding]


def overview(
    conn: Connection,
    now: datetime | None = None,
    config: Config | None = None,
    places: Places | None = None,
    progress: Progress | None = None,
    fed: resume.Fed | None = None,
) -> Overview:
    """Movements (with their state) and findings together: what a detector run needs."""
    now_us = _now_us(conn, now)
    tracker = replay(conn, now_us, config, places, progress=progress, fed=fed)
    found = tracker.findings(now_us)
    counts: dict[str, int] = {}
    for f in found:
        counts[f.mrn] = counts.get(f.mrn, 0) + 1
    views = [view(m, now_us, counts.get(m.mrn, 0)) for m in tracker.movements.values()]
    return Overview(now_us, views, found)


def movements(
    conn: Connection,
    now: datetime | None = None,
    config: Config | None = None,
    places: Places | None = None,
    progress: Progress | None = None,
    fed: resume.Fed | None = None,
) -> list[MovementView]:
    """Every declared movement with its state as of `now`, in declaration order."""
    return overview(conn, now, config, places, progress, fed).movements


def movement(
    conn: Connection,
    mrn: str,
    now: datetime | None = None,
    config: Config | None = None,
    places: Places | None = None,
) -> MovementDetail:
    """One movement: state, declaration, corridor, timeline and findings as of `now`.

    Replays only what can touch it: its own events, the pings of its seals, and the
    movements that took one of its seals over (found through the binding index).
    """
    now_us = _now_us(conn, now)
    seals, others = bindings.related(conn, mrn)
    tracker = replay(conn, now_us, config, places, timeline_for=(mrn,), keys={mrn, *others, *seals})
    m = tracker.movements.get(mrn)
    if m is None:
        orphan = tracker.orphans.get(mrn)
        raise MovementNotFound(mrn, f" ({len(orphan.types)} event(s) name it)" if orphan else "")
    found = [f for f in tracker.findings(now_us) if f.mrn == mrn]
    return MovementDetail(
        view(m, now_us, len(found)),
        msgspec.to_builtins(m.declaration),
        m.corridor,
        m.timeline or [],
        found,
    )


def view(m: Movement, now_us: int, n_findings: int) -> MovementView:
    d = m.declaration
    return MovementView(
        mrn=m.mrn,
        state=m.state(now_us),
        declared=iso(m.opened_us),
        deadline=iso(m.deadline_us),
        entry_post=d.entry_post,
        exit_post=d.exit_post,
        exited_at=m.close.post if m.close else None,
        closed=iso(m.closed_us) if m.closed_us is not None else None,
        destination=d.destination,
        seals=list(m.seals),
        mass_kg=str(m.declared_kg),
        pings=m.pings,
        corridor=m.corridor.kind,
        findings=n_findings,
    )


# --- replay ------------------------------------------------------------------------------------


def replay(
    conn: Connection,
    now_us: int,
    config: Config | None = None,
    places: Places | None = None,
    timeline_for: Sequence[str] = (),
    keys: Collection[str] | None = None,
    progress: Progress | None = None,
    fed: resume.Fed | None = None,
) -> Tracker:
    """A tracker fed the transit events dated up to `now_us`, in time order.

    Every transit event, or only those of the MRNs and seals among `keys` (and the receipts
    naming those MRNs) -- what replaying a single movement needs. Every transit event with the
    shipped places: from the tracker `refresh` saved, fed only what came after it when that
    gives the same tracker as a full replay (`keruen.transit.resume`), else from the start.
    `fed`: the tracker `refresh_tracker` just returned, used when it is as of `now_us` with
    these thresholds (it is settled here: use it once).
    """
    reader = LedgerReader(conn, yield_per=10_000)
    if keys is None and places is None and not timeline_for:
        if fed is None or fed.now_us != now_us or (config or Config()) != Config():
            fed = resumed(conn, reader, now_us, config or Config(), progress)
        if fed is None:
            fed = replay_unsettled(reader, now_us, config, progress)
        _settle_receipts(reader, fed.tracker, fed.later)
        return fed.tracker
    tracker = Tracker(places, config, timeline_for)
    end = time_of(now_us + 1)
    if keys is None:
        rows: Iterable[StoredEvent] = reader.select_events(
            types=TRANSIT_TYPES, end=end, order="time", extra_for=("incident",)
        )
        cancelled = {
            c.target: Mark(c.time_us, c.event_id, c.target)
            for c in reader.cancellations(types=TRANSIT_TYPES, end=end)
        }
    else:
        rows = _keyed(reader, keys, end)
        cancelled = {
            s.id: Mark(s.cancelled_us, s.cancelled_by, s.id)
            for s in rows
            if s.cancelled_us is not None and s.cancelled_by and s.cancelled_us <= now_us
        }
    later: list[ev.Receipt] = []
    feed(tracker, _counted(_merge(rows, cancelled), progress), cancelled, later)
    _settle_receipts(reader, tracker, later)
    return tracker


def replay_unsettled(
    reader: LedgerReader, now_us: int, config: Config | None, progress: Progress | None
) -> resume.Fed:
    """Every transit event dated up to `now_us` fed to a new tracker, in time order; the
    receipts that wait for the end (`_settle_receipts`) not settled yet."""
    tracker = Tracker(None, config)
    end = time_of(now_us + 1)
    rows = reader.select_events(types=TRANSIT_TYPES, end=end, order="time", extra_for=("incident",))
    cancelled = {
        c.target: Mark(c.time_us, c.event_id, c.target)
        for c in reader.cancellations(types=TRANSIT_TYPES, end=end)
    }
    later: list[ev.Receipt] = []
    last = feed(tracker, _counted(_merge(rows, cancelled), progress), cancelled, later)
    return resume.Fed(tracker, later, last, now_us)


def feed(
    tracker: Tracker, items: Iterable[Item], cancelled: Collection[str], later: list[ev.Receipt]
) -> int:
    """Feed events and cancel marks in replay order: a cancelled event is left out, except a
    declaration (the movement stays, as cancelled). Returns the latest time fed (0: none)."""
    last = 0
    for item in items:
        if isinstance(item, Mark):
            tracker.cancel(item.target, item.time_us, item.event_id)
        elif item.id not in cancelled or item.type == "transit_open":
            _feed(tracker, item, later)
        last = item.time_us
    return last


def resumed(
    conn: Connection,
    reader: LedgerReader,
    now_us: int,
    config: Config,
    progress: Progress | None = None,
    upto_seq: int | None = None,
) -> resume.Fed | None:
    """The saved tracker fed what came after it (up to `upto_seq`, dated up to `now_us`), when
    that is the tracker a replay from the first event would build; None when it is not (no
    saved tracker, another ledger or thresholds, an earlier "now", an event dated before what
    the saved tracker has seen, a cancel of an event it has fed): then replay from the start.
    """
    found = resume.load(conn, config)
    if found is None:
        return None
    return fed_after(reader, *found, now_us, progress, upto_seq)


def fed_after(
    reader: LedgerReader,
    head: Head,
    fed: resume.Fed,
    now_us: int,
    progress: Progress | None = None,
    upto_seq: int | None = None,
) -> resume.Fed | None:
    """`fed` (which has seen the ledger up to `head`) fed what came after; see `resumed`."""
    if now_us < fed.now_us:
        return None
    end = time_of(now_us + 1)
    new = [
        s
        for s in reader.select_events(
            types=(*TRANSIT_TYPES, "cancel"),
            after_seq=head.seq,
            end=end,
            order="time",
            extra_for=("incident",),
        )
        if upto_seq is None or s.seq <= upto_seq
    ]
    cancels = [(s, s.event) for s in new if isinstance(s.event, ev.Cancel)]
    rows = [s for s in new if not isinstance(s.event, ev.Cancel)]
    fresh = {s.id: s for s in rows}
    old = reader.events_by_id({c.target for _, c in cancels} - fresh.keys())
    cancelled: dict[str, Mark] = {}
    for stored, c in cancels:
        target = fresh.get(c.target) or old.get(c.target)
        if target is None or target.type not in TRANSIT_TYPES:
            continue  # a cancel of a stock event: not part of a replay
        if target.seq <= head.seq and target.type != "transit_open":
            return None  # fed already; a replay from the start leaves it out
        cancelled[target.id] = Mark(stored.time_us, c.id, target.id)
    items = list(_merge(rows, cancelled))
    if items and items[0].time_us <= fed.last_us:
        return None  # dated before (or with) what the saved tracker has seen: not in order
    last = feed(fed.tracker, _counted(items, progress), cancelled, fed.later)
    return resume.Fed(fed.tracker, fed.later, max(last, fed.last_us), now_us)


def refresh_tracker(eng: Engine, progress: Progress | None = None) -> resume.Fed:
    """Bring the saved tracker up to the ledger's head (as of its latest event), reading only
    what came after the saved one when it can; returns it, receipts not settled yet."""
    with eng.begin() as conn:
        reader = LedgerReader(conn, yield_per=10_000)
        head = reader.head()
        now_us = reader.latest_time_us(upto_seq=head.seq)
        config = Config()
        found = resume.load(conn, config)
        if found is not None and found[0] == head:
            return found[1]  # nothing new since
        fed = fed_after(reader, *found, now_us, progress, head.seq) if found else None
        if fed is None:
            fed = replay_unsettled(reader, now_us, config, progress)
        resume.save(conn, fed, head, config)
    return fed


@dataclass(frozen=True, slots=True, order=True)
class Mark:
    """A cancel of a transit event, placed in the replay at its own time."""

    time_us: int
    event_id: str
    target: str


Item = StoredEvent | Mark


def _counted(
    rows: Iterable[Item], progress: Progress | None, every: int = 10_000
) -> Iterator[Item]:
    """The rows, telling `progress` how many went by (a progress bar on long replays)."""
    if progress is None:
        yield from rows
        return
    n = 0
    for n, row in enumerate(rows, 1):
        yield row
        if n % every == 0:
            progress(every)
    progress(n % every)


def _keyed(reader: LedgerReader, keys: Collection[str], end: datetime) -> list[StoredEvent]:
    """The transit events of these MRNs and seals, through the index on keys, in time order."""
    found = [
        *reader.select_events(mrn=keys, end=end, extra_for=("incident",)),
        *reader.select_events(seal=keys, end=end),
    ]
    found.sort(key=lambda s: (s.time_us, s.seq))
    return found


def _merge(rows: Iterable[StoredEvent], cancelled: dict[str, Mark]) -> Iterator[Item]:
    """The events with each cancel placed at its own time (after events of that time)."""
    marks = sorted(cancelled.values())
    return heapq.merge(rows, marks, key=lambda r: (r.time_us, isinstance(r, Mark)))


def _feed(tracker: Tracker, stored: StoredEvent, later: list[ev.Receipt]) -> None:
    e = stored.event
    if isinstance(e, ev.SealPing):
        tracker.ping(e.seal, stored.time_us, e.lat, e.lon, e.state, e.code, e.id)
        return
    if isinstance(e, ev.Receipt) and e.ref not in tracker.movements:
        later.append(e)  # may refer to a dispatch or export: settled after the replay
        return
    tracker.feed(e, stored.extra)


def _settle_receipts(reader: LedgerReader, tracker: Tracker, receipts: list[ev.Receipt]) -> None:
    """Receipts that refer to a dispatch or export by its event id."""
    shipped = reader.events_by_id({r.ref for r in receipts}).values()
    for stored in sorted(shipped, key=lambda s: s.seq):
        if isinstance(stored.event, ev.Dispatch):  # and Export
            tracker.feed(stored.event)
    for r in receipts:
        tracker.feed(r)

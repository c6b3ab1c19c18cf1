"""The read port: the one typed way to read the ledger's event log.

Every reader outside `keruen.store` (risk, transit, screening, tenancy, the API, exports)
reads events through `LedgerReader`, never the tables: the physical schema stays this
package's business. Stored events come back as the typed structs of `keruen.model.events`,
decoded from the stored canonical JSON here and nowhere else.

```python
reader = LedgerReader(engine)            # or a Connection, to read inside a transaction
reader.head()                            # Head(seq, hash); seq 0 when the ledger is empty
for stored in reader.select_events(types={"dispatch", "export"}, after_seq=last_seen):
    stored.seq, stored.event, stored.cancelled
```

`after_seq` is the incremental reading: a consumer keeps the last sequence it saw and asks
only for what came after it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from typing import Any, Literal, NamedTuple

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keruen.errors import InvalidQuery
from keruen.ledger.parties import parties
from keruen.ledger.rules import micros
from keruen.model import events as ev
from keruen.store import partyindex
from keruen.store import queries as q
from keruen.store import schema as t
from keruen.store.codec import decode_event, decode_object, time_of
from keruen.store.db import chunks

__all__ = [
    "GENESIS",
    "Cancellation",
    "Head",
    "LedgerReader",
    "StoredEvent",
    "batches_with_hs",
    "decode_event",
    "time_of",
]

GENESIS = "0" * 64

# the event types whose `key` column is their MRN, and receipts, whose `ref` may be one
MRN_TYPES = ("transit_open", "checkpoint", "transit_close", "incident", "receipt")

TYPES = tuple(ev.EVENT_TYPES)

Order = Literal["seq", "time", "newest"]  # ascending seq, event time then seq, seq descending


class Head(NamedTuple):
    """The ledger's last event: its sequence number and chain hash (0 and GENESIS if none)."""

    seq: int
    hash: str


class StoredEvent(msgspec.Struct, frozen=True, gc=False):
    """An event as the ledger stores it: its place in the chain and whether it still stands.

    `cancelled_us` is the time of the cancel that withdrew it (None while it stands), so a
    reader can ask whether it stood as of an earlier time."""

    seq: int
    hash: str
    event: ev.AnyEvent
    cancelled: bool
    time_us: int
    cancelled_us: int | None = None
    cancelled_by: str | None = None
    # the stored JSON object, fields beyond the contract included (only when asked for)
    extra: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return self.event.id

    @property
    def type(self) -> str:
        return str(self.event.__struct_config__.tag)

    def stands_at(self, now_us: int) -> bool:
        """Whether the event had not been cancelled as of `now_us`."""
        return self.cancelled_us is None or self.cancelled_us > now_us


@dataclass(frozen=True, slots=True)
class Cancellation:
    """A cancel that withdrew an event: the target's id and type, the cancel's id and time."""

    target: str
    target_type: str
    event_id: str
    time_us: int


@dataclass(frozen=True, slots=True)
class _Filters:
    types: frozenset[str] | None
    start_us: int | None
    end_us: int | None
    batch: str | None
    holder: str | None
    mrns: tuple[str, ...] | None
    seals: tuple[str, ...] | None
    party: str | None
    after_seq: int
    include_cancelled: bool
    order: Order
    party_upto: int = 0  # the party index is complete up to this seq (0: not usable)


class LedgerReader:
    """Typed reads of the event log over a SQLAlchemy Connection or Engine.

    Given an Engine, each read opens its own connection (a generator holds it until it is
    exhausted or closed); given a Connection, reads run in that connection's transaction."""

    def __init__(self, bind: Connection | Engine, *, yield_per: int = 5_000) -> None:
        self._bind = bind
        self._yield_per = yield_per

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """The caller's Connection, or a new one on the Engine (closed on exit)."""
        if isinstance(self._bind, Connection):
            yield self._bind
            return
        with self._bind.connect() as conn:
            yield conn

    def head(self) -> Head:
        c = t.events.c
        with self.connect() as conn:
            row = conn.execute(sa.select(c.seq, c.hash).order_by(c.seq.desc()).limit(1)).first()
        return Head(row.seq, row.hash) if row else Head(0, GENESIS)

    def hash_at(self, seq: int) -> str | None:
        """The chain hash of event `seq` (None if there is none): is this still that ledger?"""
        with self.connect() as conn:
            found = conn.scalar(sa.select(t.events.c.hash).where(t.events.c.seq == seq))
        return str(found) if found is not None else None

    def select_events(
        self,
        *,
        types: Collection[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        batch: str | None = None,
        holder: str | None = None,
        mrn: str | Collection[str] | None = None,
        party: str | None = None,
        after_seq: int = 0,
        limit: int | None = None,
        include_cancelled: bool = True,
        seal: str | Collection[str] | None = None,
        order: Order = "seq",
        extra_for: Collection[str] = (),
    ) -> Iterator[StoredEvent]:
        """Stored events in ascending seq (`order`: or event time then seq, or newest first),
        streamed; every given filter applies (AND).

        `start`/`end` bound the event time, [start, end); `batch`: events that moved the
        batch (creations, transfers, transforms using or making it, exits, the cancels that
        reversed them); `holder`: events that moved stock from or to that tax id; `mrn` (one
        or several): the transits' declarations, checkpoints, closes, incidents and the
        receipts naming them; `seal` (one or several): those seals' pings; `party`: events
        naming the tax id in any role, or moving its stock. `extra_for`: event types whose
        stored JSON object also comes back, in `extra` (fields beyond the contract)."""
        if limit is not None and limit < 0:
            raise InvalidQuery("limit", "must not be negative")
        f = _filters(
            types, start, end, batch, holder, mrn, seal, party, after_seq, include_cancelled, order
        )
        if f.party is not None:
            with self.connect() as conn:
                f = replace(f, party_upto=partyindex.indexed_upto(conn))
        # a party's reads take no SQL LIMIT (a few candidates after the index's cursor are
        # tested on the decoded event), so fetch rows in steps the size of the page asked for
        # rather than `yield_per`: the busiest holder's first 500 of 42,000 events read 500 rows
        step = min(self._yield_per, limit + 50) if limit is not None else self._yield_per
        query = _query(f, None if party else limit)
        found = self._stored(query, frozenset(extra_for), f.party, step)
        return islice(found, limit) if limit is not None else found

    def events_by_id(self, ids: Collection[str]) -> dict[str, StoredEvent]:
        """The stored events among `ids` (unknown ids are simply absent)."""
        found: dict[str, StoredEvent] = {}
        for part in chunks(sorted(set(ids))):
            for stored in self._stored(_base().where(t.events.c.id.in_(part))):
                found[stored.event.id] = stored
        return found

    def stored_objects(self, seqs: Collection[int]) -> dict[int, dict[str, Any]]:
        """The stored JSON objects of these events, fields beyond the contract included (an
        EPCIS event kept with an imported one, say), by seq."""
        found: dict[int, dict[str, Any]] = {}
        c = t.events.c
        for part in chunks(sorted(set(seqs))):
            for row in self._rows(sa.select(c.seq, c.canonical).where(c.seq.in_(part))):
                found[row.seq] = decode_object(row.canonical)
        return found

    def cancellations(
        self, *, types: Collection[str] | None = None, end: datetime | None = None
    ) -> list[Cancellation]:
        """Cancels dated before `end` (all without it) whose targets are of `types`, by time."""
        target, by, c = t.events.alias("target"), t.events.alias("by"), t.cancellations.c
        q = (
            sa.select(c.target, target.c.type, by.c.id, by.c.time_us)
            .join(target, target.c.id == c.target)
            .join(by, by.c.id == c.event_id)
            .order_by(by.c.time_us, by.c.seq)
        )
        if types is not None:
            q = q.where(target.c.type.in_(sorted(_known_types(types))))
        end_us = _micros("end", end)
        if end_us is not None:
            q = q.where(by.c.time_us < end_us)
        with self.connect() as conn:
            return [Cancellation(*row) for row in conn.execute(q)]

    def latest_time_us(self, *, after_seq: int = 0, upto_seq: int | None = None) -> int:
        """The time of the latest-dated event (of those after `after_seq`, up to `upto_seq`);
        0 when there is none."""
        c = t.events.c
        upto = [] if upto_seq is None else [c.seq <= upto_seq]
        if after_seq:  # the events after a seq: a range of the primary key
            q = sa.select(sa.func.max(c.time_us)).where(c.seq > after_seq, *upto)
        else:  # from the start: each type's latest off the (type, time) index, walked from
            # its end; a plain max reads every row (there is no index on time alone)
            each = [
                sa.select(sa.func.max(c.time_us).label("t")).where(c.type == k, *upto)
                for k in TYPES
            ]
            q = sa.select(sa.func.max(sa.union_all(*each).subquery().c.t))
        with self.connect() as conn:
            return int(conn.scalar(q) or 0)

    def count_by_type(self) -> dict[str, int]:
        """How many events of each type the ledger holds."""
        c = t.events.c
        q = sa.select(c.type, sa.func.count().label("n")).group_by(c.type).order_by(c.type)
        with self.connect() as conn:
            return {row.type: row.n for row in conn.execute(q)}

    def count_events(self, *, types: Collection[str] | None = None, after_seq: int = 0) -> int:
        c = t.events.c
        q = sa.select(sa.func.count()).select_from(t.events)
        if types is not None:
            q = q.where(c.type.in_(sorted(_known_types(types))))
        if after_seq:
            q = q.where(c.seq > after_seq)
        with self.connect() as conn:
            return int(conn.scalar(q) or 0)

    # --- read models (typed; JSON only at the edges, with `keruen.store.queries.public`) ---

    def stock(self, holder: str) -> list[q.StockLine]:
        """A holder's virtual warehouse: what it holds of each batch."""
        with self.connect() as conn:
            return q.stock(conn, holder)

    def batch(self, batch: str) -> q.BatchInfo:
        """One batch (NotFound when the ledger has never seen it)."""
        with self.connect() as conn:
            return q.batch_info(conn, batch)

    def batch_ids(self) -> list[str]:
        """Every batch the ledger has made, in storage order (no particular order)."""
        with self.connect() as conn:
            return q.batch_ids(conn)

    def batches(self, ids: Collection[str]) -> dict[str, q.BatchInfo]:
        with self.connect() as conn:
            return q.batches(conn, ids)

    def history(self, batch: str) -> q.History:
        with self.connect() as conn:
            return q.history(conn, batch)

    def trace_back(self, batch: str, max_depth: int = 50) -> q.TraceBack:
        with self.connect() as conn:
            return q.trace_back(conn, batch, max_depth)

    def trace_forward(self, batch: str, max_depth: int = 50) -> q.TraceForward:
        with self.connect() as conn:
            return q.trace_forward(conn, batch, max_depth)

    def receipts(self, ref: str) -> list[StoredEvent]:
        """The receipts confirming the dispatch, export (by event id) or transit (by MRN)."""
        e = t.events.c
        return [*self._stored(_base().where(e.ref == ref, e.type == "receipt").order_by(e.seq))]

    def rejections(
        self, limit: int = 50, source: str | None = None, before: int | None = None
    ) -> list[q.Rejection]:
        with self.connect() as conn:
            return q.rejections(conn, limit, source, before)

    def summary(self) -> q.Summary:
        with self.connect() as conn:
            return q.summary(conn)

    def party_batches(self, tax_id: str, batches: Collection[str]) -> set[str]:
        """The batches among `batches` that `tax_id` is party to (holds, held or moved)."""
        with self.connect() as conn:
            return q.party_batches(conn, tax_id, batches)

    def _stored(
        self,
        query: sa.Select[Any],
        extra_for: frozenset[str] = frozenset(),
        party: str | None = None,
        step: int | None = None,
    ) -> Iterator[StoredEvent]:
        with self.connect() as conn:
            cancels = _cancels(conn)
            rows = conn.execute(query, execution_options={"yield_per": step or self._yield_per})
            if party is None and not extra_for:  # the common case, on the hot path
                for seq, hash_, time_us, canonical in rows:
                    event = decode_event(canonical)
                    cancel = cancels.get(event.id)
                    if cancel is None:
                        yield StoredEvent(seq, hash_, event, False, time_us)
                    else:
                        yield StoredEvent(seq, hash_, event, True, time_us, *cancel)
                return
            for row in rows:
                if _keep(row, party):
                    yield _stored(row, cancels, extra_for)

    def _rows(self, query: sa.Select[Any]) -> Iterator[Any]:
        with self.connect() as conn:
            # on the statement, not the connection: Connection.execution_options changes the
            # caller's connection for good (a server-side cursor for its later writes too)
            yield from conn.execute(query, execution_options={"yield_per": self._yield_per})


def batches_with_hs(prefix: str) -> sa.Select[Any]:
    """The ids of the batches whose HS code begins with `prefix`, as a subquery: for an area's
    own query that filters its rows by the goods they cite (the alert inbox)."""
    b = t.batches.c
    return sa.select(b.batch).where(b.hs.startswith(prefix, autoescape=True))


def _known_types(types: Collection[str]) -> frozenset[str]:
    unknown = sorted(set(types) - ev.EVENT_TYPES.keys())
    if unknown:
        raise InvalidQuery("types", f"unknown event type {unknown[0]!r}")
    return frozenset(types)


def _keys(value: str | Collection[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(sorted(set(value)))


def _filters(
    types: Collection[str] | None,
    start: datetime | None,
    end: datetime | None,
    batch: str | None,
    holder: str | None,
    mrn: str | Collection[str] | None,
    seal: str | Collection[str] | None,
    party: str | None,
    after_seq: int,
    include_cancelled: bool,
    order: Order,
) -> _Filters:
    if order not in ("seq", "time", "newest"):
        raise InvalidQuery("order", f"{order!r} is not one of 'seq', 'time', 'newest'")
    return _Filters(
        _known_types(types) if types is not None else None,
        _micros("start", start),
        _micros("end", end),
        batch,
        holder,
        _keys(mrn),
        _keys(seal),
        party,
        after_seq,
        include_cancelled,
        order,
    )


def _micros(field: str, at: datetime | None) -> int | None:
    if at is None:
        return None
    if at.tzinfo is None:
        raise InvalidQuery(field, "a time needs an offset (RFC 3339), e.g. 2024-03-01T00:00:00Z")
    return micros(at)


def _base() -> sa.Select[Any]:
    e = t.events.c
    return sa.select(e.seq, e.hash, e.time_us, e.canonical)


Cancels = dict[str, tuple[int, str]]  # target id -> (the cancel's time, the cancel's id)


_kept_cancels: dict[str, tuple[tuple[int, str], Cancels]] = {}


def _cancels(conn: Connection) -> Cancels:
    """Every cancelled event (cancels are few; a join on every event row cost more: `bench
    detect`, year preset, read 2.8 -> 4.1 s with the join). Kept between selects while the
    ledger's latest cancel is the same event (its seq and chain hash: the hash commits to every
    event up to it, so to every cancel): reading them costs a lookup of each cancel's row,
    most of a small select's time (757 cancels, 1 M events: 40 % of a movement's page)."""
    e = t.events.c
    last = conn.scalar(sa.select(sa.func.max(e.seq)).where(e.type == "cancel"))
    if not last:
        return {}
    key = (int(last), str(conn.scalar(sa.select(e.hash).where(e.seq == last))))
    where = conn.engine.url.render_as_string()
    kept = _kept_cancels.get(where)
    if kept is not None and kept[0] == key:
        return kept[1]
    by, c = t.events.alias("by"), t.cancellations.c
    q = sa.select(c.target, by.c.time_us, by.c.id).join(by, by.c.id == c.event_id)
    found = {row.target: (row.time_us, row.id) for row in conn.execute(q)}
    if len(_kept_cancels) >= 8:  # a few databases at once (tests, tools); not a leak
        _kept_cancels.clear()
    _kept_cancels[where] = (key, found)
    return found


def _moved(*, batch: str | None = None, tax_id: str | None = None) -> sa.Select[Any]:
    """The seqs of the events that moved `batch`, or stock from or to `tax_id`."""
    m = t.moves.c
    q = sa.select(m.event_seq)
    if batch is not None:
        q = q.where(m.batch == batch)
    if tax_id is not None:
        q = q.where(sa.or_(m.source == tax_id, m.target == tax_id))
    return q


def _query(f: _Filters, limit: int | None) -> sa.Select[Any]:
    e = t.events.c
    by = {"seq": (e.seq,), "time": (e.time_us, e.seq), "newest": (e.seq.desc(),)}[f.order]
    q = _base().order_by(*by)
    if f.after_seq:
        q = q.where(e.seq > f.after_seq)
    if f.types is not None:
        q = q.where(e.type.in_(sorted(f.types)))
    if f.start_us is not None:
        q = q.where(e.time_us >= f.start_us)
    if f.end_us is not None:
        q = q.where(e.time_us < f.end_us)
    if f.batch is not None or f.holder is not None:  # one subquery for both: with a batch,
        # the batch's index finds the holder's moves (there is no index by holder alone)
        q = q.where(e.seq.in_(_moved(batch=f.batch, tax_id=f.holder)))
    # `type || ''`: the type filter must not take the (type, time) index, or SQLite walks every
    # seal ping instead of the few rows the ref index finds (a movement's pings at 1 M events:
    # 782 -> 1 ms)
    kind = e.type.op("||")("")
    if f.mrns is not None:
        q = q.where(e.ref.in_(f.mrns), kind.in_(MRN_TYPES))
    if f.seals is not None:
        q = q.where(e.ref.in_(f.seals), kind == "seal_ping")
    if f.party is not None:
        q = _party(q, f.party, f.party_upto)
    if not f.include_cancelled:
        q = q.where(e.id.not_in(sa.select(t.cancellations.c.target)))
    return q.limit(limit) if limit is not None else q


def _party(q: sa.Select[Any], tax_id: str, upto: int = 0) -> sa.Select[Any]:
    """Up to `upto`, the party index (exact); after it (or without it), candidates in SQL
    (moved its stock, or its tax id appears in the stored JSON), tested exactly on the typed
    event in `_keep`."""
    e, m = t.events.c, t.moves.c
    text = msgspec.json.encode(tax_id).decode()[1:-1]
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    mentioned = e.canonical.like(f"%{escaped}%", escape="\\")
    if not upto:
        moved = e.seq.in_(_moved(tax_id=tax_id))
        return q.add_columns(moved.label("moved")).where(sa.or_(moved, mentioned))
    holder = sa.or_(m.source == tax_id, m.target == tax_id)
    indexed = partyindex.matching(tax_id)
    tail_moved = sa.select(m.event_seq).where(m.event_seq > upto, holder)
    candidates = sa.union(indexed, tail_moved, sa.select(e.seq).where(e.seq > upto, mentioned))
    # up to the cursor every candidate came from the index: exact, with no second list of
    # the party's seqs to build (42,000 for the busiest holder at 1 M events)
    exact = sa.or_(e.seq <= upto, e.seq.in_(tail_moved))
    # one IN over the union: the database walks the matching seqs, not the whole ledger
    return q.add_columns(exact.label("moved")).where(e.seq.in_(candidates))


def _keep(row: Any, party: str | None) -> bool:
    if party is None or row.moved:
        return True
    return party in parties(decode_event(row.canonical))


def _stored(row: Any, cancels: Cancels, extra_for: frozenset[str] = frozenset()) -> StoredEvent:
    event = decode_event(row.canonical)
    extra = decode_object(row.canonical) if extra_for and _tag(event) in extra_for else None
    cancel = cancels.get(event.id)
    return StoredEvent(
        row.seq,
        row.hash,
        event,
        cancel is not None,
        row.time_us,
        cancel[0] if cancel else None,
        cancel[1] if cancel else None,
        extra,
    )


def _tag(event: ev.Event) -> str:
    return str(event.__struct_config__.tag)

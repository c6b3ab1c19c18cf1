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
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keruen.errors import InvalidQuery
from keruen.ledger.parties import parties
from keruen.ledger.rules import micros
from keruen.model import events as ev
from keruen.store import schema as t
from keruen.store.db import chunks

__all__ = ["GENESIS", "Head", "LedgerReader", "StoredEvent", "decode_event"]

GENESIS = "0" * 64

# the event types whose `key` column is their MRN, and receipts, whose `ref` may be one
MRN_TYPES = ("transit_open", "checkpoint", "transit_close", "incident", "receipt")

_decoder = msgspec.json.Decoder(ev.AnyEvent)


def decode_event(canonical: str | bytes) -> ev.AnyEvent:
    """A stored event's canonical JSON as its typed struct: the one place this happens."""
    return _decoder.decode(canonical)


class Head(NamedTuple):
    """The ledger's last event: its sequence number and chain hash (0 and GENESIS if none)."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the ledger stores it: its place in the chain and whether it still stands.

    `cancelled_us` is the time of the cancel that withdrew it (None while it stands), so a
    reader can ask whether it stood as of an earlier time."""

    seq: int
    hash: str
    event: ev.AnyEvent
    cancelled: bool
    time_us: int
    cancelled_us: int | None = None

    @property
    def type(self) -> str:
        return str(self.event.__struct_config__.tag)

    def stands_at(self, now_us: int) -> bool:
        """Whether the event had not been cancelled as of `now_us`."""
        return self.cancelled_us is None or self.cancelled_us > now_us


@dataclass(frozen=True, slots=True)
class _Filters:
    types: frozenset[str] | None
    start_us: int | None
    end_us: int | None
    batch: str | None
    holder: str | None
    mrn: str | None
    party: str | None
    after_seq: int
    include_cancelled: bool


class LedgerReader:
    """Typed reads of the event log over a SQLAlchemy Connection or Engine.

    Given an Engine, each read opens its own connection (a generator holds it until it is
    exhausted or closed); given a Connection, reads run in that connection's transaction."""

    def __init__(self, bind: Connection | Engine, *, yield_per: int = 5_000) -> None:
        self._bind = bind
        self._yield_per = yield_per

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        if isinstance(self._bind, Connection):
            yield self._bind
            return
        with self._bind.connect() as conn:
            yield conn

    def head(self) -> Head:
        c = t.events.c
        with self._connect() as conn:
            row = conn.execute(sa.select(c.seq, c.hash).order_by(c.seq.desc()).limit(1)).first()
        return Head(row.seq, row.hash) if row else Head(0, GENESIS)

    def select_events(
        self,
        *,
        types: Collection[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        batch: str | None = None,
        holder: str | None = None,
        mrn: str | None = None,
        party: str | None = None,
        after_seq: int = 0,
        limit: int | None = None,
        include_cancelled: bool = True,
    ) -> Iterator[StoredEvent]:
        """Stored events in ascending seq, streamed, every given filter applying (AND).

        `start`/`end` bound the event time, [start, end); `batch`: events that moved the
        batch (creations, transfers, transforms using or making it, exits, the cancels that
        reversed them); `holder`: events that moved stock from or to that tax id; `mrn`: a
        transit's declaration, checkpoints, close, incidents and the receipts naming it;
        `party`: events naming the tax id in any role, or moving its stock."""
        if limit is not None and limit < 0:
            raise InvalidQuery("limit", "must not be negative")
        filters = _filters(
            types, start, end, batch, holder, mrn, party, after_seq, include_cancelled
        )
        rows = self._rows(_query(filters, None if party else limit))
        found = (_stored(row) for row in rows if _keep(row, filters.party))
        return islice(found, limit) if limit is not None else found

    def events_by_id(self, ids: Collection[str]) -> dict[str, StoredEvent]:
        """The stored events among `ids` (unknown ids are simply absent)."""
        found: dict[str, StoredEvent] = {}
        for part in chunks(sorted(set(ids))):
            q = _base().where(t.events.c.id.in_(part))
            for row in self._rows(q):
                stored = _stored(row)
                found[stored.event.id] = stored
        return found

    def latest_time_us(self) -> int:
        """The time of the latest-dated event (0 on an empty ledger)."""
        with self._connect() as conn:
            return int(conn.scalar(sa.select(sa.func.max(t.events.c.time_us))) or 0)

    def count_by_type(self) -> dict[str, int]:
        """How many events of each type the ledger holds."""
        c = t.events.c
        q = sa.select(c.type, sa.func.count().label("n")).group_by(c.type).order_by(c.type)
        with self._connect() as conn:
            return {row.type: row.n for row in conn.execute(q)}

    def _rows(self, q: sa.Select[Any]) -> Iterator[Any]:
        with self._connect() as conn:
            yield from conn.execution_options(yield_per=self._yield_per).execute(q)


def _filters(
    types: Collection[str] | None,
    start: datetime | None,
    end: datetime | None,
    batch: str | None,
    holder: str | None,
    mrn: str | None,
    party: str | None,
    after_seq: int,
    include_cancelled: bool,
) -> _Filters:
    if types is not None:
        unknown = sorted(set(types) - ev.EVENT_TYPES.keys())
        if unknown:
            raise InvalidQuery("types", f"unknown event type {unknown[0]!r}")
    return _Filters(
        frozenset(types) if types is not None else None,
        _micros("start", start),
        _micros("end", end),
        batch,
        holder,
        mrn,
        party,
        after_seq,
        include_cancelled,
    )


def _micros(field: str, at: datetime | None) -> int | None:
    if at is None:
        return None
    if at.tzinfo is None:
        raise InvalidQuery(field, "a time needs an offset (RFC 3339), e.g. 2024-03-01T00:00:00Z")
    return micros(at)


_cancel = t.events.alias("cancel_event")


def _base() -> sa.Select[Any]:
    e, c = t.events.c, t.cancellations.c
    return (
        sa.select(
            e.seq,
            e.hash,
            e.time_us,
            e.canonical,
            c.target.label("cancelled"),
            _cancel.c.time_us.label("cancelled_us"),
        )
        .select_from(
            t.events.outerjoin(t.cancellations, c.target == e.id).outerjoin(
                _cancel, _cancel.c.id == c.event_id
            )
        )
        .order_by(e.seq)
    )


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
    q = _base()
    if f.after_seq:
        q = q.where(e.seq > f.after_seq)
    if f.types is not None:
        q = q.where(e.type.in_(sorted(f.types)))
    if f.start_us is not None:
        q = q.where(e.time_us >= f.start_us)
    if f.end_us is not None:
        q = q.where(e.time_us < f.end_us)
    if f.batch is not None:
        q = q.where(e.seq.in_(_moved(batch=f.batch)))
    if f.holder is not None:
        q = q.where(e.seq.in_(_moved(tax_id=f.holder)))
    if f.mrn is not None:
        q = q.where(e.key == f.mrn, e.type.in_(MRN_TYPES))
    if f.party is not None:
        q = _party(q, f.party)
    if not f.include_cancelled:
        q = q.where(t.cancellations.c.target.is_(None))
    return q.limit(limit) if limit is not None else q


def _party(q: sa.Select[Any], tax_id: str) -> sa.Select[Any]:
    """Candidates in SQL (moved its stock, or its tax id appears in the stored JSON); the
    exact test on the typed event follows in `_keep`."""
    e = t.events.c
    moved = e.seq.in_(_moved(tax_id=tax_id))
    text = msgspec.json.encode(tax_id).decode()[1:-1]
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    mentioned = e.canonical.like(f"%{escaped}%", escape="\\")
    return q.add_columns(moved.label("moved")).where(sa.or_(moved, mentioned))


def _keep(row: Any, party: str | None) -> bool:
    if party is None or row.moved:
        return True
    return party in parties(decode_event(row.canonical))


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(
        row.seq,
        row.hash,
        decode_event(row.canonical),
        row.cancelled is not None,
        row.time_us,
        row.cancelled_us,
    )

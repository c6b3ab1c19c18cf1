"""The ledger's storage adapter: snapshot a chunk's state, write its outcome, verify the chain."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.errors import RejectedEvent
from keruen.ledger.overlay import Accepted, Known, Overlay, cancel_needs, held_needs, needs
from keruen.ledger.rules import Batch
from keruen.model import events as ev
from keruen.settings import get_settings
from keruen.store import schema as t
from keruen.store import tidy
from keruen.store.chain import GENESIS, REJECTION_COLUMNS, chain_hash, raw_digest, row_digest, text
from keruen.store.db import lock_writer
from keruen.store.driver import bulk_insert, bulk_write, fetch_in, fetch_newest_and_in
from keruen.store.native import LIGHT, filters, native

_K = TypeVar("_K")
LIGHT_TYPES: frozenset[type] = frozenset(LIGHT.values())


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int | None
    event_id: str | None
    error: RejectedEvent
    raw: bytes

    def __post_init__(self) -> None:
        # a report keeps every rejection: its traceback would keep the frames that judged its
        # chunk alive (the whole chunk's events, the overlay) until the ingest ends
        self.error.__traceback__ = None

    def public(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "id": self.event_id,
            "field": self.error.field,
            "reason": str(self.error),
        }


def event_key(e: ev.Event) -> str | None:
    """The identifier an event is most often looked up by."""
    name = _KEY_FIELD.get(type(e))
    if name is None:
        name = _KEY_FIELD[type(e)] = _key_field(e)
    if name:
        value = getattr(e, name, None)
        return value if isinstance(value, str) else None
    if isinstance(e, ev.Transform):
        return e.outputs[0].batch
    return None


def _key_field(e: ev.Event) -> str:
    """The first of the key fields an event type has ("" for none), once per type."""
    return next((n for n in ("batch", "mrn", "seal", "ref", "target") if hasattr(e, n)), "")


_KEY_FIELD: dict[type, str] = {}
_REF_TYPES = frozenset(t.REF_TYPES)


def event_ref(e: ev.Event) -> str | None:
    """The key of an event looked up by it (`events.ref`, indexed), else None."""
    return event_key(e) if e.__struct_config__.tag in _REF_TYPES else None


# --- reading the state a chunk needs -------------------------------------------------------


def state_at(conn: Connection) -> Overlay:
    """A state with nothing read yet, at the ledger's head. Over a ledger with no event, batch
    or balance (a first load) it is `whole`, and with the native judge it keeps the `seen`
    filter of the ids accepted on it."""
    overlay = Overlay(head=head(conn))
    if not conn.exec_driver_sql(_ANYTHING).scalar():
        overlay.whole = True
        overlay.seen = bytearray(SEEN_BYTES) if filters() else None
    return overlay


_ANYTHING = (
    "SELECT EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM batches)"
    " OR EXISTS (SELECT 1 FROM balances)"
)
# the filter of accepted ids: 16 MiB, 13 bits an id at 10 M ids (4 bits in one 64-byte block
# an id: about 0.5 % of new ids still looked up); more ids raise that share, never an answer
SEEN_BYTES = 1 << 24


def locked_snapshot(
    conn: Connection, events: Sequence[ev.Event], previous: Overlay | None = None
) -> Overlay:
    """Take the writer's lock, then read the state `events` can touch: carried over from the
    previous chunk while the ledger head has not moved since (no other writer came in
    between), the rest read in bulk. On PostgreSQL the lock and the head are one round trip
    (`locked_head`), or with nothing carried the head comes with the lookups' statement."""
    if previous is None and conn.dialect.name == "postgresql":
        lock_writer(conn)
        return _snapshot_at_once(conn, events)
    at = locked_head(conn)
    overlay = previous.carry_over() if previous and previous.head == at else Overlay()
    overlay.head = at
    prefetch(conn, overlay, events)
    return overlay


def _snapshot_at_once(conn: Connection, events: Sequence[ev.Event]) -> Overlay:
    """`snapshot` with nothing carried over, on PostgreSQL: the head and what `events` name
    (events, their cancellations, batches, balances, past holdings) in one statement, then
    only what cancelled events touch beyond that (the API's groups: 3 round trips -> 1)."""
    batch_ids, balance_keys, ids = needs(events)
    held = held_needs(events)
    at, known, cancelled, batches, balances, holdings = fetch_newest_and_in(
        conn,
        (t.events, ("seq", "hash"), "seq"),
        [
            (t.events, ("id", "digest", "canonical"), ("id",), ((i,) for i in ids)),
            (t.cancellations, ("target",), ("target",), ((i,) for i in ids)),
            (t.batches, [c.name for c in t.batches.columns], ("batch",), ((b,) for b in batch_ids)),
            (t.balances, ("holder", "batch", "quantity"), ("holder", "batch"), balance_keys),
            (t.moves, ("target", "batch"), ("target", "batch"), held),
        ],
    )
    overlay = Overlay()
    overlay.head = (int(at[0][0] or 0), str(at[0][1])) if at else (0, GENESIS)
    for event_id, digest, canonical in known:
        assert event_id is not None and digest is not None and canonical is not None
        overlay.known[event_id] = Known(digest, canonical.encode())
    overlay.cancelled_ids.update(str(target) for (target,) in cancelled)
    overlay.batches.update(dict.fromkeys(batch_ids))
    for batch, hs, unit, description, origin, created_us, created_by in batches:
        assert batch is not None and hs is not None and unit is not None
        assert description is not None and origin is not None
        assert created_us is not None and created_by is not None
        overlay.batches[batch] = Batch(
            batch, hs, unit, description, origin, int(created_us), created_by
        )
    overlay.balances.update(dict.fromkeys(balance_keys, Decimal(0)))
    for holder, batch, quantity in balances:
        overlay.balances[(str(holder), str(batch))] = stored_quantity(quantity)
    overlay.held_keys.update((str(target), str(batch)) for target, batch in holdings)
    more_batches, more_balances = cancel_needs(overlay, events)
    _load_batches(conn, overlay, {b for b in more_batches if b not in overlay.batches})
    _load_balances(conn, overlay, {k for k in more_balances if k not in overlay.balances})
    _stamp_clock(overlay)
    return overlay


def prefetch(
    conn: Connection,
    overlay: Overlay,
    events: Sequence[ev.Event],
    pending: Sequence[Mapping[str, Known]] = (),
) -> None:
    """Read in bulk what `events` can touch and `overlay` does not hold yet; events accepted
    but not in the ledger yet (`pending`: the split's chunks in flight) from there."""
    ids, batch_ids, balance_keys, rest = missing(overlay, events)
    for accepted in pending:  # only the few ids a chunk shares with them are copied
        for event_id in [i for i in ids if i in accepted]:
            overlay.known[event_id] = accepted[event_id]
            ids.discard(event_id)
    _load_events(conn, overlay, ids)
    # cancels and adjusts are among `rest`: the native judge takes neither
    more_batches, more_balances = cancel_needs(overlay, rest)
    batch_ids.update(_lacking(more_batches, overlay.batches))
    balance_keys.update(_lacking(more_balances, overlay.balances))
    _load_batches(conn, overlay, batch_ids)
    _load_balances(conn, overlay, balance_keys)
    _load_held(conn, overlay, held_needs(rest))
    _stamp_clock(overlay)


def missing(
    overlay: Overlay, events: Sequence[ev.Event]
) -> tuple[set[str], set[str], set[tuple[str, str]], Sequence[ev.Event]]:
    """The event ids, batches and balances `events` name (`needs`) that `overlay` does not
    hold yet and the ledger may: over a `whole` state only ids, and with a `seen` filter only
    the ids it may hold; and the events the native judge does not take (all of them without
    it), which alone can be cancels and adjusts."""
    ids, batches, balances, rest = _named(overlay, events)
    fast = native()
    if overlay.seen is not None and fast is not None:  # the others were never accepted
        ids = fast.maybe_seen(overlay.seen, ids)
    return ids, batches, balances, rest


def _named(
    overlay: Overlay, events: Sequence[ev.Event]
) -> tuple[set[str], set[str], set[tuple[str, str]], Sequence[ev.Event]]:
    """What `events` name and `overlay` lacks (over a `whole` state, which holds every batch
    and balance the ledger holds, only ids), and the events left to Python's `needs`. The
    native judge takes the kinds it judges (in the profile of the sequential path, `needs`
    and the comprehensions after it were 6 % of the main process; in the split's child, the
    ids of a whole state's chunk read in Python were 1.0 µs an event)."""
    fast, rest = native(), events
    ids: set[str] = set()
    batches: set[str] = set()
    balances: set[tuple[str, str]] = set()
    if fast is not None:
        ids, batches, balances, rest = fast.missing(
            events, overlay.known, overlay.batches, overlay.balances, overlay.whole
        )
        # `needs` would name nothing for a light event (`judge.rebuilt`); the native judge
        # takes every one, whose fields are all of the types it reads
        if any(type(e) in LIGHT_TYPES for e in rest):
            raise TypeError("a light event was left to Python's needs")
    more_batches, more_balances, more_ids = needs(rest)
    ids.update(_lacking(more_ids, overlay.known))
    if not overlay.whole:
        batches.update(_lacking(more_batches, overlay.batches))
        balances.update(_lacking(more_balances, overlay.balances))
    return ids, batches, balances, rest


def _lacking(keys: set[_K], held: Mapping[_K, object]) -> Iterator[_K]:
    # a comprehension, not `set - dict.keys()`: that walks the whole carried dict (up to
    # CARRY_LIMIT entries) for every chunk, where this tests only what the chunk names
    return (k for k in keys if k not in held)


def _stamp_clock(overlay: Overlay) -> None:
    """The latest event time the chunk may carry: now plus the future tolerance."""
    tolerance = get_settings().future_tolerance_s * 1_000_000
    overlay.not_after_us = micros_now() + tolerance
    overlay.future_tolerance_us = tolerance


def _load_held(conn: Connection, overlay: Overlay, keys: set[tuple[str, str]]) -> None:
    """Which holders ever received the batches they adjust (a move to them exists). Not
    skipped for a holder whose balance is not zero now: the chunk may move it all on before
    its adjust (the sequential way then refused that adjust as from a holder who never held
    the batch)."""
    keys = {k for k in keys if k not in overlay.held_keys}
    overlay.held_keys.update(
        (target, batch)
        for target, batch in fetch_in(conn, t.moves, ("target", "batch"), ("target", "batch"), keys)
    )


def _load_events(conn: Connection, overlay: Overlay, ids: set[str]) -> None:
    """The stored events among `ids`, and which of those are cancelled. Only the ones read
    here: what the overlay knew before (the split's chunks in flight, accepted after the
    ledger's head) cannot have a cancellation in the ledger, and looking up their 40,000 ids
    a chunk was 4 % of the split's judge."""
    # sorted here as str (0.2 µs an id): `fetch_in` sorting 1-tuples took 0.6, and sorts a
    # sorted list in one pass
    rows = fetch_in(
        conn, t.events, ("id", "digest", "canonical"), ("id",), [(i,) for i in sorted(ids)]
    )
    found: list[tuple[str]] = []
    for event_id, digest, canonical in rows:
        overlay.known[event_id] = Known(digest, canonical.encode())
        found.append((event_id,))
    overlay.cancelled_ids.update(
        r[0] for r in fetch_in(conn, t.cancellations, ("target",), ("target",), found)
    )


def _load_batches(conn: Connection, overlay: Overlay, ids: set[str]) -> None:
    columns = [c.name for c in t.batches.columns]
    overlay.batches.update(dict.fromkeys(ids))
    if overlay.whole:  # none of them is stored
        return
    for row in fetch_in(conn, t.batches, columns, ("batch",), ((i,) for i in ids)):
        overlay.batches[row[0]] = Batch(*row)


def _load_balances(conn: Connection, overlay: Overlay, keys: set[tuple[str, str]]) -> None:
    overlay.balances.update(dict.fromkeys(keys, Decimal(0)))
    if overlay.whole:  # none of them is stored
        return
    if made := overlay.made:  # a batch made on this state has all its balances in it
        keys = {k for k in keys if k[1] not in made}
    for holder, batch, quantity in fetch_in(
        conn, t.balances, ("holder", "batch", "quantity"), ("holder", "batch"), keys
    ):
        overlay.balances[(holder, batch)] = stored_quantity(quantity)


_ONE = Decimal(1)


def stored_quantity(value: Any) -> Decimal:
    """A stored balance as the events' own decimals make it: PostgreSQL's NUMERIC(38, 12) pads
    the scale ('5.000000000000'), and a balance read so and then emptied would say '0E-12' in
    a rejection's reason where the same balance carried in memory from the events says '0'
    (SQLite keeps the text as written)."""
    d = Decimal(str(value))
    return d.quantize(_ONE) if d == d.to_integral_value() else d.normalize()


# --- writing a chunk's outcome --------------------------------------------------------------


def head(conn: Connection) -> tuple[int, str]:
    """(seq, hash) of the newest event; (0, GENESIS) when there is none."""
    return _head(list(conn.exec_driver_sql(_HEAD)))


def locked_head(conn: Connection) -> tuple[int, str]:
    """Take the writer's lock, then read the head (`head`): one round trip on PostgreSQL,
    where with the judging thread busy each returning statement may wait for the GIL."""
    return _head(lock_writer(conn, _HEAD))


_HEAD = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"


def _head(rows: Sequence[tuple[Any, ...]]) -> tuple[int, str]:
    return (int(rows[0][0]), str(rows[0][1])) if rows else (0, GENESIS)


EVENT_COLUMNS = (
    "seq",
    "id",
    "type",
    "time_us",
    "key",
    "canonical",
    "digest",
    "prev_hash",
    "hash",
    "received_us",
    "ref",
)
MOVE_COLUMNS = (
    "event_seq",
    "n",
    "batch",
    "source",
    "target",
    "quantity",
    "kind",
    "time_us",
    "event_id",
)
BATCH_COLUMNS = ("batch", "hs", "unit", "description", "origin", "created_us", "event_id")
LINK_COLUMNS = ("input", "output", "event_seq")


@dataclass(slots=True)
class ChunkRows:
    """The rows a chunk's accepted events add (and the balances they change), ready for the
    driver; `before` and `after` are the ledger heads (seq, hash) they extend and make."""

    before: tuple[int, str]
    after: tuple[int, str]
    events: list[tuple[Any, ...]] = field(default_factory=list)
    batches: list[tuple[Any, ...]] = field(default_factory=list)
    moves: list[tuple[Any, ...]] = field(default_factory=list)
    links: list[tuple[Any, ...]] = field(default_factory=list)
    cancels: list[tuple[Any, ...]] = field(default_factory=list)
    balances: list[tuple[Any, ...]] = field(default_factory=list)  # (holder, batch, quantity)
    emptied: list[tuple[Any, ...]] = field(default_factory=list)  # (holder, batch): now zero


def add_rows(out: ChunkRows, a: Accepted, now: int) -> None:
    """The rows of one accepted event, chained on from `out.after`, which moves on."""
    seq, prev = out.after
    seq += 1
    e, effect = a.parsed.event, a.effect
    h = chain_hash(prev, a.parsed.digest)
    at_us = a.time_us
    tag = e.__struct_config__.tag
    key = event_key(e)
    out.events.append(
        (
            seq,
            e.id,
            tag,
            at_us,
            key,
            a.parsed.canonical.decode(),
            a.parsed.digest,
            prev,
            h,
            now,
            key if tag in _REF_TYPES else None,
        )
    )
    out.moves.extend(
        (seq, n, m.batch, m.source, m.target, m.quantity, m.kind, at_us, e.id)
        for n, m in enumerate(effect.moves)
    )
    out.batches.extend(
        (b.batch, b.hs, b.unit, b.description, b.origin, b.created_us, b.event_id)
        for b in effect.new_batches
    )
    out.links.extend((i, o, seq) for i, o in effect.links)
    if effect.cancels:
        out.cancels.append((effect.cancels, e.id))
    out.after = (seq, h)


def finish_rows(out: ChunkRows, overlay: Overlay) -> None:
    """The balances the chunk changed (written, or deleted at zero); the overlay's head is
    then the chunk's last event."""
    # in key order: each B-tree page is visited once, in order, not at random
    fast = native()
    if fast is not None:  # the same loop in C (2 -> 0.3 µs per event)
        fast.finish(overlay.touched, out.balances, out.emptied)
    else:
        touched = overlay.touched
        for h_, b_ in sorted(touched):
            q = touched[(h_, b_)]
            if q != 0:
                out.balances.append((h_, b_, q))
            else:
                out.emptied.append((h_, b_))
    overlay.head = out.after


def insert(conn: Connection, r: ChunkRows) -> None:
    """Insert a chunk's rows (in the caller's transaction; one statement on PostgreSQL)."""
    tidy.balances_changed(conn, len(r.balances) + len(r.emptied))
    tidy.events_written(conn, len(r.events))
    bulk_write(
        conn,
        [
            (t.events, EVENT_COLUMNS, r.events, ()),
            (t.batches, BATCH_COLUMNS, r.batches, ()),
            (t.moves, MOVE_COLUMNS, r.moves, ()),
            (t.links, LINK_COLUMNS, r.links, ()),
            (t.cancellations, ("target", "event_id"), r.cancels, ()),
            (t.balances, ("holder", "batch", "quantity"), r.balances, BALANCE_KEY),
        ],
        [(t.balances, BALANCE_KEY, r.emptied)],
    )


BALANCE_KEY = ("holder", "batch")


def write_rejections(
    conn: Connection, rejected: Sequence[Rejection], source: str, now: int | None = None
) -> None:
    """Store rejections, chained; a line already stored as rejected (same source, line number
    and content: a file ingested again) is not logged a second time."""
    source = text(source[:200])
    fresh = _not_yet_stored(conn, rejected, source)
    if not fresh:
        return
    now = now or micros_now()
    prev = rejections_head(conn)[1]
    rows = []
    for r, digest in fresh:
        values = (
            now,
            source,
            r.line,
            None if r.event_id is None else text(r.event_id),
            type(r.error).__name__,
            text(r.error.field[:200]),
            text(r.error.reason),
            text(r.raw.decode("utf-8", errors="backslashreplace")),
            digest,
        )
        prev = chain_hash(prev, row_digest(values))
        rows.append((*values, prev))
    bulk_insert(conn, t.rejections, (*REJECTION_COLUMNS, "hash"), rows)


def _not_yet_stored(
    conn: Connection, rejected: Sequence[Rejection], source: str
) -> list[tuple[Rejection, str]]:
    with_digest = [(r, raw_digest(r.raw)) for r in rejected]
    digests = {(d,) for _, d in with_digest}
    stored = {
        (line, digest)
        for src, line, digest in fetch_in(
            conn, t.rejections, ("source", "line", "digest"), ("digest",), digests
        )
        if src == source
    }
    fresh = []
    for r, d in with_digest:
        if (r.line, d) not in stored:
            stored.add((r.line, d))
            fresh.append((r, d))
    return fresh


def rejections_head(conn: Connection) -> tuple[int, str]:
    """(id, hash) of the newest rejection; (0, GENESIS) when there is none."""
    r = t.rejections.c
    row = conn.execute(sa.select(r.id, r.hash).order_by(r.id.desc()).limit(1)).first()
    return (row.id, row.hash) if row else (0, GENESIS)


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
    for row in conn.execute(q.execution_options(yield_per=10_000)):
        digest = hashlib.sha256(row.canonical.encode()).hexdigest()
        if row.seq != expected_seq:
            yield ChainBreak(row.seq, row.id, f"event number {expected_seq} is missing")
            return
        if digest != row.digest:
            yield ChainBreak(row.seq, row.id, "stored content does not match its digest")
            return
        if row.prev_hash != prev or chain_hash(prev, digest) != row.hash:
            yield ChainBreak(
                row.seq, row.id, "hash chain broken: the event or its predecessor was altered"
            )
            return
        prev = row.hash
        expected_seq += 1
        yield row.seq

"""Read models over the ledger, as typed results: stock, batch history, trace back and
forward, rejections, counts. JSON only at the edges (`msgspec.to_builtins`, in the CLI and
the API); `keruen.store.port.LedgerReader` is how callers reach them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
import sqlalchemy as sa
from msgspec import Struct, field
from sqlalchemy.engine import Connection

from keruen.errors import NotFound
from keruen.model import events as ev
from keruen.store import schema as t
from keruen.store.codec import decode_event, time_of
from keruen.store.db import chunks
from keruen.store.schema import plain

# What each event type is to a trace: where goods come from ("origin"), a change of holder
# ("hop"), a lineage step ("lineage"), where they leave ("exit"), a correction of what is held
# ("stock"), a withdrawal ("reversal"), or nothing (transit events and receipts move no stock).
TRACE_ROLE: dict[str, str | None] = {
    "import": "origin",
    "arrival": "origin",
    "transfer": "hop",
    "transform": "lineage",
    "dispatch": "exit",
    "export": "exit",
    "write_off": "exit",
    "adjust": "stock",
    "cancel": "reversal",
    "transit_open": None,
    "seal_ping": None,
    "checkpoint": None,
    "transit_close": None,
    "incident": None,
    "receipt": None,
}
ORIGIN_TYPES = tuple(k for k, v in TRACE_ROLE.items() if v == "origin")
OUT_KINDS = tuple(k for k, v in TRACE_ROLE.items() if v == "exit")


class Result(Struct, kw_only=True):
    """Base of the read models: typed, turned into JSON by `msgspec.to_builtins` at the edge."""


class StockLine(Result):
    batch: str
    hs: str
    quantity: Decimal
    unit: str
    description: str


class BatchInfo(Result):
    batch: str
    hs: str
    unit: str
    description: str
    origin: str
    event_id: str
    created: datetime


class HistoryEntry(Result):
    seq: int
    id: str
    type: str
    time: datetime
    from_: str | None = field(name="from")
    to: str | None
    quantity: Decimal
    cancelled_by: str | None


class History(Result):
    batch: BatchInfo
    events: list[HistoryEntry]


class Hop(Result):
    """A change of holder of a batch (a transfer that stands)."""

    event: str
    time: datetime
    from_: str | None = field(name="from")
    to: str | None
    quantity: Decimal


class Created(Result):
    event: str
    time: datetime
    type: str  # import, arrival, transform; "cancelled" when the creating event was
    holder: str | None


class BackNode(Result):
    batch: str
    hs: str
    unit: str
    description: str
    origin: str
    created_by: Created
    holders: list[Hop]
    inputs: list[str]


class Origin(Result):
    batch: str
    type: str
    time: datetime
    importer: str | None
    seller: ev.Party | None
    post: str | None
    document: ev.Document | None
    quantity: Decimal | None
    origin: str


class TraceBack(Result):
    batch: str
    origins: list[Origin]
    batches: list[BackNode]


class Holding(Result):
    holder: str
    quantity: Decimal


class Exit(Result, omit_defaults=True):
    """Quantity leaving a batch: an exit from the circuit, or consumed by a transform."""

    event: str
    type: str
    time: datetime
    holder: str | None
    quantity: Decimal
    buyer: ev.Party | None = None
    post: str | None = None


class ForwardNode(Result):
    batch: str
    holders: list[Hop]
    held_by: list[Holding]
    exits: list[Exit]
    outputs: list[str]


class TraceForward(Result):
    batch: str
    totals: dict[str, Decimal]
    batches: list[ForwardNode]


class Rejection(Result):
    id: int
    received: datetime
    source: str
    line: int | None
    event_id: str | None
    error: str
    field: str
    reason: str
    raw: str


class Summary(Result):
    events: dict[str, int]
    batches: int
    holders: int
    rejections: int


# Statements are built once, with parameters: building one costs more than running it on
# an indexed lookup (trace back p50 2.0 -> 0.4 ms on a 200 k-event ledger).
_STOCK = (
    sa.select(t.balances.c.batch, t.balances.c.quantity, t.batches)
    .join_from(t.balances, t.batches, t.balances.c.batch == t.batches.c.batch)
    .where(t.balances.c.holder == sa.bindparam("holder"))
    .order_by(t.balances.c.batch)
)
_BATCH = sa.select(t.batches).where(t.batches.c.batch == sa.bindparam("batch"))
_INFOS = sa.select(t.batches).where(t.batches.c.batch.in_(sa.bindparam("batches", expanding=True)))


def stock(conn: Connection, holder: str) -> list[StockLine]:
    """A holder's virtual warehouse: what it holds of each batch."""
    return [
        StockLine(
            batch=r.batch,
            hs=r.hs,
            quantity=r.quantity,
            unit=r.unit,
            description=r.description,
        )
        for r in conn.execute(_STOCK, {"holder": holder})
    ]


def _info(row: Any) -> BatchInfo:
    return BatchInfo(
        batch=row.batch,
        hs=row.hs,
        unit=row.unit,
        description=row.description,
        origin=row.origin,
        event_id=row.event_id,
        created=time_of(row.created_us),
    )


def batch_info(conn: Connection, batch: str) -> BatchInfo:
    row = conn.execute(_BATCH, {"batch": batch}).first()
    if row is None:
        raise NotFound(f"batch {batch!r} does not exist")
    return _info(row)


def batch_ids(conn: Connection) -> list[str]:
    return list(conn.scalars(sa.select(t.batches.c.batch)))


def batches(conn: Connection, ids: Collection[str]) -> dict[str, BatchInfo]:
    """What the ledger knows of each of these batches (unknown ones are absent)."""
    found: dict[str, BatchInfo] = {}
    for part in chunks(sorted(set(ids))):
        found.update((r.batch, _info(r)) for r in conn.execute(_INFOS, {"batches": part}))
    return found


def _type_of(kind: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """The type of the event that made a move, from the move's kind: the same name, but for a
    transform's two kinds (a cancel's reversals, kind `cancel`, are not asked for here)."""
    return sa.case((kind.in_(("transform_in", "transform_out")), "transform"), else_=kind)


def _history_query() -> sa.Select[Any]:
    """From `ix_moves_batch` alone: a move carries its event's seq, id, time and (by its kind)
    type."""
    m, c = t.moves.c, t.cancellations.c
    return (
        sa.select(
            m.event_seq.label("seq"),
            m.event_id.label("id"),
            _type_of(m.kind).label("type"),
            m.time_us,
            m.source,
            m.target,
            m.quantity,
            m.kind,
            c.event_id.label("cancelled_by"),
        )
        .select_from(t.moves)
        .outerjoin(t.cancellations, c.target == m.event_id)
        .where(m.batch == sa.bindparam("batch"))
        .order_by(m.event_seq, m.n)
    )


_HISTORY = _history_query()


def history(conn: Connection, batch: str) -> History:
    """Every event that moved the batch, in ledger order, cancelled ones marked."""
    info = batch_info(conn, batch)
    entries = [
        HistoryEntry(
            seq=r.seq,
            id=r.id,
            type=r.type,
            time=time_of(r.time_us),
            from_=r.source,
            to=r.target,
            quantity=r.quantity,
            cancelled_by=r.cancelled_by,
        )
        for r in conn.execute(_HISTORY, {"batch": batch})
    ]
    return History(batch=info, events=entries)


def _walk(back: bool, max_depth: int) -> sa.CTE:
    """Transform edges (input, output) reachable from the batch `:batch`, recursively."""
    lk = t.links.c
    near = lk.output if back else lk.input
    start = sa.select(lk.input, lk.output, sa.literal(1).label("depth")).where(
        near == sa.bindparam("batch")
    )
    walk = start.cte("walk", recursive=True)
    step = (
        sa.select(lk.input, lk.output, (walk.c.depth + 1).label("depth"))
        .join_from(t.links, walk, near == (walk.c.input if back else walk.c.output))
        .where(walk.c.depth < sa.bindparam("max_depth", max_depth))
    )
    return walk.union(step)


# The parts of a trace's rows: a batch it reaches, with what `batches` holds of it; a
# transform edge between two of them; a move of one of them by an event that stands.
_NODE, _EDGE, _MOVE = 0, 1, 2
_MOVE_COLUMNS = ("event_seq", "n", "source", "target", "quantity", "kind", "time_us", "event_id")
_INFO_COLUMNS = ("hs", "unit", "description", "origin", "created_us")


def _nulls(table: sa.Table, names: Sequence[str]) -> list[sa.ColumnElement[Any]]:
    """Typed NULLs in the place of these columns: each part of the UNION has every column."""
    return [sa.cast(sa.null(), table.c[n].type).label(n) for n in names]


def _trace_query(back: bool, shown: tuple[str, ...], max_depth: int = 50) -> sa.CompoundSelect[Any]:
    """A whole trace in one statement (one round trip): the batches reached from `:batch`
    through transforms (back: their inputs; forward: their outputs), the edges between them,
    and their moves that stand (not cancelled, not reversals) in ledger order, read from
    `ix_moves_batch` (covering), plus the event's JSON for the moves of kinds `shown`:
    those whose parties the trace shows (two random reads each, the events' key and the row:
    the costliest part of a cold trace)."""
    m, e, c, b = t.moves.c, t.events.c, t.cancellations.c, t.batches.c
    walk = _walk(back, max_depth)
    edges = sa.select(walk.c.input, walk.c.output).distinct().cte("edges")
    node, far = (edges.c.output, edges.c.input) if back else (edges.c.input, edges.c.output)
    reached = sa.union(
        sa.select(sa.bindparam("batch", type_=b.batch.type).label("batch")),
        sa.select(far.label("batch")),
    ).cte("reached")
    canonical = sa.select(e.canonical).where(e.seq == m.event_seq).scalar_subquery()
    # back shows what `batches` holds of every batch reached, forward only that the batch is
    # known: a random read fewer a batch for a cold forward trace (the key, which carries the
    # row on PostgreSQL since 0020, as the table is its key on SQLite)
    known = [] if back else [reached.c.batch == sa.bindparam("batch")]
    linked = sa.cast(sa.null(), b.batch.type).label("linked")
    moves = (
        sa.select(
            sa.literal(_MOVE).label("part"),
            m.batch,
            *(m[n] for n in _MOVE_COLUMNS),
            _type_of(m.kind).label("type"),
            sa.case((m.kind.in_(shown), canonical), else_=None).label("canonical"),
            linked,
            *_nulls(t.batches, _INFO_COLUMNS),
            sa.cast(sa.null(), b.event_id.type).label("created_by"),
        )
        .select_from(reached)
        .join(t.moves, m.batch == reached.c.batch)
        .outerjoin(t.cancellations, c.target == m.event_id)
        .where(c.target.is_(None), m.kind != "cancel")
    )
    no_move = [*_nulls(t.moves, _MOVE_COLUMNS), *_nulls(t.events, ("type", "canonical"))]
    links = sa.select(
        sa.literal(_EDGE),
        node,
        *no_move,
        far,
        *_nulls(t.batches, _INFO_COLUMNS),
        sa.cast(sa.null(), b.event_id.type),
    )
    nodes = (
        sa.select(sa.literal(_NODE), reached.c.batch, *no_move, sa.cast(sa.null(), b.batch.type))
        .add_columns(*(b[n] for n in _INFO_COLUMNS), b.event_id)
        .select_from(reached)
        .outerjoin(t.batches, sa.and_(b.batch == reached.c.batch, *known))
    )
    return sa.union_all(moves, links, nodes).order_by("part", "event_seq", "n")


# back shows the importer or sender of each origin, forward the buyer of each dispatch or
# export: each direction reads only its own events' JSON
_TRACE = {
    True: _trace_query(True, ORIGIN_TYPES),
    False: _trace_query(False, ("dispatch", "export")),
}


class _Reached(Struct):
    """What one trace statement returns: what `batches` holds of the batches reached (back)
    or of the batch asked for (forward) if the ledger knows it, the transform edges (reached
    batch, its input back or output forward) and the moves that stand of each reached batch."""

    infos: dict[str, Any]
    edges: list[tuple[str, str]]
    moves: dict[str, list[Any]]


def _reached(conn: Connection, batch: str, back: bool, max_depth: int) -> _Reached:
    found = _Reached(infos={}, edges=[], moves={})
    rows = conn.execute(_TRACE[back], {"batch": batch, "max_depth": max_depth})
    for row in rows:  # ordered by part: the nodes first
        if row.part == _MOVE:
            found.moves[row.batch].append(row)
        elif row.part == _EDGE:
            found.edges.append((row.batch, row.linked))
        else:
            found.moves[row.batch] = []
            if row.created_by is not None:
                found.infos[row.batch] = row
    return found


def _hops(moves: list[Any]) -> list[Hop]:
    return [
        Hop(
            event=mv.event_id,
            time=time_of(mv.time_us),
            from_=mv.source,
            to=mv.target,
            quantity=mv.quantity,
        )
        for mv in moves
        if mv.kind == "transfer"
    ]


def trace_back(conn: Connection, batch: str, max_depth: int = 50) -> TraceBack:
    """From a batch back to the imports and arrivals it came from, with each chain of holders."""
    found = _reached(conn, batch, back=True, max_depth=max_depth)
    if batch not in found.infos:
        raise NotFound(f"batch {batch!r} does not exist")
    names = sorted(found.moves)
    inputs: dict[str, list[str]] = {b: [] for b in names}
    for o, i in found.edges:
        inputs[o].append(i)
    moves = found.moves
    nodes = [_node(found.infos[b], moves[b], inputs[b]) for b in names]
    origins = [_origin(n, moves[n.batch]) for n in nodes if n.created_by.type in ORIGIN_TYPES]
    return TraceBack(batch=batch, origins=origins, batches=nodes)


def _node(info: Any, moves: list[Any], inputs: list[str]) -> BackNode:
    created = next((mv for mv in moves if mv.kind in (*ORIGIN_TYPES, "transform_out")), None)
    return BackNode(
        batch=info.batch,
        hs=info.hs,
        unit=info.unit,
        description=info.description,
        origin=info.origin,
        created_by=Created(
            event=info.created_by,
            time=time_of(info.created_us),
            type=created.type if created else "cancelled",
            holder=created.target if created else None,
        ),
        holders=_hops(moves),
        inputs=sorted(inputs),
    )


def _origin(node: BackNode, moves: list[Any]) -> Origin:
    raw = next((mv.canonical for mv in moves if mv.canonical and mv.source is None), None)
    e = decode_event(raw) if raw else None
    made = e if isinstance(e, ev.Import) else None  # and Arrival
    return Origin(
        batch=node.batch,
        type=node.created_by.type,
        time=node.created_by.time,
        importer=made.holder if made else None,
        seller=made.seller if made else None,
        post=made.post if made else None,
        document=made.document if made else None,
        quantity=made.quantity if made else None,
        origin=node.origin,
    )


def trace_forward(conn: Connection, batch: str, max_depth: int = 50) -> TraceForward:
    """Where a batch's quantities went: current holders, exits, and the batches made from it."""
    found = _reached(conn, batch, back=False, max_depth=max_depth)
    if batch not in found.infos:
        raise NotFound(f"batch {batch!r} does not exist")
    names, moves = sorted(found.moves), found.moves
    outputs: dict[str, list[str]] = {b: [] for b in names}
    for i, o in found.edges:
        outputs[i].append(o)
    nodes = {
        b: ForwardNode(
            batch=b,
            holders=_hops(moves[b]),
            held_by=_held(moves[b]),
            exits=_exits(moves[b]),
            outputs=sorted(outputs[b]),
        )
        for b in names
    }
    return TraceForward(batch=batch, totals=_totals(nodes[batch]), batches=list(nodes.values()))


def _held(moves: list[Any]) -> list[Holding]:
    """Who holds the batch now: the net of the moves that stand, which is what `balances`
    holds (a cancel reverses its target's moves and cannot itself be cancelled), without
    scanning `balances`, whose key begins with the holder."""
    held: dict[str, Decimal] = {}
    for mv in moves:
        if mv.source is not None:
            held[mv.source] = held.get(mv.source, Decimal(0)) - mv.quantity
        if mv.target is not None:
            held[mv.target] = held.get(mv.target, Decimal(0)) + mv.quantity
    return [Holding(holder=h, quantity=plain(q)) for h, q in sorted(held.items()) if q]


def _exits(moves: list[Any]) -> list[Exit]:
    out = []
    for mv in moves:
        if mv.type not in OUT_KINDS and mv.kind != "transform_in":
            continue
        e = decode_event(mv.canonical) if mv.canonical else None
        shipped = e if isinstance(e, ev.Dispatch) else None  # and Export
        out.append(
            Exit(
                event=mv.event_id,
                type=mv.type,
                time=time_of(mv.time_us),
                holder=mv.source,
                quantity=mv.quantity,
                buyer=shipped.buyer if shipped else None,
                post=shipped.post if shipped else None,
            )
        )
    return out


def _totals(node: ForwardNode) -> dict[str, Decimal]:
    """Where the quantity of the batch itself stands: held, dispatched, transformed, ..."""
    totals: dict[str, Decimal] = {"held": sum((h.quantity for h in node.held_by), Decimal(0))}
    for x in node.exits:
        kind = "transformed" if x.type == "transform" else x.type
        totals[kind] = totals.get(kind, Decimal(0)) + x.quantity
    return dict(sorted(totals.items()))


def rejections(
    conn: Connection, limit: int = 50, source: str | None = None, before: int | None = None
) -> list[Rejection]:
    """Newest rejections first; only those submitted under `source` (and older than the
    rejection numbered `before`) when given."""
    r = t.rejections.c
    q = sa.select(t.rejections).order_by(r.id.desc()).limit(limit)
    if source is not None:
        q = q.where(r.source == source)
    if before is not None:
        q = q.where(r.id < before)
    return [
        Rejection(
            id=row.id,
            received=time_of(row.received_us),
            source=row.source,
            line=row.line,
            event_id=row.event_id,
            error=row.error,
            field=row.field,
            reason=row.reason,
            raw=row.raw,
        )
        for row in conn.execute(q)
    ]


def summary(conn: Connection) -> Summary:
    """Ledger counts: aggregates with no party in them."""
    e = t.events.c
    q = sa.select(e.type, sa.func.count().label("n")).group_by(e.type).order_by(e.type)
    count = sa.func.count
    return Summary(
        events={row.type: row.n for row in conn.execute(q)},
        batches=conn.scalar(sa.select(count()).select_from(t.batches)) or 0,
        holders=conn.scalar(sa.select(count(sa.distinct(t.balances.c.holder)))) or 0,
        rejections=conn.scalar(sa.select(count()).select_from(t.rejections)) or 0,
    )


def party_batches(conn: Connection, tax_id: str, names: Collection[str]) -> set[str]:
    """The batches among `names` that `tax_id` is party to: holds now, or is the source or
    target of any of its moves (its whole history, cancelled moves included)."""
    m, b = t.moves.c, t.balances.c
    found: set[str] = set()
    for part in chunks(sorted(set(names))):
        moved = sa.select(m.batch).where(
            m.batch.in_(part), sa.or_(m.source == tax_id, m.target == tax_id)
        )
        held = sa.select(b.batch).where(b.batch.in_(part), b.holder == tax_id)
        found.update(conn.scalars(sa.union(moved, held)))
    return found


def public(result: Any) -> Any:
    """A read model as JSON-ready builtins (decimals and times as strings): for the edges."""
    return msgspec.to_builtins(result)

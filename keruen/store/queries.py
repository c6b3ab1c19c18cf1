"""Read queries over the ledger: stock, batch history, trace back and forward."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.errors import NotFound
from keruen.store import schema as t

OUT_KINDS = ("dispatch", "export", "write_off")


def iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, UTC).isoformat().replace("+00:00", "Z")


def stock(conn: Connection, holder: str) -> list[dict[str, Any]]:
    """A holder's virtual warehouse: what it holds of each batch."""
    b, s = t.batches.c, t.balances.c
    q = (
        sa.select(s.batch, b.hs, s.quantity, b.unit, b.description)
        .join_from(t.balances, t.batches, s.batch == b.batch)
        .where(s.holder == holder)
        .order_by(s.batch)
    )
    return [
        {
            "batch": r.batch,
            "hs": r.hs,
            "quantity": str(r.quantity),
            "unit": r.unit,
            "description": r.description,
        }
        for r in conn.execute(q)
    ]


def batch_info(conn: Connection, batch: str) -> dict[str, Any]:
    row = conn.execute(sa.select(t.batches).where(t.batches.c.batch == batch)).first()
    if row is None:
        raise NotFound(f"batch {batch!r} does not exist")
    info = dict(row._mapping)
    info["created"] = iso(info.pop("created_us"))
    return info


def _live_moves(batches: Sequence[str]) -> sa.Select[Any]:
    """Moves of these batches made by events that stand (not cancelled, not reversals)."""
    m, e, c = t.moves.c, t.events.c, t.cancellations.c
    return (
        sa.select(
            m.batch,
            m.source,
            m.target,
            m.quantity,
            m.kind,
            m.time_us,
            m.event_seq,
            e.id.label("event_id"),
            e.type,
        )
        .join_from(t.moves, t.events, m.event_seq == e.seq)
        .outerjoin(t.cancellations, c.target == e.id)
        .where(m.batch.in_(batches), c.target.is_(None), m.kind != "cancel")
        .order_by(m.event_seq, m.n)
    )


def history(conn: Connection, batch: str) -> dict[str, Any]:
    """Every event that moved the batch, in ledger order, cancelled ones marked."""
    info = batch_info(conn, batch)
    m, e, c = t.moves.c, t.events.c, t.cancellations.c
    q = (
        sa.select(
            e.seq,
            e.id,
            e.type,
            e.time_us,
            m.source,
            m.target,
            m.quantity,
            m.kind,
            c.event_id.label("cancelled_by"),
        )
        .join_from(t.moves, t.events, m.event_seq == e.seq)
        .outerjoin(t.cancellations, c.target == e.id)
        .where(m.batch == batch)
        .order_by(e.seq, m.n)
    )
    entries = [
        {
            "seq": r.seq,
            "id": r.id,
            "type": r.type,
            "time": iso(r.time_us),
            "from": r.source,
            "to": r.target,
            "quantity": str(r.quantity),
            "cancelled_by": r.cancelled_by,
        }
        for r in conn.execute(q)
    ]
    return {"batch": info, "events": entries}


def _holders_chain(moves: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "event": mv.event_id,
            "time": iso(mv.time_us),
            "from": mv.source,
            "to": mv.target,
            "quantity": str(mv.quantity),
        }
        for mv in moves
        if mv.kind == "transfer"
    ]


def _moves_by_batch(conn: Connection, batches: Sequence[str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {b: [] for b in batches}
    for row in conn.execute(_live_moves(batches)):
        out[row.batch].append(row)
    return out


def trace_back(conn: Connection, batch: str, max_depth: int = 50) -> dict[str, Any]:
    """From a batch back to the imports and arrivals it came from, with each chain of holders."""
    batch_info(conn, batch)
    lk = t.links.c
    nodes: dict[str, dict[str, Any]] = {}
    frontier, depth = [batch], 0
    while frontier and depth <= max_depth:
        moves = _moves_by_batch(conn, frontier)
        parents: dict[str, list[str]] = {b: [] for b in frontier}
        for row in conn.execute(sa.select(lk.input, lk.output).where(lk.output.in_(frontier))):
            parents[row.output].append(row.input)
        for b in frontier:
            nodes[b] = _node(conn, b, moves[b], parents[b])
        frontier = sorted({p for ps in parents.values() for p in ps} - nodes.keys())
        depth += 1
    origins = [n for n in nodes.values() if n["created_by"]["type"] in ("import", "arrival")]
    return {
        "batch": batch,
        "origins": [_origin(conn, n) for n in origins],
        "batches": list(nodes.values()),
    }


def _node(conn: Connection, batch: str, moves: list[Any], inputs: list[str]) -> dict[str, Any]:
    info = batch_info(conn, batch)
    created = next((mv for mv in moves if mv.kind in ("import", "arrival", "transform_out")), None)
    return {
        "batch": batch,
        "hs": info["hs"],
        "unit": info["unit"],
        "description": info["description"],
        "origin": info["origin"],
        "created_by": {
            "event": info["event_id"],
            "time": info["created"],
            "type": created.type if created else "cancelled",
            "holder": created.target if created else None,
        },
        "holders": _holders_chain(moves),
        "inputs": sorted(inputs),
    }


def _origin(conn: Connection, node: dict[str, Any]) -> dict[str, Any]:
    raw = conn.scalar(
        sa.select(t.events.c.canonical).where(t.events.c.id == node["created_by"]["event"])
    )
    e = json.loads(raw) if raw else {}
    return {
        "batch": node["batch"],
        "type": node["created_by"]["type"],
        "time": node["created_by"]["time"],
        "importer": e.get("holder"),
        "seller": e.get("seller"),
        "post": e.get("post"),
        "document": e.get("document"),
        "quantity": e.get("quantity"),
        "origin": node["origin"],
    }


def trace_forward(conn: Connection, batch: str, max_depth: int = 50) -> dict[str, Any]:
    """Where a batch's quantities went: current holders, exits, and the batches made from it."""
    batch_info(conn, batch)
    lk, s = t.links.c, t.balances.c
    nodes: dict[str, dict[str, Any]] = {}
    frontier, depth = [batch], 0
    while frontier and depth <= max_depth:
        moves = _moves_by_batch(conn, frontier)
        children: dict[str, list[str]] = {b: [] for b in frontier}
        for row in conn.execute(sa.select(lk.input, lk.output).where(lk.input.in_(frontier))):
            children[row.input].append(row.output)
        held: dict[str, list[dict[str, str]]] = {b: [] for b in frontier}
        q = sa.select(s.holder, s.batch, s.quantity).where(s.batch.in_(frontier))
        for h in conn.execute(q):
            held[h.batch].append({"holder": h.holder, "quantity": str(h.quantity)})
        for b in frontier:
            nodes[b] = {
                "batch": b,
                "holders": _holders_chain(moves[b]),
                "held_by": held[b],
                "exits": _exits(conn, moves[b]),
                "outputs": sorted(children[b]),
            }
        frontier = sorted({c for cs in children.values() for c in cs} - nodes.keys())
        depth += 1
    return {"batch": batch, "totals": _totals(nodes[batch]), "batches": list(nodes.values())}


def _exits(conn: Connection, moves: list[Any]) -> list[dict[str, Any]]:
    out = []
    for mv in moves:
        if mv.type not in OUT_KINDS and mv.kind != "transform_in":
            continue
        entry = {
            "event": mv.event_id,
            "type": mv.type,
            "time": iso(mv.time_us),
            "holder": mv.source,
            "quantity": str(mv.quantity),
        }
        if mv.type in ("dispatch", "export"):
            e = json.loads(
                conn.scalar(sa.select(t.events.c.canonical).where(t.events.c.seq == mv.event_seq))
                or "{}"
            )
            entry.update(buyer=e.get("buyer"), post=e.get("post"))
        out.append(entry)
    return out


def _totals(node: dict[str, Any]) -> dict[str, str]:
    """Where the quantity of the batch itself stands: held, dispatched, transformed, ..."""
    totals: dict[str, Decimal] = {
        "held": sum((Decimal(h["quantity"]) for h in node["held_by"]), Decimal(0))
    }
    for x in node["exits"]:
        kind = "transformed" if x["type"] == "transform" else x["type"]
        totals[kind] = totals.get(kind, Decimal(0)) + Decimal(x["quantity"])
    return {k: str(v) for k, v in sorted(totals.items())}


def rejections(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    r = t.rejections.c
    q = sa.select(t.rejections).order_by(r.id.desc()).limit(limit)
    return [
        {
            "received": iso(row.received_us),
            "source": row.source,
            "line": row.line,
            "event_id": row.event_id,
            "error": row.error,
            "field": row.field,
            "reason": row.reason,
            "raw": row.raw,
        }
        for row in conn.execute(q)
    ]

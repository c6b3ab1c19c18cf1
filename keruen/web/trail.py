"""A batch's trail as a graph drawn on the server: holders as nodes, moves as labelled edges.

Pure (no I/O): built from the typed events the read port returns for the batches shown. A
neighbour batch (an input or an output of a transform) not shown yet is one collapsed node,
linked to expand it; at most `MAX_NODES` nodes are drawn, the rest are counted. Positions are
computed here: a node's column is one past the column of the holder it first received goods
from (events in ledger order), so the drawing reads left to right in time, loops included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import assert_never

from keruen.model import events as ev
from keruen.store.port import StoredEvent

MAX_NODES = 200
COL_W, ROW_H, NODE_W, NODE_H, PAD, TOP = 330, 80, 190, 46, 24, 70


@dataclass(slots=True)
class Node:
    key: str
    kind: str  # holder | foreign | batch (collapsed) | sink
    label: str
    detail: str = ""
    rank: int = 0
    row: int = 0

    @property
    def x(self) -> int:
        return PAD + self.rank * COL_W

    @property
    def y(self) -> int:
        return TOP + self.row * ROW_H


@dataclass(slots=True)
class Edge:
    source: str
    target: str
    kind: str
    batch: str
    event: str
    time: datetime
    quantity: str
    document: str = ""
    cancelled: bool = False
    path: str = ""
    lx: float = 0
    ly: float = 0


@dataclass(slots=True)
class Trail:
    nodes: list[Node]
    edges: list[Edge]
    hidden: int  # nodes over the limit, not drawn
    collapsed: list[str] = field(default_factory=list)  # neighbour batches to expand
    width: int = 0
    height: int = 0


def _doc(d: ev.Document | None) -> str:
    return f"{d.kind} {d.number}" if d else ""


class _Builder:
    def __init__(self, shown: set[str]) -> None:
        self.shown = shown
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []

    def node(self, key: str, kind: str, label: str, detail: str = "") -> str:
        self.nodes.setdefault(key, Node(key, kind, label, detail))
        return key

    def holder(self, tax_id: str) -> str:
        return self.node(tax_id, "holder", tax_id)

    def party(self, p: ev.Party) -> str:
        return self.node(f"{p.country}:{p.tax_id}", "foreign", p.name, f"{p.country} · {p.tax_id}")

    def edge(self, s: StoredEvent, src: str, dst: str, batch: str, qty: Decimal, doc: str) -> None:
        e = s.event
        self.edges.append(Edge(src, dst, s.type, batch, e.id, e.time, str(qty), doc, s.cancelled))

    def add(self, s: StoredEvent) -> None:
        e = s.event
        match e:
            case ev.Import():  # and Arrival
                self.edge(
                    s,
                    self.party(e.seller),
                    self.holder(e.holder),
                    e.batch,
                    e.quantity,
                    _doc(e.document),
                )
            case ev.Transfer():
                self.edge(
                    s,
                    self.holder(e.from_),
                    self.holder(e.to),
                    e.batch,
                    e.quantity,
                    _doc(e.document),
                )
            case ev.Dispatch():
                self.edge(
                    s,
                    self.holder(e.holder),
                    self.party(e.buyer),
                    e.batch,
                    e.quantity,
                    _doc(e.document),
                )
            case ev.WriteOff():
                sink = self.node(f"write_off:{e.reason}", "sink", e.reason)
                self.edge(s, self.holder(e.holder), sink, e.batch, e.quantity, "")
            case ev.Transform():
                self._transform(s, e)
            case ev.Adjust():
                pass  # a correction of a holder's count: no edge between parties
            case (
                ev.TransitOpen()
                | ev.SealPing()
                | ev.Checkpoint()
                | ev.TransitClose()
                | ev.Incident()
                | ev.Receipt()
                | ev.Cancel()
            ):
                pass  # not a move of the batch between parties
            case _:
                assert_never(e)

    def _transform(self, s: StoredEvent, e: ev.Transform) -> None:
        holder = self.holder(e.holder)
        for p in e.inputs:
            if p.batch not in self.shown:
                src = self.node(f"batch:{p.batch}", "batch", p.batch, "input")
                self.edge(s, src, holder, p.batch, p.quantity, "")
        for o in e.outputs:
            if o.batch not in self.shown:
                dst = self.node(f"batch:{o.batch}", "batch", o.batch, o.goods.hs)
                self.edge(s, holder, dst, o.batch, o.quantity, "")


def build(events: Iterable[StoredEvent], shown: Iterable[str], cancelled: bool = False) -> Trail:
    """The trail of the batches `shown` from their events (any order; read in ledger order)."""
    b = _Builder(set(shown))
    seen: set[int] = set()
    for s in sorted(events, key=lambda s: s.seq):
        if s.seq in seen or (s.cancelled and not cancelled):
            continue
        seen.add(s.seq)
        b.add(s)
    return layout(list(b.nodes.values()), b.edges)


def _ranks(nodes: dict[str, Node], edges: list[Edge]) -> list[str]:
    """Columns by first receipt, in ledger order; returns the keys in the order placed."""
    placed: list[str] = []
    for e in edges:
        src, dst = nodes[e.source], nodes[e.target]
        if e.source not in placed:
            src.rank = max(dst.rank - 1, 0) if e.target in placed else 0
            placed.append(e.source)
        if e.target not in placed:
            dst.rank = src.rank + 1
            placed.append(e.target)
    return placed + [k for k in nodes if k not in placed]


def layout(all_nodes: list[Node], edges: list[Edge]) -> Trail:
    """Place at most MAX_NODES nodes in columns and route every edge between drawn nodes."""
    by_key = {n.key: n for n in all_nodes}
    order = _ranks(by_key, edges)
    drawn = {k: by_key[k] for k in order[:MAX_NODES]}
    rows: dict[int, int] = {}
    for n in drawn.values():
        n.row = rows.get(n.rank, 0)
        rows[n.rank] = n.row + 1
    kept = [e for e in edges if e.source in drawn and e.target in drawn]
    _route(drawn, kept)
    width = PAD * 2 + (max((n.rank for n in drawn.values()), default=0)) * COL_W + NODE_W
    height = TOP + PAD + max(rows.values(), default=1) * ROW_H
    collapsed = sorted(n.label for n in drawn.values() if n.kind == "batch")
    return Trail(list(drawn.values()), kept, len(by_key) - len(drawn), collapsed, width, height)


def _route(nodes: dict[str, Node], edges: list[Edge]) -> None:
    """A curve from each edge's source to its target; parallel edges fan out."""
    fan: dict[tuple[str, str], int] = {}
    for e in edges:
        s, t = nodes[e.source], nodes[e.target]
        k = fan[(e.source, e.target)] = fan.get((e.source, e.target), -1) + 1
        x1, y1 = s.x + NODE_W, s.y + NODE_H / 2 + k * 6
        x2, y2 = t.x, t.y + NODE_H / 2 + k * 6
        if t.rank > s.rank:
            mid = (x1 + x2) / 2
            e.path = f"M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
            e.lx, e.ly = mid, (y1 + y2) / 2 - 8 + k * 24
        else:  # back to an earlier column (a loop) or down the same one: an arc above
            a, b = s.x + NODE_W / 2, t.x + NODE_W / 2
            top = min(s.y, t.y) - 36 - 20 * k
            e.path = f"M{a:.0f},{s.y} C{a:.0f},{top:.0f} {b:.0f},{top:.0f} {b:.0f},{t.y}"
            e.lx, e.ly = (a + b) / 2, top + 2

"""The trail graph drawn on the server: every standing move an edge, at most MAX_NODES nodes,
columns that read forward in time, neighbour batches as collapsed nodes. Pure: no database."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from keruen.model import events as ev
from keruen.store.port import StoredEvent
from keruen.web import trail
from tests.factory import A, B, C, import_, transfer, transform

_decode = msgspec.json.Decoder(ev.AnyEvent)


def stored(seq: int, event: dict[str, object], cancelled: bool = False) -> StoredEvent:
    typed = _decode.decode(msgspec.json.encode(event))
    return StoredEvent(seq, "h", typed, cancelled, 0)


BATCH = "55501/010324/0000001/001"


def test_moves_become_edges_and_columns_follow_the_goods() -> None:
    events = [
        stored(1, import_("i", BATCH, holder=A)),
        stored(2, transfer("t1", BATCH, A, B, "40")),
        stored(3, transfer("t2", BATCH, B, C, "10")),
        stored(4, transfer("x", BATCH, A, C, "5"), cancelled=True),
    ]
    g = trail.build(events, [BATCH])
    assert [e.event for e in g.edges] == ["i", "t1", "t2"]  # the cancelled move hidden
    rank = {n.key: n.rank for n in g.nodes}
    assert rank[A] < rank[B] < rank[C]
    assert [e.event for e in trail.build(events, [BATCH], cancelled=True).edges][-1] == "x"
    assert all(e.path.startswith("M") for e in g.edges)


def test_a_transform_shows_its_other_batch_collapsed_until_expanded() -> None:
    out = "55501/010324/0000002/001"
    events = [
        stored(1, import_("i", BATCH, holder=A)),
        stored(2, transform("f", A, [(BATCH, "50")], out, "50")),
    ]
    g = trail.build(events, [BATCH])
    assert g.collapsed == [out]
    assert trail.build(events, [BATCH, out]).collapsed == []


def test_at_most_max_nodes_are_drawn_and_the_rest_counted() -> None:
    n = trail.MAX_NODES + 30
    holders = [f"{100000000000 + i:012d}" for i in range(n)]
    events = [stored(1, import_("i", BATCH, holder=holders[0], qty=str(n)))]
    events += [
        stored(i + 1, transfer(f"t{i}", BATCH, holders[i - 1], holders[i], "1"))
        for i in range(1, n)
    ]
    g = trail.build(events, [BATCH])
    assert len(g.nodes) == trail.MAX_NODES and g.hidden == n + 1 - trail.MAX_NODES
    drawn = {node.key for node in g.nodes}
    assert all(e.source in drawn and e.target in drawn for e in g.edges)
    assert Decimal(g.edges[0].quantity) == n

"""A trace is one statement (`queries._TRACE`); what it returns is what a naive reading of the
tables gives: the links walked in Python to `max_depth`, the moves of every batch reached that
stand, in ledger order. Table-driven over the lineages where a recursive walk or an anti-join
goes wrong (deep chains past the depth limit, transforms with many inputs, two paths to one
ancestor, cancelled events, a batch whose creation was cancelled), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keruen.errors import NotFound
from keruen.ingest import ingest_lines
from keruen.store import queries
from keruen.store import schema as t
from tests import factory as f

Events = list[dict[str, Any]]


def imp(k: int) -> str:
    """An import's batch: its declaration's number."""
    return f"55501/010324/{k:07d}/001"


def chain(depth: int) -> Events:
    """I-1 made into P-1, P-1 into P-2, ... P-{depth}: a lineage `depth` transforms deep."""
    out = [f.import_("e0", imp(1), f.A, "100")]
    for k in range(1, depth + 1):
        src = imp(1) if k == 1 else f"P-{k - 1}"
        out.append(f.transform(f"t{k}", f.A, [(src, "100")], f"P-{k}", "100"))
    return out


def many_inputs(n: int) -> Events:
    """n imports, each half transferred to B, and all of them made into one batch P-1."""
    out: Events = []
    for k in range(n):
        out.append(f.import_(f"i{k}", imp(k), f.A, "10"))
        out.append(f.transfer(f"x{k}", imp(k), f.A, f.B, "5"))
    out.append(f.transform("t", f.B, [(imp(k), "5") for k in range(n)], "P-1", "1"))
    return [*out, f.dispatch("d", "P-1", f.B, "1")]


def diamond() -> Events:
    """Two paths from P-4 back to I-1 (through P-2, and through P-1 directly or by P-3): the
    walk meets the edge I-1 -> P-1 at depths 2 and 3."""
    return [
        f.import_("i1", imp(1), f.A, "100"),
        f.transform("t1", f.A, [(imp(1), "40")], "P-1", "80"),
        f.transform("t2", f.A, [(imp(1), "60")], "P-2", "60"),
        f.transform("t3", f.A, [("P-1", "40"), ("P-2", "60")], "P-3", "1"),
        f.transform("t4", f.A, [("P-3", "1"), ("P-1", "40")], "P-4", "1"),
    ]


def cancelled() -> Events:
    """Cancelled transfer, dispatch and import: their moves and reversals left out."""
    return [
        f.import_("i1", imp(1), f.A, "100"),
        f.import_("i2", imp(2), f.A, "10"),
        f.transfer("x1", imp(1), f.A, f.B, "40"),
        f.transfer("x2", imp(1), f.B, f.C, "10"),
        f.dispatch("d1", imp(1), f.A, "5"),
        f.transform("t1", f.B, [(imp(1), "30")], "P-1", "3"),
        f.dispatch("d2", "P-1", f.B, "1"),
        f.cancel("c1", "x2"),
        f.cancel("c2", "d1"),
        f.cancel("c3", "i2"),
        f.write_off("w1", imp(1), f.A, "1"),
    ]


# (name, events, batch, max_depth)
CASES: list[tuple[str, Callable[[], Events], str, int]] = [
    ("chain 60 from its end, depth 50", lambda: chain(60), "P-60", 50),
    ("chain 60 from its start, depth 50", lambda: chain(60), imp(1), 50),
    ("chain 60 from its middle, depth 3", lambda: chain(60), "P-30", 3),
    ("chain 5, depth 1", lambda: chain(5), "P-5", 1),
    ("40 inputs, from the output", lambda: many_inputs(40), "P-1", 50),
    ("40 inputs, from an input", lambda: many_inputs(40), imp(7), 50),
    ("diamond, from the bottom", diamond, "P-4", 50),
    ("diamond, from the top", diamond, imp(1), 50),
    ("diamond, depth 2", diamond, "P-4", 2),
    ("cancelled events", cancelled, imp(1), 50),
    ("cancelled events, from the output", cancelled, "P-1", 50),
    ("creation cancelled", cancelled, imp(2), 50),
]


def naive(conn: Connection, batch: str, back: bool, max_depth: int) -> dict[str, Any]:
    """The same answer from whole tables: links walked breadth first, moves filtered here."""
    links = conn.execute(sa.select(t.links.c.input, t.links.c.output)).all()
    edges: set[tuple[str, str]] = set()
    frontier, depth = {batch}, 0
    while frontier and depth < max_depth:
        step = {(i, o) for i, o in links if (o if back else i) in frontier}
        frontier = {(i if back else o) for i, o in step}
        edges |= step
        depth += 1
    reached = {batch} | {(i if back else o) for i, o in edges}
    cancelled = set(conn.scalars(sa.select(t.cancellations.c.target)))
    m = t.moves.c
    rows = conn.execute(sa.select(t.moves).where(m.batch.in_(reached)).order_by(m.event_seq, m.n))
    moves = [
        (r.batch, r.event_seq, r.n, r.source, r.target, r.quantity, r.kind, r.time_us, r.event_id)
        for r in rows
        if r.kind != "cancel" and r.event_id not in cancelled
    ]
    known = reached if back else {batch}  # forward asks only whether the batch exists
    infos = conn.execute(sa.select(t.batches).where(t.batches.c.batch.in_(known))).all()
    return {
        "reached": sorted(reached),
        "edges": sorted((o, i) if back else (i, o) for i, o in edges),
        "moves": moves,
        "infos": {r.batch: (r.hs, r.origin, r.created_us, r.event_id) for r in infos},
    }


def one_statement(conn: Connection, batch: str, back: bool, max_depth: int) -> dict[str, Any]:
    found = queries._reached(conn, batch, back, max_depth)
    shown = queries.ORIGIN_TYPES if back else ("dispatch", "export")
    for rows in found.moves.values():
        for r in rows:  # the event's JSON exactly where the trace shows its parties
            assert (r.canonical is not None) == (r.kind in shown), r
    moves = [
        (r.batch, r.event_seq, r.n, r.source, r.target, r.quantity, r.kind, r.time_us, r.event_id)
        for rows in found.moves.values()
        for r in rows
    ]
    return {
        "reached": sorted(found.moves),
        "edges": sorted(found.edges),
        "moves": sorted(moves, key=lambda mv: (mv[1], mv[2])),
        "infos": {b: (r.hs, r.origin, r.created_us, r.created_by) for b, r in found.infos.items()},
    }


@pytest.mark.parametrize(("name", "events", "batch", "max_depth"), CASES, ids=[c[0] for c in CASES])
def test_one_statement_answers_as_the_tables_read_naively(
    engine: Engine, name: str, events: Callable[[], Events], batch: str, max_depth: int
) -> None:
    report = ingest_lines(engine, f.lines(*events()))
    assert report.rejected == 0, (name, report)
    with engine.connect() as conn:
        for back in (True, False):
            got = one_statement(conn, batch, back, max_depth)
            assert got == naive(conn, batch, back, max_depth), (name, back)
            for found in queries._reached(conn, batch, back, max_depth).moves.values():
                seqs = [(r.event_seq, r.n) for r in found]
                assert seqs == sorted(seqs), (name, back)  # each batch's moves in ledger order


def test_the_walk_stops_at_max_depth_and_an_unknown_batch_is_not_found(engine: Engine) -> None:
    ingest_lines(engine, f.lines(*chain(60)))
    with engine.connect() as conn:
        back = queries.trace_back(conn, "P-60")
        assert len(back.batches) == 51 and back.origins == []  # I-1 is 60 deep
        assert [o.batch for o in queries.trace_back(conn, "P-60", max_depth=60).origins] == [imp(1)]
        assert len(queries.trace_forward(conn, imp(1), max_depth=5).batches) == 6
        for fn in (queries.trace_back, queries.trace_forward):
            with pytest.raises(NotFound):
                fn(conn, "P-61")

"""Invariants over random sequences of valid and invalid events (Hypothesis)."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from keruen.errors import RejectedEvent
from keruen.ingest import ingest_lines
from keruen.ledger.overlay import Overlay
from keruen.ledger.rules import Move
from keruen.model.validate import parse
from keruen.store import db, queries
from keruen.store import ledger as store
from keruen.store import schema as t
from tests import factory as f

HOLDERS = [f.A, f.B, f.C, f.D]
IMPORTS = [f"55501/010324/000000{i}/001" for i in range(1, 4)]
OUTPUTS = ["P-1", "P-2"]
BATCHES = IMPORTS + OUTPUTS
START = datetime.fromisoformat("2024-03-01T08:00:00+05:00")

holder = st.sampled_from(HOLDERS)
batch = st.sampled_from(BATCHES)
qty = st.sampled_from(["1", "2.5", "10", "40", "100"])

ops = st.one_of(
    st.tuples(st.just("import"), st.sampled_from(IMPORTS), holder, qty),
    st.tuples(st.just("transfer"), batch, holder, holder, qty),
    st.tuples(st.just("dispatch"), batch, holder, qty),
    st.tuples(st.just("write_off"), batch, holder, qty),
    st.tuples(st.just("adjust"), batch, holder, st.sampled_from(["-5", "3", "-1.5"])),
    st.tuples(st.just("transform"), batch, holder, qty, st.sampled_from(OUTPUTS)),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("garbage"), st.binary(max_size=20)),
)


def build(i: int, op: tuple[Any, ...]) -> bytes:
    eid, when = f"e{i}", (START + timedelta(minutes=i)).isoformat()
    kind, *args = op
    match kind:
        case "import":
            e = f.import_(eid, args[0], args[1], args[2])
        case "transfer":
            e = f.transfer(eid, args[0], args[1], args[2], args[3])
        case "dispatch":
            e = f.dispatch(eid, args[0], args[1], args[2])
        case "write_off":
            e = f.write_off(eid, args[0], args[1], args[2])
        case "adjust":
            e = f.adjust(eid, args[0], args[1], args[2])
        case "transform":
            e = f.transform(eid, args[1], [(args[0], args[2])], args[3], "1")
        case "cancel":
            e = f.cancel(eid, f"e{args[0]}")
        case _:
            return bytes(args[0])
    return f.line(e | {"time": when})


def created_minus_removed(moves: list[Move]) -> Decimal:
    made = sum((m.quantity for m in moves if m.source is None), Decimal(0))
    gone = sum((m.quantity for m in moves if m.target is None), Decimal(0))
    return made - gone


@settings(max_examples=300, deadline=None)
@given(st.lists(ops, max_size=40))
def test_balances_never_negative_and_quantity_is_only_made_by_creation(seq: list[Any]) -> None:
    overlay, moves = Overlay(), []
    for i, op in enumerate(seq):
        try:
            accepted = overlay.admit(parse(build(i, op)))
        except RejectedEvent:
            continue
        if accepted:
            moves.extend(accepted.effect.moves)
            kinds = {m.kind for m in accepted.effect.moves if m.source is None}
            assert kinds <= {"import", "adjust", "transform_out", "cancel"}
        assert all(q >= 0 for q in overlay.balances.values())
    assert sum(overlay.balances.values(), Decimal(0)) == created_minus_removed(moves)


def balances(engine: sa.Engine) -> dict[tuple[str, str], Decimal]:
    with engine.connect() as conn:
        return {(r.holder, r.batch): r.quantity for r in conn.execute(sa.select(t.balances))}


def held_in_traces(engine: sa.Engine) -> dict[tuple[str, str], Decimal]:
    """Who holds what according to trace forward (computed from the moves that stand)."""
    held: dict[tuple[str, str], Decimal] = {}
    with engine.connect() as conn:
        for b in conn.scalars(sa.select(t.batches.c.batch)):
            node = queries.public(queries.trace_forward(conn, b))["batches"][0]
            assert node["batch"] == b
            held.update(((h["holder"], b), Decimal(h["quantity"])) for h in node["held_by"])
    return held


def chain(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.select(t.events.c.hash).order_by(t.events.c.seq)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, max_size=30), st.integers(1, 7))
@example(
    [
        ("import", IMPORTS[0], f.A, "100"),
        ("transfer", IMPORTS[0], f.A, f.B, "40"),
        ("transform", IMPORTS[0], f.B, "10", OUTPUTS[0]),
        ("dispatch", IMPORTS[0], f.B, "2.5"),
        ("cancel", 1),
    ],
    2,
)
def test_replaying_accepted_events_gives_same_balances_and_chain(
    seq: list[Any], chunk: int
) -> None:
    lines = [build(i, op) for i, op in enumerate(seq)]
    with tempfile.TemporaryDirectory() as tmp:
        first, second = db.engine(f"{tmp}/a.db"), db.engine(f"{tmp}/b.db")
        db.migrate(first)
        db.migrate(second)
        report = ingest_lines(first, lines, chunk_size=chunk)
        assert report.accepted + report.rejected + report.duplicates == sum(
            1 for x in lines if x.strip()
        )
        with first.connect() as conn:
            accepted = [
                c.encode()
                for c in conn.scalars(sa.select(t.events.c.canonical).order_by(t.events.c.seq))
            ]
            assert not [b for b in store.verify(conn) if isinstance(b, store.ChainBreak)]
        replay = ingest_lines(second, accepted, chunk_size=5)
        assert (replay.accepted, replay.rejected) == (report.accepted, 0)
        assert balances(first) == balances(second)
        assert chain(first) == chain(second)
        assert held_in_traces(first) == balances(first)
        first.dispose()
        second.dispose()

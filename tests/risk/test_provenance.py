"""Provenance: FIFO lots carry their chain of holders through transfers and transforms."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from keruen.risk.detectors.phantom import phantom_share
from keruen.risk.provenance import holders, trace
from tests import factory as f
from tests.risk.helpers import ledger_of

B1 = "55501/010324/0000001/001"
B2 = "55501/010324/0000002/001"


def test_a_chain_of_transfers_is_the_path_of_the_dispatched_lot() -> None:
    ledger = ledger_of(
        f.import_("i1", B1, holder=f.A, qty="100"),
        f.transfer("t1", B1, f.A, f.B, "60", day=2),
        f.transfer("t2", B1, f.B, f.C, "60", day=3),
        f.dispatch("d1", B1, f.C, "50", day=4),
    )
    lots = trace(ledger).of("d1")
    assert [lot.quantity for lot in lots] == [50.0]
    assert holders(lots[0].path) == [f.A, f.B, f.C]
    assert [h.event_id for h in lots[0].path] == ["i1", "t1", "t2"]


def test_oldest_stock_leaves_first_and_a_lot_is_split() -> None:
    ledger = ledger_of(
        f.import_("i1", B1, holder=f.A, qty="10"),
        f.transfer("t1", B1, f.A, f.B, "4", day=2),
        f.adjust("a1", B1, f.B, "6", day=3),
        f.dispatch("d1", B1, f.B, "7", day=4),
    )
    lots = trace(ledger).of("d1")
    assert [(lot.root.kind, lot.quantity) for lot in lots] == [("import", 4.0), ("adjust", 3.0)]
    assert phantom_share(lots) == 3 / 7


def test_transform_outputs_keep_the_paths_of_their_inputs() -> None:
    ledger = ledger_of(
        f.import_("i1", B1, holder=f.A, qty="100"),
        f.import_("i2", B2, holder=f.A, qty="50", hs="940360"),
        f.transform("x1", f.A, [(B1, "100"), (B2, "50")], "OUT-1", "10"),
        f.dispatch("d1", "OUT-1", f.A, "10"),
    )
    lots = trace(ledger).of("d1")
    assert {lot.root.event_id for lot in lots} == {"i1", "i2"}
    assert sum(lot.quantity for lot in lots) == 10.0
    assert all(lot.path[-1].kind == "transform" for lot in lots)
    assert ledger.ancestors("OUT-1") == ["OUT-1", B1, B2]


moves = st.lists(
    st.tuples(
        st.sampled_from([f.A, f.B, f.C]), st.sampled_from([f.A, f.B, f.C]), st.integers(1, 40)
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(moves)
def test_stock_is_conserved_whatever_the_transfers(steps: list[tuple[str, str, int]]) -> None:
    """Lots held plus lots gone equal what entered, per holder as the ledger counts it."""
    events = [f.import_("i1", B1, holder=f.A, qty="100")]
    held: dict[str, int] = defaultdict(int, {f.A: 100})
    for n, (src, dst, q) in enumerate(steps):
        if src != dst and held[src] >= q:
            events.append(f.transfer(f"t{n}", B1, src, dst, str(q), day=2))
            held[src] -= q
            held[dst] += q
    prov = trace(ledger_of(*events))
    for holder, q in held.items():
        lots = prov.stock[holder, B1]
        assert Decimal(str(sum(lot.quantity for lot in lots))) == q
        assert all(holders(lot.path)[-1] == holder for lot in lots)

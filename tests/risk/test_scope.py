"""The pre-check reads the batch's lineage and a few facts (`keruen.risk.scope`), not the whole
ledger: its answers must equal the judgement over the whole ledger, on a simulated economy and
on stories made to reach the edges (transforms, cancels, past times, buyers seen before)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from keruen.bench.detect import simulate
from keruen.ingest import ingest_lines
from keruen.model import events as ev
from keruen.risk import service, store
from keruen.risk.config import load
from keruen.risk.errors import BadInput
from keruen.risk.model import micros_of
from keruen.risk.precheck import PLANNED, Plan, Verdict, holdings, judge
from keruen.risk.sources import buyer_hits, load_facts
from keruen.screening import screen_ledger
from keruen.screening.loaders import ofac_demo
from keruen.screening.store import ensure_builtin, save
from keruen.store import db
from tests import factory as f

RU = ev.Party(name="OOO Romashka", country="RU", tax_id="7701234567")
KG_NEW = ev.Party(name="Ala-Too Trade", country="KG", tax_id="01501202400123")
NAME_ONLY = ev.Party(name="Polotsk Steklovolokno", country="BY")


READ: dict[Any, Any] = {}


def whole(
    eng: Engine,
    batch: str,
    quantity: Decimal,
    buyer: ev.Party,
    holder: str | None = None,
    at_us: int | None = None,
) -> tuple[Plan, Verdict]:
    """The pre-check as it was: the whole ledger read, judged with every standing alert."""
    config = load()
    with eng.connect() as conn:
        now = at_us if at_us is not None else store.latest_us(conn)
        if (eng.url, now) not in READ:  # one whole read per ledger and time
            ledger = store.load_ledger(conn, now)
            READ.clear()
            READ[eng.url, now] = ledger, load_facts(conn, now, ledger), store.all_alerts(conn)
        ledger, facts, standing = READ[eng.url, now]
        hits = buyer_hits(conn, buyer, PLANNED)
    held = holdings(ledger, batch)
    holder = holder or max(held, key=lambda h: held[h])
    if held.get(holder, 0.0) < float(quantity):
        raise BadInput("quantity", "not held")
    plan = Plan(batch, quantity, holder, buyer, max(now, ledger.latest_us))
    return plan, judge(ledger, plan, facts, config, standing, hits)


def same(eng: Engine, batch: str, qty: str, buyer: ev.Party, **kw: Any) -> Verdict:
    expected = whole(eng, batch, Decimal(qty), buyer, **kw)
    found = service.precheck(eng, batch, Decimal(qty), buyer, **kw)
    assert found == expected, (batch, buyer, kw)
    return found[1]


@pytest.fixture(scope="module")
def economy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, list[Any]]:
    where: Path = tmp_path_factory.mktemp("scope")
    events = simulate(4, "small", where)
    eng = db.ready(str(where / "k.db"))
    with events.open("rb") as fh:
        assert ingest_lines(eng, fh).rejected == 0
    with eng.begin() as conn:
        ensure_builtin(conn)
        save(conn, ofac_demo())
    screen_ledger(eng)
    service.detect(eng)
    with eng.connect() as conn:  # who received what, when: a pre-check as of that moment
        got = store.LedgerReader(conn).select_events(types=("import", "arrival", "transfer"))
        held = [
            (getattr(s.event, "to", None) or getattr(s.event, "holder", None), s.event, s.time_us)
            for s in got
            if not s.cancelled
        ]
    return eng, held


def test_the_lineage_answers_as_the_whole_ledger_on_a_simulated_economy(
    economy: tuple[Engine, list[Any]],
) -> None:
    eng, held = economy
    assert len(held) >= 20
    with eng.connect() as conn:  # buyers that bought before, with and without a tax id
        reader = store.LedgerReader(conn)
        outs = [s.event for s in reader.select_events(types=("dispatch", "export"), limit=400)]
    buyers = list({o.buyer.key: o.buyer for o in outs if isinstance(o, ev.Dispatch)}.values())
    kg = [b for b in buyers if b.country in ("KG", "AM")][:2]
    lanes = set()
    for i, (holder, e, time_us) in enumerate(held[:: max(1, len(held) // 25)]):
        for buyer in (RU, KG_NEW, NAME_ONLY, *kg, buyers[i % len(buyers)]):
            found = same(eng, e.batch, "0.001", buyer, holder=holder, at_us=time_us)
            lanes.add(found.lane)
    assert len(lanes) >= 2, lanes  # the sample reaches more than one lane


B1 = "55501/010324/0000001/001"
B2 = "55501/010324/0000002/001"
B3 = "55501/010324/0000003/001"
MADE = "55501/010324/0000009/001"


def _transform(id_: str, holder: str, day: int) -> dict[str, Any]:
    return {
        "type": "transform",
        "id": id_,
        "time": f.t(day),
        "holder": holder,
        "inputs": [{"batch": B1, "quantity": "20"}, {"batch": B2, "quantity": "10"}],
        "outputs": [
            {
                "batch": MADE,
                "goods": {"hs": "847130", "description": "kits", "unit": "PCE", "origin": "KZ"},
                "quantity": "5",
            }
        ],
    }


def _ingest(eng: Engine, *events: dict[str, Any]) -> None:
    assert ingest_lines(eng, f.lines(*events)).rejected == 0


def test_made_from_batches_receipts_cancels_and_past_times(engine: Engine) -> None:
    receipt = {
        "type": "receipt",
        "id": "r1",
        "time": f.t(6),
        "ref": "d1",
        "quantity": "10",
        "country": "RU",
        "document": {"kind": "CMR", "number": "r1"},
    }
    cancel = {"type": "cancel", "id": "x1", "time": f.t(12), "target": "t2", "reason": "annulled"}
    _ingest(
        engine,
        f.import_("i1", B1, holder=f.A, qty="100"),
        f.import_("i2", B2, holder=f.A, qty="100", hs="940360"),
        f.import_("i3", B3, holder=f.B, qty="100", hs="940360"),
        f.dispatch("d1", B3, f.B, "10", day=4),
        receipt,
        f.transfer("t1", B1, f.A, f.B, "30", day=5),
        _transform("m1", f.A, 7),
        f.transfer("t2", MADE, f.A, f.B, "3", day=8),
        f.dispatch("d2", B3, f.B, "90", day=9),
        cancel,
    )
    service.detect(engine)
    for buyer in (RU, KG_NEW, NAME_ONLY):
        same(engine, MADE, "2", buyer)  # made from B1 (high priority) and B2
        same(engine, MADE, "2", buyer, at_us=micros_of(f.t(10)))  # before the cancel: B holds 3
        same(engine, B3, "5", buyer, at_us=micros_of(f.t(8)))  # d1 received and clean
        same(engine, B1, "5", buyer, holder=f.B)
    red = same(engine, MADE, "2", RU)
    assert red.lane == "red" and any("made from" in r for r in red.reasons), red.reasons
    plan, _ = service.precheck(engine, MADE, Decimal(3), RU, at_us=micros_of(f.t(10)))
    assert plan.holder == f.B  # the transfer stood then
    with pytest.raises(BadInput, match="nobody holds"):  # all of B3 dispatched by then
        service.precheck(engine, B3, Decimal(1), RU, at_us=micros_of(f.t(9, 12)))


def test_a_conduit_buyer_that_bought_before_is_no_front_sign(engine: Engine) -> None:
    old = {"name": "Old Bishkek Buyer", "country": "KG", "tax_id": "01501201000999"}
    by_name = {"name": "Old Osh Buyer", "country": "KG"}
    kg_old, kg_name = ev.Party(**old), ev.Party(**by_name)
    _ingest(
        engine,
        f.import_("i1", B1, holder=f.A, qty="100"),
        f.dispatch("d1", B1, f.A, "10", day=2, buyer=old),
        f.dispatch("d2", B1, f.A, "10", day=3, buyer=by_name),
        f.import_("i2", B2, holder=f.A, qty="100"),
    )
    service.detect(engine)
    for buyer in (kg_old, kg_name, KG_NEW):
        same(engine, B2, "5", buyer)
    first = same(engine, B2, "5", KG_NEW)
    again = same(engine, B2, "5", kg_old)
    assert any("never bought" in r for r in first.reasons)
    assert not any("never bought" in r for r in again.reasons)

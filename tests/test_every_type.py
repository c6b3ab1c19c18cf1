"""Every event type has its row here, and each place that dispatches on the type agrees
with it: the stock rules, the parties, the acting party and the batches an event touches
(access), the provenance, the trace, the risk engine's ledger state and its movement subjects,
transit monitoring's tracker, the dashboard's trail, validation and the EPCIS export.

A new event type fails the first test until someone decides, for each of these, what it
means; the exhaustive matches (`assert_never`) make mypy say the same of the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from keruen.api.access import acting_party, batch_refs, created_batches
from keruen.epcis.export import contract_to_epcis
from keruen.ledger.parties import parties
from keruen.ledger.rules import stock_moves
from keruen.model import events as ev
from keruen.model import strict
from keruen.model.validate import _CHECKS, parse
from keruen.risk.provenance import Provenance, _apply
from keruen.risk.scoring import movement_subjects
from keruen.risk.state import Ledger
from keruen.store.port import StoredEvent
from keruen.store.queries import TRACE_ROLE
from keruen.transit.tracker import Tracker
from keruen.web.trail import _Builder
from tests import factory as f
from tests.factory import A, B
from tests.transit import factory as tf

TR = {"tax_id": "TR5550", "name": "Anadolu Ticaret", "country": "TR"}
RU_SELLER = {"tax_id": "7700001", "name": "ООО Поставщик", "country": "RU"}
CARRIER, CONSIGNEE = tf.CARRIER["tax_id"], tf.CONSIGNEE["tax_id"]
SELLER, BUYER = f.CN_SELLER["tax_id"], f.RU_BUYER["tax_id"]
B1 = "55501/010324/0000001/001"


@dataclass(frozen=True)
class Row:
    sample: dict[str, Any]
    moves: list[str]  # ledger.rules.stock_moves: the kinds of its stock moves
    parties: set[str]  # ledger.parties
    acting: str | None  # api.access.acting_party
    touches: int  # api.access.batch_refs: existing batches it takes from or adds to
    creates: int  # api.access.created_batches
    trace: str | None  # store.queries.TRACE_ROLE
    leaves: bool  # risk.provenance: an exit that takes lots
    state: set[str]  # risk.state.Ledger: the indexes it lands in beside `events`
    subjects: bool  # risk.scoring.movement_subjects: a movement that carries risk
    tracker: set[str]  # transit.tracker.Tracker.feed, alone in a fresh tracker
    trail: int  # web.trail: edges drawn between parties
    epcis: bool  # epcis.export.contract_to_epcis: has an EPCIS form (a cancel: with its target)


STOCK_ONLY: dict[str, Any] = {"state": set(), "subjects": False, "tracker": set()}
TRANSIT: dict[str, Any] = {"moves": [], "touches": 0, "creates": 0, "leaves": False, "trail": 0}

ROWS: dict[str, Row] = {
    "import": Row(
        sample=f.import_("e", B1, A),
        moves=["import"],
        parties={A, SELLER},
        acting=A,
        touches=0,
        creates=1,
        trace="origin",
        leaves=False,
        state={"goods", "created_by"},
        subjects=False,
        tracker=set(),
        trail=1,
        epcis=True,
    ),
    "arrival": Row(
        sample={**f.import_("e", B1, A), "type": "arrival", "seller": RU_SELLER},
        moves=["arrival"],
        parties={A, "7700001"},
        acting=A,
        touches=0,
        creates=1,
        trace="origin",
        leaves=False,
        state={"goods", "created_by"},
        subjects=False,
        tracker=set(),
        trail=1,
        epcis=True,
    ),
    "transfer": Row(
        sample=f.transfer("e", "B1", A, B, "1"),
        moves=["transfer"],
        parties={A, B},
        acting=A,
        touches=1,
        creates=0,
        trace="hop",
        leaves=False,
        trail=1,
        epcis=True,
        **STOCK_ONLY,
    ),
    "transform": Row(
        sample=f.transform("e", A, [("B1", "1")], "P", "1"),
        moves=["transform_in", "transform_out"],
        parties={A},
        acting=A,
        touches=1,
        creates=1,
        trace="lineage",
        leaves=False,
        state={"goods", "created_by", "inputs"},
        subjects=False,
        tracker=set(),
        trail=2,
        epcis=True,
    ),
    "dispatch": Row(
        sample=f.dispatch("e", "B1", A, "1"),
        moves=["dispatch"],
        parties={A, BUYER},
        acting=A,
        touches=1,
        creates=0,
        trace="exit",
        leaves=True,
        state={"outflows"},
        subjects=True,
        tracker={"shipments"},
        trail=1,
        epcis=True,
    ),
    "export": Row(
        sample={**f.dispatch("e", "B1", A, "1", buyer=TR), "type": "export"},
        moves=["export"],
        parties={A, "TR5550"},
        acting=A,
        touches=1,
        creates=0,
        trace="exit",
        leaves=True,
        state={"outflows"},
        subjects=True,
        tracker={"shipments"},
        trail=1,
        epcis=True,
    ),
    "write_off": Row(
        sample=f.write_off("e", "B1", A, "1"),
        moves=["write_off"],
        parties={A},
        acting=A,
        touches=1,
        creates=0,
        trace="exit",
        leaves=True,
        trail=1,
        epcis=True,
        **STOCK_ONLY,
    ),
    "adjust": Row(
        sample=f.adjust("e", "B1", A, "-1"),
        moves=["adjust"],
        parties={A},
        acting=A,
        touches=1,
        creates=0,
        trace="stock",
        leaves=True,
        trail=0,
        epcis=True,
        **STOCK_ONLY,
    ),
    "cancel": Row(
        sample=f.cancel("e", "x"),
        moves=[],
        parties=set(),
        acting=None,
        touches=0,
        creates=0,
        trace="reversal",
        leaves=False,
        trail=0,
        epcis=False,
        **STOCK_ONLY,
    ),
    "transit_open": Row(
        sample=tf.open_("24KZ1", "KZDOS-RAIL", "KZZS1-RAIL", id="e"),
        parties={CARRIER, CONSIGNEE},
        acting=CARRIER,
        trace=None,
        state={"transits"},
        subjects=True,
        tracker={"movements", "open_ids", "bound"},
        epcis=True,
        **TRANSIT,
    ),
    "seal_ping": Row(
        sample=tf.ping("S1", 1, 43.0, 77.0),
        parties=set(),
        acting=None,
        trace=None,
        state=set(),
        subjects=False,
        tracker={"unbound"},
        epcis=True,
        **TRANSIT,
    ),
    "checkpoint": Row(
        sample=tf.checkpoint("24KZ1", 1, "KZKOR-ROAD"),
        parties=set(),
        acting=None,
        trace=None,
        state=set(),
        subjects=False,
        tracker={"orphans"},
        epcis=True,
        **TRANSIT,
    ),
    "transit_close": Row(
        sample=tf.close("24KZ1", 2, "KZZS1-RAIL"),
        parties=set(),
        acting=None,
        trace=None,
        state={"closes"},
        subjects=False,
        tracker={"orphans"},
        epcis=True,
        **TRANSIT,
    ),
    "incident": Row(
        sample=tf.incident("24KZ1", 1, "breakdown", 43.0, 77.0),
        parties=set(),
        acting=None,
        trace=None,
        state=set(),
        subjects=False,
        tracker={"orphans"},
        epcis=True,
        **TRANSIT,
    ),
    "receipt": Row(
        sample=tf.receipt("24KZ1", 3, "DE", mass="1"),
        parties=set(),
        acting=None,
        trace=None,
        state={"receipts"},
        subjects=False,
        tracker=set(),
        epcis=True,
        **TRANSIT,
    ),
}

LEDGER_INDEXES = ("goods", "created_by", "inputs", "receipts", "transits", "closes", "outflows")
TRACKER_STATE = (
    "movements", "bound", "unbound", "cancelled_seals", "open_ids", "shipments", "orphans", "found"
)  # fmt: skip


def test_every_event_type_has_its_row() -> None:
    assert set(ROWS) == set(ev.EVENT_TYPES), "decide what a new event type means, here"
    assert set(TRACE_ROLE) == set(ev.EVENT_TYPES), "keruen.store.queries.TRACE_ROLE"
    twins = strict.STRICT_TYPES  # the fast parse's strict twin of each type: the same checks
    assert set(_CHECKS) == {*ev.EVENT_TYPES.values(), *twins.values()}, "validate._CHECKS"
    assert all(_CHECKS[twins[cls]] is _CHECKS[cls] for cls in ev.EVENT_TYPES.values())


@pytest.mark.parametrize("kind", sorted(ROWS))
def test_each_place_that_dispatches_on_the_type_agrees(kind: str) -> None:
    row = ROWS[kind]
    event = parse(f.line(row.sample)).event
    assert type(event) is ev.EVENT_TYPES[kind]
    assert [m.kind for m in stock_moves(event)] == row.moves
    assert parties(event) == row.parties
    assert acting_party(event) == row.acting
    assert len(batch_refs(event)) == row.touches
    assert len(created_batches(event)) == row.creates
    assert TRACE_ROLE[kind] == row.trace
    prov = Provenance()
    _apply(prov, event, 0)
    assert (event.id in prov.exits) is row.leaves
    ledger = Ledger()
    ledger.add(event)
    assert ledger.events == [event]
    assert {n for n in LEDGER_INDEXES if getattr(ledger, n)} == row.state
    assert bool(movement_subjects(ledger, event)) is row.subjects
    tracker = Tracker()
    tracker.feed(event)
    assert {n for n in TRACKER_STATE if getattr(tracker, n)} == row.tracker
    trail = _Builder(set())
    trail.add(StoredEvent(1, "h", event, False, 0))
    assert len(trail.edges) == row.trail
    assert (contract_to_epcis(event) is not None) is row.epcis

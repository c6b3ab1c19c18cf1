"""Every event type has its row here, and each place that dispatches on the type agrees
with it: the stock rules, the parties, the acting party (access), the provenance, the trace.

A new event type fails the first test until someone decides, for each of these, what it
means; the exhaustive matches (`assert_never`) make mypy say the same of the code.
"""

from __future__ import annotations

from typing import Any

import pytest

from keruen.api.access import acting_party
from keruen.ledger.parties import parties
from keruen.ledger.rules import stock_moves
from keruen.model import events as ev
from keruen.model.validate import parse
from keruen.risk.provenance import Provenance, _apply
from keruen.store.queries import TRACE_ROLE
from tests import factory as f
from tests.factory import A, B
from tests.transit import factory as tf

TR = {"tax_id": "TR5550", "name": "Anadolu Ticaret", "country": "TR"}
RU_SELLER = {"tax_id": "7700001", "name": "ООО Поставщик", "country": "RU"}
CARRIER, CONSIGNEE = tf.CARRIER["tax_id"], tf.CONSIGNEE["tax_id"]
SELLER, BUYER = f.CN_SELLER["tax_id"], f.RU_BUYER["tax_id"]
B1 = "55501/010324/0000001/001"

# type: (sample, stock move kinds, parties, acting party, trace role, leaves provenance)
ROWS: dict[str, tuple[dict[str, Any], list[str], set[str], str | None, str | None, bool]] = {
    "import": (f.import_("e", B1, A), ["import"], {A, SELLER}, A, "origin", False),
    "arrival": (
        {**f.import_("e", B1, A), "type": "arrival", "seller": RU_SELLER},
        ["arrival"],
        {A, "7700001"},
        A,
        "origin",
        False,
    ),
    "transfer": (f.transfer("e", "B1", A, B, "1"), ["transfer"], {A, B}, A, "hop", False),
    "transform": (
        f.transform("e", A, [("B1", "1")], "P", "1"),
        ["transform_in", "transform_out"],
        {A},
        A,
        "lineage",
        False,
    ),
    "dispatch": (f.dispatch("e", "B1", A, "1"), ["dispatch"], {A, BUYER}, A, "exit", True),
    "export": (
        {**f.dispatch("e", "B1", A, "1", buyer=TR), "type": "export"},
        ["export"],
        {A, "TR5550"},
        A,
        "exit",
        True,
    ),
    "write_off": (f.write_off("e", "B1", A, "1"), ["write_off"], {A}, A, "exit", True),
    "adjust": (f.adjust("e", "B1", A, "-1"), ["adjust"], {A}, A, "stock", True),
    "cancel": (f.cancel("e", "x"), [], set(), None, "reversal", False),
    "transit_open": (
        tf.open_("24KZ1", "KZDOS-RAIL", "KZZS1-RAIL", id="e"),
        [],
        {CARRIER, CONSIGNEE},
        CARRIER,
        None,
        False,
    ),
    "seal_ping": (tf.ping("S1", 1, 43.0, 77.0), [], set(), None, None, False),
    "checkpoint": (tf.checkpoint("24KZ1", 1, "KZKOR-ROAD"), [], set(), None, None, False),
    "transit_close": (tf.close("24KZ1", 2, "KZZS1-RAIL"), [], set(), None, None, False),
    "incident": (tf.incident("24KZ1", 1, "breakdown", 43.0, 77.0), [], set(), None, None, False),
    "receipt": (tf.receipt("24KZ1", 3, "DE", mass="1"), [], set(), None, None, False),
}


def test_every_event_type_has_its_row() -> None:
    assert set(ROWS) == set(ev.EVENT_TYPES), "decide what a new event type means, here"
    assert set(TRACE_ROLE) == set(ev.EVENT_TYPES), "keruen.store.queries.TRACE_ROLE"


@pytest.mark.parametrize("kind", sorted(ROWS))
def test_each_place_that_dispatches_on_the_type_agrees(kind: str) -> None:
    sample, moves, named, acting, role, leaves = ROWS[kind]
    event = parse(f.line(sample)).event
    assert type(event) is ev.EVENT_TYPES[kind]
    assert [m.kind for m in stock_moves(event)] == moves
    assert parties(event) == named
    assert acting_party(event) == acting
    assert TRACE_ROLE[kind] == role
    prov = Provenance()
    _apply(prov, event, 0)
    assert (event.id in prov.exits) is leaves

"""One movement replayed from indexed reads gives what the full replay gives for it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from keruen.ingest import ingest_lines
from keruen.transit import bindings, service
from keruen.transit.tables import transit_bindings, transit_cursor
from tests.transit import factory as f
from tests.transit.scenarios import CASES, rail


def ingest(engine: Engine, events: list[dict[str, Any]]) -> None:
    assert ingest_lines(engine, f.lines(events)).rejected == 0


def reused_after_exit() -> list[dict[str, Any]]:
    """M1 exits; its seal S1 then goes on a second transit, M2, far from M1's exit."""
    first = rail()
    end = f.hours_of(first)
    second = [f.open_("M2", "KZHOR-ROAD", "KZZH1-ROAD", h=end + 24, destination_="UZ")]
    second += f.trip("S1", ["KZHOR-ROAD", "KZALA", "KZTAR"], h0=end + 25)
    return first + second


NAMES = {
    "declaration cancelled, its seal keeps reporting",
    "seals replaced by customs on the way",
    "seal bound to a second movement while the first is open",
    "declared to Uzbekistan, drives north and exits to Russia",
}
STORED = [c.events for c in CASES if c.name in NAMES] + [reused_after_exit()]


@pytest.mark.parametrize("refreshed", [False, True])
def test_one_movement_as_in_the_full_replay(engine: Engine, refreshed: bool) -> None:
    events = [e for i, part in enumerate(STORED) for e in f.renamed(part, f"B{i}")]
    ingest(engine, events)
    if refreshed:
        service.refresh(engine)
    with engine.connect() as conn:
        everything = service.findings(conn)
        views = {v.mrn: v for v in service.movements(conn)}
        for mrn in {e["mrn"] for e in events if e["type"] == "transit_open"}:
            one = service.movement(conn, mrn)
            assert one.findings == [x for x in everything if x.mrn == mrn], mrn
            assert one.view == views[mrn]


def test_a_reused_seal_is_not_a_ping_after_exit(engine: Engine) -> None:
    ingest(engine, reused_after_exit())
    service.refresh(engine)
    with engine.connect() as conn:
        m1 = service.movement(conn, "M1")
    assert m1.findings == [] and m1.view.state == "exited"


def test_refresh_is_incremental_and_restarts_for_another_ledger(engine: Engine) -> None:
    events = reused_after_exit()
    ingest(engine, events[:5])
    assert service.refresh(engine) == 1  # M1's seal
    assert service.refresh(engine) == 0
    ingest(engine, events[5:])
    assert service.refresh(engine) == 1  # M2 takes S1 over
    with engine.begin() as conn:
        conn.execute(transit_cursor.update().values(hash="0" * 64))  # as if the ledger changed
    assert service.refresh(engine) == 2
    with engine.connect() as conn:
        rows = conn.execute(sa.select(transit_bindings.c.seal, transit_bindings.c.mrn)).all()
        assert sorted(tuple(r) for r in rows) == [("S1", "M1"), ("S1", "M2")]
        assert {b.mrn for b in bindings.lookup(conn, seals=["S1"])} == {"M1", "M2"}

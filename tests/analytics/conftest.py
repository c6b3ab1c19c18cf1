"""A small ledger with every flow, a cancellation and a transit, for the analytics tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from keruen.ingest import ingest_lines
from tests import factory as f


def batch_no(n: int) -> str:
    return f"55501/010324/{n:07d}/001"


B1, B2, B3, B8, B9 = (batch_no(n) for n in (1, 2, 3, 8, 9))
KG_BUYER = {"tax_id": "KG5501", "name": "Bishkek Trade", "country": "KG"}
US_BUYER = {"tax_id": "US77", "name": "Acme Inc", "country": "US"}


def ledger_events() -> list[dict[str, Any]]:
    """Two imports, an arrival, dispatches to RU and KG, an export, a cancelled dispatch, a
    transit; values in USD and KZT so that rates matter."""
    arrival = f.import_("e-arr", B3, qty="50", day=2, hs="870323")
    arrival.update(type="arrival", seller={**f.RU_BUYER, "tax_id": "RU1"}, mass_kg="7500.5")
    arrival["value"] = {"amount": "4600000.00", "currency": "KZT"}
    exp = f.dispatch("e-exp", B2, f.A, "10", day=9, buyer=US_BUYER)
    exp["type"] = "export"
    return [
        f.import_("e-imp1", B1, qty="100", day=1),
        f.import_("e-imp2", B2, qty="40", day=1, hs="851713", mass_kg="12.25"),
        arrival,
        f.dispatch("e-d1", B1, f.A, "30", day=4),
        f.dispatch("e-d2", B1, f.A, "20", day=5, buyer=KG_BUYER),
        f.dispatch("e-d3", B2, f.A, "5", day=6),
        f.cancel("e-c1", "e-d3", day=7),
        exp,
        f.transit_open("e-t1", "MRN1", day=3),
    ]


def fill(engine: Engine, events: list[dict[str, Any]]) -> None:
    report = ingest_lines(engine, f.lines(*events), source="test")
    assert report.rejected == 0, report.rejections


@pytest.fixture
def ledger(engine: Engine) -> Iterator[Engine]:
    fill(engine, ledger_events())
    yield engine


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local Spark session for the whole run (its start-up is the cost)."""
    from keruen.analytics.engines import spark_session as make

    session = make(cores=1)  # the tests' data is tiny: one core leaves the other to the rest
    yield session
    session.stop()

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from keruen.analytics import engines, service
from keruen.analytics.export import export_parquet
from tests import factory as f
from tests.analytics.conftest import fill

BATCH = "55501/040121/0000001/001"


def at(event: dict[str, Any], when: str) -> dict[str, Any]:
    return {**event, "time": when}


def dispatch(id: str, when: str, amount: str, country: str) -> dict[str, Any]:
    buyer = {**f.RU_BUYER, "tax_id": f"X{country}", "country": country}
    e = at(f.dispatch(id, BATCH, f.A, "1", buyer=buyer), when)
    e["value"] = {"amount": amount, "currency": "USD"}
    return e


def test_headline_puts_the_ledger_beside_the_public_figures(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    fill(
        sqlite_engine,
        [
            at(f.import_("i", BATCH, qty="100"), "2021-01-04T10:00:00+06:00"),
            dispatch("d1", "2021-05-01T10:00:00+06:00", "702", "RU"),
            dispatch("d2", "2022-05-01T10:00:00+06:00", "878", "RU"),
            dispatch("d3", "2022-06-01T10:00:00+06:00", "100", "KG"),
        ],
    )
    with sqlite_engine.connect() as conn:
        export_parquet(conn, tmp_path)
    rows = {r["figure"]: r for r in service.headline(engines.duckdb(tmp_path), None)}
    assert str(rows["exports to Russia 2021 (USD)"]["ledger"]) == "702.00"
    assert rows["exports to Russia 2022 (USD)"]["public"] == 8.78e9
    growth = rows["growth of exports to Russia 2021→2022"]
    assert growth["ledger"] == pytest.approx(878 / 702 - 1, rel=1e-12)
    assert growth["public"] == pytest.approx(0.2507, abs=1e-4)
    assert rows["Russia's share of EAEU turnover 2022"]["ledger"] == pytest.approx(878 / 978)
    assert rows["Russia's share of EAEU turnover 2021"]["ledger"] == 1.0
    assert "public figures quoted in the SPEC" in rows["exports to Russia 2021 (USD)"]["sources"][1]

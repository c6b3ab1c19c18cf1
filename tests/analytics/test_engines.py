"""One suite of named queries on DuckDB, PostgreSQL and Spark: results must be equal (money to
the cent, ratios within 1e-9). One Spark session for the run; PostgreSQL when CI=true."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from keruen.analytics import engines
from keruen.analytics import figures as fg
from keruen.analytics import rates as rt
from keruen.analytics.engines import Source
from keruen.analytics.export import export_parquet
from keruen.analytics.named import NAMED
from keruen.store import db
from tests import factory as f
from tests.analytics.conftest import batch_no, fill, ledger_events
from tests.conftest import PG_URL

RATES = "currency,date,usd_per_unit\nKZT,2024-03,0.002171552660\nEUR,2024-03-02,0.5\n"


def rounding_edge() -> list[dict[str, Any]]:
    """EUR imports whose USD value ends in a 5 at the 7th place: half away from zero."""
    rows = []
    for n, amount in enumerate(("1.000005", "3.000003", "2.000001"), 20):
        e = f.import_(f"e-eur{n}", batch_no(n), day=2)
        e["value"] = {"amount": amount, "currency": "EUR"}
        e["seller"] = {"tax_id": "DE1", "name": "Bauer GmbH", "country": "DE"}  # sanctions RU
        rows.append(e)
    return rows


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    with db.scratch(None) as eng:
        fill(eng, ledger_events() + rounding_edge())
        with eng.connect() as conn:
            export_parquet(conn, out)
    return out


@pytest.fixture(scope="module")
def sources(export: Path, spark_session: Any) -> Iterator[dict[str, Source]]:
    found = {"duckdb": engines.duckdb(export), "spark": engines.spark(export, spark_session)}
    schema = f"keruen_an_{uuid.uuid4().hex[:10]}"
    if PG_URL:
        found["postgres"] = engines.postgres(export, PG_URL, schema)
    yield found
    if PG_URL:
        with sa.create_engine(PG_URL).begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


def results(src: Source, name: str) -> list[dict[str, Any]]:
    rates = fg.rates_table(rt.parse(RATES, "rates.csv"))
    return fg.run(NAMED[name](src, rates), src)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9)
    return bool(a == b)


@pytest.mark.parametrize("name", sorted(NAMED))
def test_every_engine_gives_the_same_rows(sources: dict[str, Source], name: str) -> None:
    expected = results(sources["duckdb"], name)
    assert expected, f"{name} returned no rows"
    for engine, src in sources.items():
        got = results(src, name)
        assert len(got) == len(expected), engine
        for g, e in zip(got, expected, strict=True):
            assert g.keys() == e.keys(), engine
            bad = {k: (g[k], e[k]) for k in e if not same(g[k], e[k])}
            assert not bad, f"{engine}: {bad}"


def test_values_round_half_away_from_zero_at_six_places(sources: dict[str, Source]) -> None:
    values = {r["id"]: r["value_usd"] for r in results(sources["spark"], "event_values")}
    assert values["e-eur20"] == Decimal("0.500003")  # 0.5000025
    assert values["e-eur21"] == Decimal("1.500002")  # 1.5000015
    assert values["e-arr"] == Decimal("9989.142236")  # 4,600,000 KZT × 0.002171552660
    assert "e-d3" not in values  # cancelled


def test_figures_match_the_ledger_by_hand(sources: dict[str, Source]) -> None:
    found = results(sources["duckdb"], "figures_by_partner_year")
    rows = {(r["flow"], r["partner"]): r for r in found}
    # DE: EUR 0.500003 + 1.500002 + 1.000001 in USD, rounded to the cent after the sum
    assert rows[("import", "CN")]["value_usd"] == Decimal("2000.00")
    assert rows[("import", "DE")]["value_usd"] == Decimal("3.00")
    assert rows[("import", "CN")]["events"] == 2 and rows[("import", "DE")]["events"] == 3
    assert rows[("dispatch", "RU")]["value_usd"] == Decimal("900.00")  # e-d3 cancelled
    assert rows[("turnover", "RU")]["value_usd"] == Decimal("10889.14")
    assert rows[("transit", "DE")]["mass_kg"] == Decimal("1200")


@pytest.mark.parametrize("name", sorted(NAMED))
def test_every_named_query_keeps_the_decimal_policy(sources: dict[str, Source], name: str) -> None:
    rates = fg.rates_table(rt.parse(RATES, "rates.csv"))
    assert NAMED[name](sources["duckdb"], rates) is not None
    from keruen.analytics.decimals import violations

    assert violations(NAMED[name](sources["duckdb"], rates)) == []


def test_diversion_follows_the_batch_from_import_to_russia(sources: dict[str, Source]) -> None:
    (row,) = results(sources["duckdb"], "diversion_monthly")
    assert (row["year"], row["month"], row["tier"]) == (2024, 3, "1")
    assert row["imports_usd"] == Decimal("3.00") and row["import_events"] == 3  # from DE
    assert row["outflows_usd"] == Decimal("900.00") and row["outflow_events"] == 1  # e-d1 only
    assert row["lag_days"] == 3.0  # imported 1 March, dispatched 4 March
    assert row["from_sanctioning_usd"] == Decimal("0.00")  # B1 was bought in China
    base = {r["partner"]: r for r in results(sources["duckdb"], "diversion_baseline")}
    assert base["DE"]["multiple"] == 1.0 and base["DE"]["months"] == 1


def test_unit_values_fair_price_outlier_and_markup(sources: dict[str, Source]) -> None:
    groups = results(sources["duckdb"], "unit_value_groups")
    (g,) = [r for r in groups if r["hs6"] == "854231"]
    # unit values 10 (e-imp1) and 0.005, 0.015, 0.010 (the EUR imports): the 10 stands out
    assert g["lines"] == 4 and g["outliers"] == 1
    fair = math.exp((math.log(0.010000005) + math.log(0.015000015)) / 2)
    assert g["fair_price_usd"] == pytest.approx(fair, rel=1e-12)
    (m,) = results(sources["duckdb"], "unit_value_markup")
    # e-d1: 900 USD for 30 of batch B1, imported by e-imp1 at 10 USD a unit: x3, mark-up 2.0;
    # against every import of 854231 (10 and the EUR imports at about 0.01): x2400
    assert (m["hs6"], m["unit"], m["ru_lines"]) == ("854231", "PCE", 1)
    assert (m["ru_uv"], m["import_uv"], m["markup"]) == (30.0, 10.0, 2.0)
    assert m["import_lines"] == 4
    all_uv = (0.010000005 + 0.015000015) / 2
    assert m["markup_vs_all_imports"] == pytest.approx(30.0 / all_uv - 1, rel=1e-9)


MONTHLY = "currency,date,usd_per_unit\nKZT,2024-03,0.002171552660\nEUR,2024-03,0.5\n"


@pytest.mark.parametrize("name", ["figures_by_partner_year", "figures_by_hs_month"])
def test_rows_summed_per_month_or_per_day_give_the_same_figures(
    sources: dict[str, Source], name: str
) -> None:
    """Monthly rates let rows be summed per month before they are priced (RATES has a daily
    EUR rate, so per day); with the same rates either way the figures are the same."""
    by_day = results(sources["duckdb"], name)
    monthly = fg.rates_table(rt.parse(MONTHLY, "monthly.csv"))
    for engine, src in sources.items():
        assert fg.run(NAMED[name](src, monthly), src) == by_day, engine

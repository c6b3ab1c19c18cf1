from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from keruen.analytics import engines
from keruen.analytics import figures as fg
from keruen.analytics import rates as rt
from keruen.analytics.export import export_parquet
from keruen.analytics.service import trade_figures
from keruen.errors import AnalyticsError, MissingRate
from keruen.sim.rates import rows as sim_rates
from tests.analytics.conftest import fill, ledger_events

BAD = [
    ("currency,day,usd_per_unit\n", ":1: header must be currency,date"),
    ("currency,date,usd_per_unit,units_per_usd\n", ":1: header must be"),
    ("currency,date,usd_per_unit\nKZ,2024-03,1\n", ":2: currency 'KZ' is not an ISO 4217"),
    ("currency,date,usd_per_unit\nKZT,2024-13,1\n", ":2: date '2024-13' is neither"),
    ("currency,date,usd_per_unit\nKZT,2024-03,abc\n", ":2: rate 'abc' is not a number"),
    ("currency,date,usd_per_unit\nKZT,2024-03,0\n", ":2: rate '0' must be a positive"),
    ("currency,date,usd_per_unit\nKZT,2024-03,1\nKZT,2024-03-02,1\n", ":3: KZT mixes daily"),
    ("currency,date,usd_per_unit\nKZT,2024-03,1\nKZT,2024-03,2\n", ":3: a second KZT rate"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_a_bad_rates_file_names_line_and_field(text: str, message: str) -> None:
    with pytest.raises(AnalyticsError, match=message.replace("(", r"\(")):
        rt.parse(text, "r.csv")


def test_monthly_and_daily_periods_and_inverted_rates() -> None:
    r = rt.parse("currency,date,units_per_usd\nKZT,2024-02,460.5\nEUR,2024-03-01,0.9\n", "r.csv")
    kzt, eur, usd = r.rows
    assert (kzt.valid_from, kzt.valid_to) == (date(2024, 2, 1), date(2024, 3, 1))
    assert kzt.usd_per_unit == Decimal("0.002171552660")
    assert (eur.valid_from, eur.valid_to) == (date(2024, 3, 1), date(2024, 3, 2))
    assert usd.currency == "USD" and usd.usd_per_unit == 1
    assert r.source.startswith("rates r.csv (sha256 ")


def test_the_simulators_rates_load() -> None:
    r = rt.parse(rt.write_csv(sim_rates()), "rates.csv")
    by = {(x.currency, x.valid_from): x.usd_per_unit for x in r.rows}
    assert by[("KZT", date(2022, 5, 1))] == (1 / Decimal("460.5")).quantize(rt.PLACES)


def test_a_missing_rate_names_currency_and_date(sqlite_engine: object, tmp_path: Path) -> None:
    fill(sqlite_engine, ledger_events())  # type: ignore[arg-type]
    with sqlite_engine.connect() as conn:  # type: ignore[attr-defined]
        export_parquet(conn, tmp_path)
    src = engines.duckdb(tmp_path)
    with pytest.raises(MissingRate, match="no KZT rate for 2024-03-02"):
        trade_figures(src, ["turnover"], ["partner"], rt.usd_only())
    late = rt.parse("currency,date,usd_per_unit\nKZT,2024-03-03,0.002\n", "r.csv")
    with pytest.raises(MissingRate, match="no KZT rate for 2024-03-02"):
        trade_figures(src, ["arrival"], ["partner"], late)
    rows = trade_figures(src, ["dispatch"], ["partner"], rt.usd_only())
    assert [r["partner"] for r in rows] == ["KG", "RU"]
    assert rows[0]["sources"][1] == "no rates file (USD only)"
    assert "ledger seq 9 hash" in rows[0]["vintage"]
    assert "dispatch" in rows[0]["formula"]


def test_unknown_keys_and_flows_are_refused() -> None:
    with pytest.raises(AnalyticsError, match="by: 'country' is not one of"):
        fg.keys(["partner", "country"])
    with pytest.raises(AnalyticsError, match="flow: 'exports' is not one of"):
        fg.flows(["exports"])

"""The benchmark's hand-written DuckDB SQL and the Ibis queries give the same figures (else the
ratio it prints would compare different work). Not timed."""

from __future__ import annotations

from pathlib import Path

import duckdb

from keruen.analytics import engines
from keruen.analytics import figures as fg
from keruen.analytics import rates as rt
from keruen.analytics.decimals import violations
from keruen.analytics.named import NAMED
from keruen.bench import analytics as bench


def test_hand_sql_and_ibis_agree_on_generated_events(tmp_path: Path) -> None:
    bench.generate(tmp_path, 20_000)
    rates = rt.parse(bench.RATES, "r.csv")
    con = duckdb.connect()
    con.register("rates", rates.table())
    src = engines.duckdb(tmp_path)
    table = fg.rates_table(rates)
    for name, sql in (("figures_by_partner_year", bench.HAND_BY_PARTNER_YEAR),
                      ("figures_by_hs_month", bench.HAND_BY_HS_MONTH)):  # fmt: skip
        cur = con.execute(sql.format(out=tmp_path))
        cols = [d[0] for d in cur.description]
        hand = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        expr = NAMED[name](src, table)
        assert violations(expr) == []
        ibis_rows = fg.run(expr, src)
        assert len(hand) == len(ibis_rows) > 10
        for h, i in zip(hand, ibis_rows, strict=True):
            assert {k: h[k] for k in cols} == {k: i[k] for k in cols}, name
    assert fg.missing_rate(src, ["turnover"], table) is None  # KZT transfers are covered
    result = bench.summary(20_000, "duckdb", 0.0, {"q": (2.0, 3.0, 3)}, {"q": (1.0, 1.5, 3)})
    assert result["queries"][0]["ratio"] == 2.0
    assert result["queries"][0]["hand_sql_cpu_seconds"] == 1.5
    assert bench.table(result) is not None


def test_generated_events_exercise_diversion_and_the_cube(tmp_path: Path) -> None:
    """The generator's goods include the CHPL subheadings, so diversion keeps rows (inflows
    from sanctioning states and outflows to RU/BY); the hand-written cube has the Ibis cube's
    cells; the summary counts the trade figures, with their cube, against the 10 s target."""
    bench.generate(tmp_path, 20_000)
    rates = rt.parse(bench.RATES, "r.csv")
    src = engines.duckdb(tmp_path)
    table = fg.rates_table(rates)
    rows = fg.run(NAMED["diversion_monthly"](src, table), src)
    assert any(r["imports_usd"] for r in rows) and any(r["outflows_usd"] for r in rows)
    hand = bench.hand_sql(tmp_path, rates, ["figures_by_partner_year"])
    suite = bench.ibis_suite(src, rates, ["figures_by_partner_year", "unit_value_groups"])
    assert hand["shared_cube"][2] == suite["shared_cube"][2] > 100
    result = bench.summary(20_000, "duckdb", 0.0, suite, hand)
    assert result["target_queries"] == ["shared_cube", "figures_by_partner_year"]
    assert result["target_cpu_seconds"] < result["suite_cpu_seconds"]

"""Diversion indicators (Ibis): high-priority (CHPL) goods imported from states that sanction
Russia beside the same HS subheadings dispatched or exported to Russia or Belarus, per month
and tier, with the lag from a batch's import to its outflow; multiples over a baseline year.

The lag follows the batch: an outflow's batch is joined to the import or arrival that created
it (batches made by a transform have no such row and count as `lag unknown`).
"""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir

from keruen.analytics import chpl
from keruen.analytics.decimals import cents, product, ratio
from keruen.analytics.engines import Source
from keruen.analytics.figures import cube, live, recells, with_own_rates
from keruen.risk.config import SANCTIONING

DESTINATIONS = ("RU", "BY")
FORMULA = (
    "imports_usd: Σ USD value of imports and arrivals of CHPL subheadings bought from a state "
    "that sanctions Russia ({states}); outflows_usd: Σ USD value of dispatches and exports of "
    "CHPL subheadings to RU or BY; lag_days: mean days from the import or arrival that created "
    "the batch to its outflow; cancelled events excluded"
)


def _chpl_rows(src: Source, flows: list[str], rates: ir.Table) -> ir.Table:
    """The standing rows of these flows under a CHPL subheading, each with its USD value: few
    rows, so read once (a CTE) and priced with the (currency, day) pairs they hold."""
    rows = live(src, flows)
    c = chpl.table()
    j = rows.inner_join(c, rows.hs.substr(0, 6) == c.c_hs6)  # first: few rows are CHPL goods
    v = with_own_rates(j, rates)
    return v.mutate(
        value_usd=product(v.amount, v.usd_per_unit), year=v.day.year(), month=v.day.month()
    )


def _chpl_imports(
    src: Source, rates: ir.Table, by: list[str], sanctioning: bool = True
) -> ir.Table:
    """Imports and arrivals of CHPL subheadings (bought from sanctioning states, or from any),
    summed from the cube (which keeps CHPL goods by subheading) per `by` (of partner, year,
    month, tier): value (one product per cell, as every figure) and events."""
    c = cube(src, rates)
    c = c.filter(c.flow.isin(["import", "arrival"]))
    if sanctioning:
        c = c.filter(c.partner.isin(sorted(SANCTIONING)))
    k = chpl.table()
    j = c.inner_join(k, c.hs == k.c_hs6)
    keys = {"partner": j.partner, "year": j.day.year(), "month": j.day.month(), "tier": j.tier}
    v = recells(j, {n: keys[n] for n in by}, rates)
    return v.group_by(by).aggregate(
        value_usd=cents(product(v.amount, v.usd_per_unit).sum()),
        events=(v.n.sum(where=v.lined.isnull()).coalesce(0) + v.lined.nunique()).cast("int64"),
    )


def monthly_expr(src: Source, rates: ir.Table) -> ir.Table:
    """Per year, month and CHPL tier: inflows from sanctioning states, outflows to RU/BY, lag."""
    ins = _chpl_imports(src, rates, ["year", "month", "tier"])
    ins = ins.select("year", "month", "tier", imports_usd="value_usd", import_events="events")
    rows = _chpl_rows(src, ["dispatch", "export"], rates)
    out = rows.filter(rows.partner.isin(DESTINATIONS)).alias("chpl_out")
    made = src.events.filter(src.events.type.isin(["import", "arrival"])).select(
        m_batch="batch", m_day="day", m_partner="partner"
    )
    made = made.filter(made.m_batch.isin(out.batch))  # only the batches sent: a small build
    lagged = out.left_join(made, out.batch == made.m_batch)
    lagged = lagged.mutate(lag=lagged.day.delta(lagged.m_day, unit="day"))
    outs = lagged.group_by("year", "month", "tier").aggregate(
        outflows_usd=cents(lagged.value_usd.sum()),
        outflow_events=lagged.id.nunique(),
        lag_days=lagged.lag.mean(),
        from_sanctioning_usd=cents(
            lagged.m_partner.isin(sorted(SANCTIONING)).ifelse(lagged.value_usd, 0).sum()
        ),
    )
    j = ins.outer_join(outs, ["year", "month", "tier"])
    return j.select(
        year=j.year.coalesce(j.year_right),
        month=j.month.coalesce(j.month_right),
        tier=j.tier.coalesce(j.tier_right),
        imports_usd=j.imports_usd,
        import_events=j.import_events.coalesce(0),
        outflows_usd=j.outflows_usd,
        outflow_events=j.outflow_events.coalesce(0),
        lag_days=j.lag_days,
        from_sanctioning_usd=j.from_sanctioning_usd,
    ).order_by(["year", "month", "tier"])


def baseline_expr(src: Source, rates: ir.Table, baseline: int = 2021) -> ir.Table:
    """Per partner and year: CHPL imports from it, and their multiple over the baseline year,
    as monthly means over the months the ledger covers in each year (a partial year compares
    fairly)."""
    per = _chpl_imports(src, rates, ["partner", "year"], sanctioning=False).drop("events")
    e = src.events
    cover = e.group_by(c_year=e.day.year()).aggregate(months=e.day.month().nunique())
    per = per.inner_join(cover, per.year == cover.c_year).drop("c_year").alias("chpl_per")
    base = per.filter(per.year == baseline).select(
        b_partner="partner", b_value="value_usd", b_months="months"
    )
    j = per.left_join(base, per.partner == base.b_partner)
    monthly = ratio(j.value_usd, j.months)
    return j.select(
        "partner",
        "year",
        "value_usd",
        "months",
        multiple=ratio(monthly, ratio(j.b_value, j.b_months)),
    ).order_by(["partner", "year"])


def formula() -> str:
    return FORMULA.format(states=", ".join(sorted(SANCTIONING)))


def annotate(rows: list[dict[str, Any]], src: Source, rates_source: str) -> list[dict[str, Any]]:
    for r in rows:
        r["formula"] = formula()
        r["sources"] = [f"Keruen ledger ({src.vintage})", rates_source,
                        "CHPL 2024-02-23 (BIS; keruen/data)"]  # fmt: skip
        r["vintage"] = src.vintage
    return rows

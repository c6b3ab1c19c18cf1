"""What the CLI, the report and the demo call: named figures as rows carrying their formula,
their sources and the vintage of those sources."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis.expr.types as ir

from keruen.analytics import engines
from keruen.analytics import figures as fg
from keruen.analytics.engines import Source
from keruen.analytics.rates import Rates, usd_only
from keruen.errors import AnalyticsError


def open_source(
    export: Path, engine: str = "duckdb", pg_url: str | None = None, session: Any = None
) -> Source:
    if engine == "duckdb":
        return engines.duckdb(export)
    if engine == "spark":
        return engines.spark(export, session)
    if engine == "postgres":
        if not pg_url:
            raise AnalyticsError("engine: postgres needs --pg URL (the server to load into)")
        return engines.postgres(export, pg_url, "keruen_analytics")
    raise AnalyticsError(f"engine: {engine!r} is not one of {', '.join(engines.ENGINES)}")


def checked_rates(src: Source, flows: Sequence[str], rates: Rates | None) -> ir.Table:
    table = fg.rates_table(rates or usd_only())
    missing = fg.missing_rate(src, flows, table)
    if missing:
        raise missing
    return table


def annotate(rows: list[dict[str, Any]], src: Source, rates: Rates | None) -> list[dict[str, Any]]:
    sources = [f"Keruen ledger ({src.vintage})", (rates or usd_only()).source]
    for r in rows:
        flow = r.get("flow", "")
        r["formula"] = fg.FORMULA.format(flow=flow, types="+".join(fg.FLOW_TYPES.get(flow, ())))
        r["sources"] = sources
        r["vintage"] = src.vintage
    return rows


def trade_figures(
    src: Source, flows: Sequence[str], by: Sequence[str], rates: Rates | None = None
) -> list[dict[str, Any]]:
    """Value, quantity, mass and event count per flow and grouping keys."""
    flows, by = fg.flows(flows), fg.keys(by)
    table = checked_rates(src, flows, rates)
    return annotate(fg.run(fg.figures_expr(src, flows, table, by), src), src, rates)


def eaeu_share(src: Source, rates: Rates | None, partner: str = "RU") -> list[dict[str, Any]]:
    """A partner's share of turnover (arrivals + dispatches) with the EAEU, per year."""
    from keruen.jurisdiction import EAEU

    flows = ["arrival", "dispatch"]
    rows = trade_figures(src, flows, ["partner", "year"], rates)
    years: dict[int, dict[str, Decimal]] = {}
    for r in rows:
        if r["partner"] in EAEU:
            y = years.setdefault(r["year"], {})
            y[r["partner"]] = y.get(r["partner"], Decimal(0)) + r["value_usd"]
    out = []
    for year, by in sorted(years.items()):
        total = sum(by.values(), Decimal(0))
        share = float(by.get(partner, Decimal(0))) / float(total) if total else None
        out.append({"year": year, "partner": partner, "eaeu_usd": total, "share": share})
    return out

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
from keruen.settings import get_settings


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
    """A partner's share of turnover (arrivals + dispatches) with the home country's customs
    union (the EAEU), per year."""
    union = get_settings().jurisdiction.union

    flows = ["arrival", "dispatch"]
    rows = trade_figures(src, flows, ["partner", "year"], rates)
    years: dict[int, dict[str, Decimal]] = {}
    for r in rows:
        if r["partner"] in union:
            y = years.setdefault(r["year"], {})
            y[r["partner"]] = y.get(r["partner"], Decimal(0)) + r["value_usd"]
    out = []
    for year, by in sorted(years.items()):
        total = sum(by.values(), Decimal(0))
        share = float(by.get(partner, Decimal(0))) / float(total) if total else None
        out.append({"year": year, "partner": partner, "eaeu_usd": total, "share": share})
    return out


PUBLIC_SOURCE = (
    "public figures quoted in the SPEC: Kazakhstan's exports to Russia 2021 and 2022; "
    "Russia's share of Kazakhstan's trade with the EAEU"
)
PUBLIC_EXPORTS_RU = {2021: Decimal("7.02e9"), 2022: Decimal("8.78e9")}
PUBLIC_RU_SHARE = 0.923


def headline(src: Source, rates: Rates | None) -> list[dict[str, Any]]:
    """The seed's figures from the ledger beside the public ones: exports (dispatches) to
    Russia per year, their growth, and Russia's share of turnover with the EAEU."""
    rows = trade_figures(src, ["dispatch"], ["partner", "year"], rates)
    ru = {r["year"]: r["value_usd"] for r in rows if r["partner"] == "RU"}
    out: list[dict[str, Any]] = []
    for year, public in PUBLIC_EXPORTS_RU.items():
        out.append(_figure(f"exports to Russia {year} (USD)", ru.get(year), public))
    if ru.get(2021) and ru.get(2022):
        growth = float(ru[2022]) / float(ru[2021]) - 1
        public_growth = float(PUBLIC_EXPORTS_RU[2022] / PUBLIC_EXPORTS_RU[2021]) - 1
        out.append(_figure("growth of exports to Russia 2021→2022", growth, public_growth))
    for r in eaeu_share(src, rates):
        if r["year"] in PUBLIC_EXPORTS_RU:
            out.append(_figure(f"Russia's share of EAEU turnover {r['year']}", r["share"],
                               PUBLIC_RU_SHARE))  # fmt: skip
    for r in out:
        r["sources"] = [f"Keruen ledger ({src.vintage})", PUBLIC_SOURCE]
    return out


def _figure(name: str, ledger: Any, public: Any) -> dict[str, Any]:
    ratio = float(ledger) / float(public) if ledger is not None and public else None
    return {"figure": name, "ledger": ledger, "public": public, "ratio": ratio}


def stamp(
    rows: list[dict[str, Any]], src: Source, rates: Rates | None, formula: str
) -> list[dict[str, Any]]:
    """Every row carries its formula, its sources and their vintage."""
    sources = [f"Keruen ledger ({src.vintage})", (rates or usd_only()).source]
    for r in rows:
        r.update(formula=formula, sources=sources, vintage=src.vintage)
    return rows

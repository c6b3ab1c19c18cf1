"""`keruen report --out DIR`: one self-contained HTML page (inline CSS and SVG, no script, no
network) with each figure as a chart beside its table, and every table as CSV and Parquet."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

from keruen.analytics import charts, mirror, mirror_files, service, tables
from keruen.analytics.engines import Source
from keruen.analytics.rates import Rates
from keruen.settings import get_settings

LONG = ("formula", "sources", "vintage")
FLOWS = ["import", "arrival", "dispatch", "export", "transit"]


@dataclass
class Section:
    name: str  # file stem of its tables
    title: str
    rows: list[dict[str, Any]]
    chart: str = ""
    notes: list[str] = field(default_factory=list)


def _f(v: Any) -> float:
    return float(v) if v is not None else 0.0


def flows_by_year(src: Source, rates: Rates | None) -> Section:
    rows = service.trade_figures(src, FLOWS, ["year"], rates)
    years = sorted({str(r["year"]) for r in rows})
    series: dict[str, list[float]] = {f: [0.0] * len(years) for f in FLOWS}
    for r in rows:
        series[r["flow"]][years.index(str(r["year"]))] = _f(r["value_usd"])
    chart = charts.bars("Trade by flow and year", years, series, "USD")
    return Section("flows_by_year", "Trade by flow and year (USD)", rows, chart)


def top_partners(src: Source, rates: Rates | None, n: int = 10) -> Section:
    rows = service.trade_figures(src, ["dispatch", "export"], ["partner"], rates)
    total: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        total[r["partner"]] += r["value_usd"]
    best = sorted(total, key=lambda p: -total[p])[:n]
    series = {
        f: [_f(next((r["value_usd"] for r in rows if r["flow"] == f and r["partner"] == p), 0))
            for p in best]
        for f in ("dispatch", "export")
    }  # fmt: skip
    chart = charts.bars("Dispatches and exports by partner", best, series, "USD")
    return Section("outflows_by_partner", "Dispatches and exports by partner (USD)", rows, chart)


def monthly(src: Source, rates: Rates | None) -> Section:
    rows = service.trade_figures(src, FLOWS[:4], ["year", "month"], rates)
    periods = sorted({f"{r['year']}-{r['month']:02d}" for r in rows})
    series: dict[str, list[float]] = {f: [0.0] * len(periods) for f in FLOWS[:4]}
    for r in rows:
        series[r["flow"]][periods.index(f"{r['year']}-{r['month']:02d}")] = _f(r["value_usd"])
    chart = charts.lines("Monthly trade by flow", periods, series, "USD")
    return Section("monthly", "Monthly trade by flow (USD)", rows, chart)


def headline(src: Source, rates: Rates | None) -> Section:
    rows = service.headline(src, rates)
    money = [r for r in rows if "(USD)" in r["figure"]]
    chart = charts.bars(
        "Exports to Russia: ledger and public",
        [r["figure"].split()[3] for r in money],
        {"ledger": [_f(r["ledger"]) for r in money], "public": [_f(r["public"]) for r in money]},
        "USD",
    )
    return Section("headline", "The ledger beside the public figures", rows, chart)


def mirror_section(reporter: str | None = None, partner: str = "EU27") -> Section:
    reporter = reporter or get_settings().jurisdiction.home
    rows = mirror.mirror(mirror_files.shipped(), reporter, partner, list(range(2019, 2025)))
    years = [str(r["year"]) for r in rows]
    chart = charts.bars(
        f"{partner} exports to {reporter} vs {reporter} imports from {partner}",
        years,
        {
            f"{partner} exports (Eurostat)": [_f(r["partner_exports_eur"]) for r in rows],
            f"{reporter} imports (national)": [_f(r["reporter_imports_eur"]) for r in rows],
        },
        "EUR",
    )
    return Section(f"mirror_{reporter}_{partner}", f"Mirror: {partner} → {reporter}", rows, chart)


def diversion_section(src: Source, rates: Rates | None) -> Section:
    from keruen.analytics import diversion
    from keruen.analytics import figures as fg

    table = service.checked_rates(src, ["turnover"], rates)
    rows = fg.run(diversion.monthly_expr(src, table), src)
    rows = diversion.annotate(rows, src, (rates.source if rates else "USD only"))
    periods = sorted({f"{r['year']}-{r['month']:02d}" for r in rows})
    series: dict[str, list[float]] = {
        "CHPL imports from sanctioning states": [0.0] * len(periods),
        "CHPL dispatches and exports to RU/BY": [0.0] * len(periods),
    }
    for r in rows:
        i = periods.index(f"{r['year']}-{r['month']:02d}")
        series["CHPL imports from sanctioning states"][i] += _f(r["imports_usd"])
        series["CHPL dispatches and exports to RU/BY"][i] += _f(r["outflows_usd"])
    chart = charts.lines("Diversion indicators (all tiers)", periods, series, "USD")
    return Section("diversion", "Diversion indicators: CHPL goods in and out", rows, chart)


def markup_section(src: Source, rates: Rates | None, n: int = 12) -> Section:
    from keruen.analytics import figures as fg
    from keruen.analytics import unitvalues

    table = service.checked_rates(src, ["turnover"], rates)
    rows = fg.run(unitvalues.markup_expr(src, table), src)
    rows = service.stamp(rows, src, rates, unitvalues.FORMULA)
    top = sorted(rows, key=lambda r: -(r["markup"] or 0))[:n]
    chart = charts.bars(
        "Mark-up of dispatches to Russia over imports (top subheadings)",
        [r["hs6"] for r in top],
        {"mark-up": [_f(r["markup"]) for r in top]},
        "ratio",
    )
    return Section("unit_value_markup", "Unit values: mark-up to Russia over imports", rows, chart)


def roundabout_section() -> Section:
    rows = mirror.roundabout(mirror_files.shipped())
    return Section("roundabout", "The published roundabout-trade figures, reproduced", rows)


def build(src: Source, rates: Rates | None) -> list[Section]:
    return [
        headline(src, rates),
        flows_by_year(src, rates),
        top_partners(src, rates),
        monthly(src, rates),
        diversion_section(src, rates),
        markup_section(src, rates),
        mirror_section(),
        roundabout_section(),
    ]


CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1500px;color:#222}
h1{font-size:1.5em} h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
.pair{display:flex;gap:2em;align-items:flex-start;flex-wrap:wrap}
.chart{width:720px;max-width:100%;height:auto;flex:none}
.chart .grid{stroke:#e3e3e3} .chart .tick{font-size:11px;fill:#555} .chart .unit{font-size:11px}
.tbl{max-height:340px;overflow:auto;flex:1;min-width:420px}
table{border-collapse:collapse;font-size:12px} td,th{padding:2px 8px;border-bottom:1px solid #eee}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f4f4f4;position:sticky;top:0}
.notes{color:#555;font-size:12px} .flag{color:#a33}
"""


def cell(k: str, v: Any) -> str:
    if isinstance(v, list) and k == "flags":
        # the flag's name; its detail on hover and in the CSV/Parquet tables
        names = (f'<span title="{escape(str(x))}">{escape(str(x).split(":")[0])}</span>' for x in v)
        return f'<td class="flag">{"<br>".join(names)}</td>'
    if isinstance(v, list):
        return f"<td>{'<br>'.join(escape(str(x)) for x in v)}</td>"
    if isinstance(v, Decimal | float | int) and not isinstance(v, bool):
        shown = f"{v:,.2f}" if isinstance(v, Decimal) else (
            f"{v:.4f}" if isinstance(v, float) else f"{v}")  # fmt: skip
        return f'<td class="n">{shown}</td>'
    return f"<td>{escape('' if v is None else str(v))}</td>"


def html_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>No rows.</p>"
    cols = [c for c in tables.columns(rows) if c not in LONG]
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = "\n".join("<tr>" + "".join(cell(c, r.get(c)) for c in cols) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def notes(s: Section) -> str:
    first = s.rows[0] if s.rows else {}
    lines = [f"Formula: {first['formula']}"] if "formula" in first else []
    if first.get("sources"):
        lines.append("Sources: " + "; ".join(map(str, first["sources"])))
    lines.append(f"Tables: tables/{s.name}.csv, tables/{s.name}.parquet")
    return "".join(f"<p>{escape(x)}</p>" for x in lines + s.notes)


def page(sections: list[Section], vintage: str) -> str:
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Keruen trade report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Keruen trade report</h1>",
        f"<p class='notes'>{escape(vintage)} · generated "
        f"{datetime.now(UTC).isoformat(timespec='seconds')}</p>",
    ]
    for s in sections:
        parts.append(f"<section id='{s.name}'><h2>{escape(s.title)}</h2><div class='pair'>")
        parts.append(s.chart + f"<div class='tbl'>{html_table(s.rows)}</div></div>")
        parts.append(f"<div class='notes'>{notes(s)}</div></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write(out: Path, sections: list[Section], vintage: str) -> Path:
    (out / "tables").mkdir(parents=True, exist_ok=True)
    for s in sections:
        (out / "tables" / f"{s.name}.csv").write_text(tables.to_csv(s.rows), encoding="utf-8")
        tables.write_parquet(s.rows, out / "tables" / f"{s.name}.parquet")
    index = out / "index.html"
    index.write_text(page(sections, vintage), encoding="utf-8")
    return index

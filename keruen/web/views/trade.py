"""Trade figures (SPEC C6) for analysts and officers: `keruen.analytics.service.trade_figures`
(the figures `keruen trade figures` prints) as a bar chart beside its table, downloadable as
CSV. Aggregates only: no party in them.

Analytics (Ibis, DuckDB) is imported on the first trade page, not with the app. The figures
are computed by DuckDB over the ledger's Parquet export, brought up to date
incrementally before each reading (`keruen.analytics.export.export_parquet`) in the directory
`KERUEN_EXPORT` names (default `keruen-export`, as the CLI's `--data`); figures are kept per
ledger head and question, so a page is computed once per change of the ledger.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from keruen.store.port import LedgerReader
from keruen.web.core import AggregateViewer, ConnDep, WebRoute, page, state_of

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
GROUPINGS = ("partner,year", "partner,month", "hs2,year", "hs4,year", "origin,year", "post,year")
_lock = threading.Lock()  # one export at a time into the directory


def export_dir() -> Path:
    return Path(os.environ.get("KERUEN_EXPORT", "keruen-export"))


def figures(request: Request, conn: Any, flow: str, by: str) -> list[dict[str, Any]]:
    """The figures for the ledger's head (the export updated first, once per head)."""
    from keruen.analytics import service
    from keruen.analytics.export import export_parquet

    head = LedgerReader(conn).head()
    extras = state_of(request).extras
    key = f"web.trade:{head.seq}:{head.hash}:{flow}:{by}"
    if key not in extras:
        with _lock:
            export_parquet(conn, export_dir())
            src = service.open_source(export_dir())
            extras[key] = service.trade_figures(src, [flow], by.split(","))
    found: list[dict[str, Any]] = extras[key]
    return found


def chart(rows: list[dict[str, Any]], by: str, top: int = 15) -> list[dict[str, Any]]:
    """The largest values as bars: label, value and width in percent of the largest."""
    keys = by.split(",")
    best = sorted(rows, key=lambda r: float(r["value_usd"] or 0), reverse=True)[:top]
    most = max((float(r["value_usd"] or 0) for r in best), default=0.0) or 1.0
    return [
        {
            "label": " · ".join(str(r[k]) for k in keys),
            "value": r["value_usd"],
            "width": round(100 * float(r["value_usd"] or 0) / most, 1),
        }
        for r in best
    ]


Period = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


def _period(row: dict[str, Any]) -> str:
    return f"{int(row['year']):04d}-{int(row['month']):02d}"


def regroup(rows: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """Figures by (keys, year, month) summed back to `keys` (events, values, quantities and
    masses add up: each event falls in one month)."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        key = tuple(r[k] for k in keys)
        have = out.get(key)
        if have is None:
            out[key] = {**{k: v for k, v in r.items() if k not in ("year", "month") or k in keys}}
            continue
        for k in ("value_usd", "quantity", "mass_kg", "events"):
            if r.get(k) is not None:
                have[k] = (have.get(k) or 0) + r[k]
    return list(out.values())


def series(rows: list[dict[str, Any]], width: int = 640) -> list[dict[str, Any]]:
    """Monthly totals as bars of a chart `width` wide (x, width and height in pixels)."""
    totals: dict[str, float] = {}
    for r in rows:
        totals[_period(r)] = totals.get(_period(r), 0.0) + float(r["value_usd"] or 0)
    if not totals:
        return []
    periods = sorted(totals)
    step, most = width / len(periods), max(totals.values()) or 1.0
    return [
        {
            "period": p,
            "value": totals[p],
            "x": round(i * step, 1),
            "w": round(max(step - 1, 1), 1),
            "h": round(110 * totals[p] / most, 1),
        }
        for i, p in enumerate(periods)
    ]


@router.get("/trade")
def trade(
    request: Request,
    user: AggregateViewer,
    conn: ConnDep,
    flow: Annotated[str, Query(max_length=16)] = "turnover",
    by: Annotated[str, Query(max_length=40)] = "partner,year",
    format: Annotated[str, Query(pattern="^(html|csv)$")] = "html",
    start: Annotated[Period, Query(alias="from")] = None,
    end: Annotated[Period, Query(alias="to")] = None,
) -> Response:
    """Value, quantity, mass and events per flow and grouping, over the whole ledger or the
    months from `from` to `to` (YYYY-MM; chosen by brushing the monthly chart, a click on a
    month or the form); `?format=csv` downloads them."""
    from keruen.analytics import tables
    from keruen.analytics.figures import FLOW_TYPES, KEYS

    keys = by.split(",")
    monthly = figures(
        request, conn, flow, ",".join([*keys, *(k for k in ("year", "month") if k not in keys)])
    )
    if start and end and start > end:
        start, end = end, start
    chosen = [
        r for r in monthly if (not start or _period(r) >= start) and (not end or _period(r) <= end)
    ]
    rows = regroup(chosen, keys)
    rows.sort(key=lambda r: tuple(str(r[k]) for k in keys))
    if format == "csv":
        span = f"-{start or 'start'}-{end or 'end'}" if start or end else ""
        return Response(
            tables.to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="trade-{flow}-{by}{span}.csv"'},
        )
    return page(
        request,
        "trade.html",
        rows=rows,
        keys=keys,
        bars=chart(rows, by),
        months=series(monthly),
        start=start or "",
        end=end or "",
        flow=flow,
        by=by,
        flows=sorted(FLOW_TYPES),
        groupings=[g for g in GROUPINGS if all(k in KEYS for k in g.split(","))],
    )

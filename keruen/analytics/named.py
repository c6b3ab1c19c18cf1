"""The named queries: each figure once, as an Ibis expression over a source and its rates.
One test suite runs every one of them on DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

from collections.abc import Callable

import ibis.expr.types as ir

from keruen.analytics import diversion, unitvalues
from keruen.analytics import figures as fg
from keruen.analytics.engines import Source

QueryFn = Callable[[Source, ir.Table], ir.Table]
NAMED: dict[str, QueryFn] = {
    "figures_by_partner_year": lambda s, r: fg.figures_expr(
        s, list(fg.FLOW_TYPES), r, ["partner", "year"]
    ),
    "figures_by_hs_month": lambda s, r: fg.figures_expr(
        s, ["turnover"], r, ["hs4", "year", "month"]
    ),
    "dispatch_shares": lambda s, r: fg.shares_expr(s, "dispatch", r, ["partner", "year"]),
    "turnover_growth": lambda s, r: fg.growth_expr(s, "turnover", r, ["partner"]),
    "peak_month": lambda s, r: fg.peak_expr(s, "turnover", r, ["partner"]),
    "event_values": lambda s, r: fg.event_values_expr(s, "turnover", r),
    "diversion_monthly": diversion.monthly_expr,
    "diversion_baseline": lambda s, r: diversion.baseline_expr(s, r, 2024),
    "unit_value_groups": unitvalues.groups_expr,
    "unit_value_markup": unitvalues.markup_expr,
}

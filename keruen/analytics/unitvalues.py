"""Unit values (Ibis): USD per unit per HS subheading × origin × route (the post), a robust
"fair price", outliers, and the mark-up of dispatches and exports to Russia over imports of the
same goods.

Prices are skewed (a long right tail), so the outlier rule works on log unit values: the
median and the median absolute deviation (MAD) of log(USD per unit) per group, a robust
z = (log uv − median) / (1.4826 × MAD), an outlier where |z| > 3.5 (Iglewicz and Hoaglin).
On the log scale a skewed price distribution is near symmetric, which is what an adjusted
boxplot corrects for on the raw scale. The fair price is the group's median unit value.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from keruen.analytics.decimals import RATIO, ratio
from keruen.analytics.engines import Source
from keruen.analytics.figures import live, with_rates

FORMULA = (
    "unit value = value.amount / quantity × USD per unit (loaded rates, event's UTC day), per "
    "line of imports and "
    "arrivals; per HS subheading x origin x post: fair price = median; robust z = (ln uv - "
    "median ln uv) / (1.4826 x MAD of ln uv), outlier where |z| > 3.5; "
    "markup = median over dispatches and exports to RU of (their unit value / unit value of "
    "the import or arrival that created their batch) - 1, per HS subheading and unit; "
    "markup_vs_all_imports = their median unit value / median unit value of every import of "
    "the subheading in that unit - 1; cancelled events excluded"
)
Z = 3.5
MAD_SCALE = 1.4826
KEYS = ["hs6", "origin", "post"]


def priced(src: Source, flows: list[str], rates: ir.Table) -> ir.Table:
    """Lines with a unit value: a ratio, so a float (amount / quantity × USD per unit), never
    a decimal product per line."""
    rows = with_rates(src, live(src, flows), rates)
    rows = rows.filter((rows.quantity > 0) & (rows.amount > 0) & rows.usd_per_unit.notnull())
    uv = ratio(rows.amount, rows.quantity) * rows.usd_per_unit.cast(RATIO)
    # only what the views read: a query that reads these rows twice keeps them (a CTE), and
    # PostgreSQL materialises a CTE with every column it names
    return rows.select(
        "id", "line", "flow", "day", "batch", "partner", "origin", "post", "unit",
        hs6=rows.hs.substr(0, 6), uv=uv, log_uv=uv.ln(),
    )  # fmt: skip


def scored(src: Source, rates: ir.Table, cols: tuple[str, ...] = ()) -> ir.Table:
    """Every import and arrival line with its group's median, MAD and robust z: the lines (the
    group keys, log uv and `cols` only) read once and the medians computed once (CTEs: each
    was written out again where it was used, so the median over every line ran twice)."""
    rows = priced(src, ["import", "arrival"], rates)
    rows = rows.select(*KEYS, *cols, "log_uv").alias("uv_lines")
    med = rows.group_by(KEYS).aggregate(med_log=rows.log_uv.median())
    j = rows.inner_join(med, KEYS).alias("uv_med")
    mad = j.group_by(KEYS).aggregate(mad=(j.log_uv - j.med_log).abs().median())
    k = j.inner_join(mad, KEYS)
    z = (k.mad > 0).ifelse((k.log_uv - k.med_log) / (MAD_SCALE * k.mad), 0.0)
    return k.mutate(z=z)


def groups_expr(src: Source, rates: ir.Table) -> ir.Table:
    """Per HS subheading × origin × post: lines, fair price, the fences, outliers."""
    k = scored(src, rates)
    return (
        k.group_by(KEYS)
        .aggregate(
            lines=k.count(),
            fair_price_usd=k.med_log.max().exp(),
            low_usd=(k.med_log.max() - Z * MAD_SCALE * k.mad.max()).exp(),
            high_usd=(k.med_log.max() + Z * MAD_SCALE * k.mad.max()).exp(),
            outliers=(k.z.abs() > Z).ifelse(1, 0).sum(),
        )
        .order_by(KEYS)
    )


def outliers_expr(src: Source, rates: ir.Table) -> ir.Table:
    k = scored(src, rates, ("id", "line", "flow", "day", "uv"))
    out = k.filter(k.z.abs() > Z)
    return out.select("id", "line", "flow", "day", *KEYS, unit_value_usd=out.uv, z=out.z).order_by(
        ["id", "line"]
    )


def markup_expr(src: Source, rates: ir.Table) -> ir.Table:
    """Per HS subheading and unit: the mark-up of dispatches and exports to Russia over the
    import of the same goods — each outflow's unit value over that of the import or arrival
    that created its batch (same goods, same unit), the median of those ratios minus one.

    Beside it, `markup_vs_all_imports`: the outflows' median unit value over the median of
    every import of the subheading in that unit. The two differ where the goods sent to
    Russia are not the goods usually imported under the subheading: on the `year` preset,
    940542 (LED luminaires) showed 139x against all imports (2 dispatches of high-priority
    goods imported under the lamp subheading, against 34 imports of lamps), 0.5x against
    their own imports. Like is compared with like: the same batch, so the same unit, and
    never a count against a mass."""
    # one scan of the four flows, read once (a CTE) by both sides
    rows = priced(src, ["import", "arrival", "dispatch", "export"], rates)
    rows = rows.select("flow", "partner", "batch", "hs6", "unit", "uv").alias("uv_rows")
    ins = rows.filter(rows.flow.isin(["import", "arrival"]))
    outs = rows.filter(rows.flow.isin(["dispatch", "export"]) & (rows.partner == "RU"))
    own = ins.select(i_batch=ins.batch, i_uv=ins.uv)
    j = outs.inner_join(own, outs.batch == own.i_batch)
    per = j.group_by(["hs6", "unit"]).aggregate(
        ru_lines=j.count(),
        ru_uv=j.uv.median(),
        import_uv=j.i_uv.median(),
        markup=(j.uv / j.i_uv).median() - ibis.literal(1.0),
    )
    every = ins.group_by(a_hs6=ins.hs6, a_unit=ins.unit).aggregate(
        import_lines=ins.count(), all_imports_uv=ins.uv.median()
    )
    m = per.left_join(every, [per.hs6 == every.a_hs6, per.unit == every.a_unit])
    m = m.drop("a_hs6", "a_unit")
    return m.mutate(markup_vs_all_imports=m.ru_uv / m.all_imports_uv - ibis.literal(1.0)).order_by(
        ["hs6", "unit"]
    )

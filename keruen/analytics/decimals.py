"""The decimal policy, and the check that every expression keeps it.

Engines disagree on decimal arithmetic: Ibis types decimal × decimal with the inputs' scale
(DuckDB and PostgreSQL then raise, PySpark silently rounds 1.25 × 1.25 to 1.56), and
decimal ÷ decimal becomes a float. So:

- stored quantities, masses and amounts are decimal(38, 6) (`MONEY`, `QTY`);
- a product of decimals is written only through `product`: both operands cast to
  decimal(38, 12) (`FACTOR`; Ibis drops a cast to the type a value has already), the
  product cast to decimal(38, 6) at once. Every engine then
  computes the exact product and rounds it half away from zero to 6 places (DuckDB and
  PostgreSQL by the cast, Spark by its precision rule, which lands on scale 6 too), so the
  sums agree exactly; operands up to about 10^13 fit (larger ones raise, never wrap);
- money is reported rounded to the cent (`CENTS`) after the sum, never before;
- ratios are floats, computed only through `ratio`, from sums cast to float64.

`violations` walks an expression and names every decimal product or quotient that does not
follow these rules; a test runs it over every named query.
"""

from __future__ import annotations

from typing import Any

import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
from ibis.common.graph import Graph

MONEY = dt.Decimal(38, 6)
QTY = dt.Decimal(38, 6)
FACTOR = dt.Decimal(38, 12)
CENTS = dt.Decimal(38, 2)
RATIO = dt.float64


def product(a: ir.NumericValue, b: ir.NumericValue) -> ir.DecimalValue:
    """a × b exactly, rounded to 6 places the same way on every engine."""
    return (a.cast(FACTOR) * b.cast(FACTOR)).cast(MONEY)


def ratio(a: ir.NumericValue, b: ir.NumericValue) -> ir.FloatingValue:
    """a / b as a float (null where b is zero): for shares and growth, after the sums."""
    den = b.cast(RATIO)
    return a.cast(RATIO) / (den == 0).ifelse(ibis_null(), den)


def ibis_null() -> ir.FloatingValue:
    import ibis

    return ibis.null().cast(RATIO)


def cents(x: ir.NumericValue) -> ir.DecimalValue:
    return x.cast(CENTS)


def _decimal(node: Any) -> bool:
    return bool(getattr(node, "dtype", None) is not None and node.dtype.is_decimal())


def _cast_to(node: Any, to: dt.DataType) -> bool:
    return isinstance(node, ops.Cast) and node.to == to


def violations(expr: ir.Expr) -> list[str]:
    """Every decimal product not written through `product`, every decimal quotient."""
    graph = Graph.from_bfs(expr.op())
    parents: dict[Any, list[Any]] = {}
    for node, children in graph.items():
        for child in children:
            parents.setdefault(child, []).append(node)
    found = []
    for node in graph:
        if isinstance(node, ops.Multiply) and any(_decimal(a) for a in (node.left, node.right)):
            if not all(a.dtype == FACTOR for a in (node.left, node.right)):
                found.append(f"decimal product with uncast operands: {node!r:.200}")
            if not all(_cast_to(p, MONEY) for p in parents.get(node, [])):
                found.append(f"decimal product not cast to {MONEY}: {node!r:.200}")
        if isinstance(node, ops.Divide | ops.FloorDivide) and any(
            _decimal(a) for a in (node.left, node.right)
        ):
            found.append(f"decimal quotient (becomes a float silently): {node!r:.200}")
    return found

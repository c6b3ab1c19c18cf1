"""Rows of figures as JSON (decimals as JSON numbers), CSV, Parquet and a terminal table."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
from rich.table import Table

_json = msgspec.json.Encoder(decimal_format="number")
LONG = ("formula", "sources", "vintage")


def to_json(rows: list[dict[str, Any]]) -> str:
    return _json.encode(rows).decode()


def cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return "; ".join(map(str, v))
    if isinstance(v, float):
        return repr(v)
    return str(v)


def columns(rows: list[dict[str, Any]]) -> list[str]:
    cols: dict[str, None] = {}
    for r in rows:
        cols.update(dict.fromkeys(r))
    return list(cols)


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    cols = columns(rows)
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([cell(r.get(c)) for c in cols])
    return buf.getvalue()


def write_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    """Columns of one type as that type; a column mixing types (a figure that is money in one
    row and a ratio in the next) as text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = columns(rows)
    mixed = {c for c in cols if len({type(r.get(c)) for r in rows} - {type(None)}) > 1}
    fixed = [{c: (cell(r.get(c)) if c in mixed else r.get(c)) for c in cols} for r in rows]
    pq.write_table(pa.Table.from_pylist(fixed), path)


def rich_table(rows: list[dict[str, Any]], title: str) -> Table:
    cols = [c for c in columns(rows) if c not in LONG]
    table = Table(*cols, title=title)
    for r in rows:
        table.add_row(*(_show(r.get(c)) for c in cols))
    if rows:
        table.caption = "; ".join(
            x for x in (rows[0].get("vintage"), "formula, sources, flags in full: --json") if x
        )
    return table


def _show(v: Any) -> str:
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return ", ".join(dict.fromkeys(x.split(":")[0] for x in v))
    if isinstance(v, Decimal):
        return f"{v:,.2f}"
    if isinstance(v, float):
        return f"{v:.4f}"
    return cell(v)

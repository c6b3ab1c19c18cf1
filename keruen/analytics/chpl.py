"""The Common High Priority List's subheadings and tiers (BIS, 2024-02-23; keruen/data)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

import ibis
import ibis.expr.types as ir
import pyarrow as pa


@cache
def tiers() -> dict[str, str]:
    """HS subheading (6 digits) -> tier."""
    text = (resources.files("keruen") / "data" / "chpl_common_high_priority_list.csv").read_text(
        encoding="utf-8"
    )
    return {r["hs6"]: r["tier"] for r in csv.DictReader(text.splitlines())}


def table() -> ir.Table:
    t = tiers()
    return ibis.memtable(pa.table({"c_hs6": list(t), "tier": list(t.values())}))

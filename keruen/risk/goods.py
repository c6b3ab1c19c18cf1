"""MINIMAL ADAPTER — the Common High Priority List as a goods rule, until keruen.screening lands.

Replace with screening's goods-rule function (issue 4) when it is available: this module exists
only so the risk engine can be built and tested before it; it duplicates no matching logic
beyond "HS code starts with a CHPL code, destination Russia or Belarus".
"""

from __future__ import annotations

from functools import cache

from keruen.reference import read_rows
from keruen.risk.facts import GoodsHit

CHPL_TO = frozenset({"RU", "BY"})


@cache
def _chpl() -> dict[str, tuple[str, str]]:
    return {
        r["hs6"]: (r["tier"], r["list_version"])
        for r in read_rows("chpl_common_high_priority_list.csv")
    }


def chpl_rules(hs: str, destination: str, _time_us: int) -> list[GoodsHit]:
    """The CHPL entry for this HS code, when the goods go to Russia or Belarus."""
    found = _chpl().get(hs[:6])
    if found is None or destination not in CHPL_TO:
        return []
    tier, version = found
    return [
        GoodsHit("CHPL", version, hs[:6], "block", tier, "EU/US/UK/JP Common High Priority List")
    ]


def is_chpl(hs: str) -> bool:
    return hs[:6] in _chpl()

"""The simulator's calibration tables (keruen/sim/data): goods, flow mixes, targets, names.

Small CSV files derived from public statistics and the HS nomenclature (sources and licences:
keruen/data/SOURCES.md, section "Simulator calibration tables"). Loaded once per process.
"""

from __future__ import annotations

import bisect
import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import accumulate

from keruen import reference


def _rows(name: str) -> Iterator[dict[str, str]]:
    text = (resources.files("keruen.sim") / "data" / name).read_text(encoding="utf-8")
    yield from csv.DictReader(io.StringIO(text))


@dataclass(frozen=True, slots=True)
class Item:
    """A kind of goods with realistic unit values: one row of hs_catalog.csv."""

    hs: str
    group: str
    unit: str
    price_lo: float
    price_hi: float
    kg_per_unit: float
    lot_lo: int
    lot_hi: int
    description: str

    @property
    def chpl(self) -> bool:
        return self.hs in chpl_codes()

    @property
    def mean_price(self) -> float:
        """Mean of the unit price, which is drawn log-uniformly between its bounds."""
        lo, hi = self.price_lo, self.price_hi
        return (hi - lo) / math.log(hi / lo) if hi > lo else lo

    def lot_value(self, factor: float = 1.0) -> float:
        """Expected value of one consignment `factor` times the base size (at least one
        unit of pieces), used to turn value shares into counts and budgets into plans."""
        units = (self.lot_lo + self.lot_hi) / 2 * factor
        return self.mean_price * (max(1.0, units) if self.unit == "PCE" else units)

    @property
    def mean_lot_value(self) -> float:
        return self.lot_value()


@dataclass(frozen=True, slots=True)
class Target:
    """Public (or derived) annual trade value of one flow with one partner."""

    year: int
    flow: str
    partner: str
    value_usd: float
    mix: str
    basis: str


@cache
def catalog() -> dict[str, Item]:
    """Goods by HS subheading."""
    return {
        r["hs6"]: Item(
            r["hs6"],
            r["group"],
            r["unit"],
            float(r["price_lo"]),
            float(r["price_hi"]),
            float(r["kg_per_unit"]),
            int(r["lot_lo"]),
            int(r["lot_hi"]),
            r["description"],
        )
        for r in _rows("hs_catalog.csv")
    }


@cache
def chpl_codes() -> frozenset[str]:
    """The Common High Priority List's six-digit codes (shipped in keruen/data)."""
    return frozenset(r["hs6"] for r in reference.read_rows("chpl_common_high_priority_list.csv"))


@cache
def chpl_tiers() -> dict[str, str]:
    return {r["hs6"]: r["tier"] for r in reference.read_rows("chpl_common_high_priority_list.csv")}


@cache
def mixes() -> dict[str, list[tuple[Item, float]]]:
    """Value share of each goods kind in each flow (import_cn, dispatch_ru, ...)."""
    out: dict[str, list[tuple[Item, float]]] = defaultdict(list)
    items = catalog()
    for r in _rows("flow_mix.csv"):
        out[r["flow"]].append((items[r["hs6"]], float(r["share"])))
    return dict(out)


class Mix:
    """Goods of one flow, drawn so that each item's share of value (not of count) holds."""

    __slots__ = ("cum", "items")

    def __init__(self, pairs: list[tuple[Item, float]]) -> None:
        self.items = [item for item, _ in pairs]
        self.cum = list(accumulate(share / item.mean_lot_value for item, share in pairs))

    def pick(self, r: float) -> Item:
        """The item at `r` (uniform in [0, 1)) of the cumulative distribution."""
        return self.items[bisect.bisect(self.cum, r * self.cum[-1])]


@cache
def mix(name: str) -> Mix:
    return Mix(mixes()[name])


@cache
def targets() -> list[Target]:
    return [
        Target(int(r["year"]), r["flow"], r["partner"], float(r["value_usd"]), r["mix"], r["basis"])
        for r in _rows("trade_targets.csv")
    ]


@cache
def seasonality() -> dict[str, tuple[float, ...]]:
    """Monthly weights per profile, normalised to sum to 1 over the year."""
    out: dict[str, tuple[float, ...]] = {}
    for r in _rows("seasonality.csv"):
        w = [float(r[f"m{m:02d}"]) for m in range(1, 13)]
        out[r["profile"]] = tuple(x / sum(w) for x in w)
    return out


SEASON_OF_GROUP = {
    "grain": "grain",
    "building": "building",
    "metals": "building",
    "fuel": "fuel",
    "ores": "fuel",
    "food": "food",
}


def season_profile(group: str) -> str:
    return SEASON_OF_GROUP.get(group, "default")


@cache
def name_parts() -> dict[tuple[str, str], tuple[str, ...]]:
    """Words for company names by (country, kind): form, stem, suffix, city."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in _rows("names.csv"):
        out[(r["country"], r["kind"])].append(r["word"])
    return {k: tuple(v) for k, v in out.items()}


@dataclass(frozen=True, slots=True)
class Brand:
    brand: str
    country: str
    model_prefix: str


@cache
def brands() -> dict[str, tuple[Brand, ...]]:
    """Manufacturers by HS prefix (longest prefix wins), for the origin-aware checks."""
    out: dict[str, list[Brand]] = defaultdict(list)
    for r in _rows("brands.csv"):
        out[r["hs_prefix"]].append(Brand(r["brand"], r["manufacturer_country"], r["model_prefix"]))
    return {k: tuple(v) for k, v in out.items()}


@cache
def brands_for(hs: str) -> tuple[Brand, ...]:
    table = brands()
    for n in (6, 4):
        if hs[:n] in table:
            return table[hs[:n]]
    return ()

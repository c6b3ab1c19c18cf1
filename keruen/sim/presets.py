"""Presets: how long, how big, how consolidated, how many schemes.

The value scale is the same in `year` and `national`: trade values match the public figures.
What differs is consolidation — how many real consignments one simulated consignment
stands for (quantities are multiplied, unit values and value per kilogram are not) — and so
the number of events. `messy` is `year` with its documents made as untidy as real ones
(keruen.sim.messy). `small` carries a small fraction of the public values over two months
of 2022; its figures are compared with the public ones pro rata. `demo` is the sanctions
year 2022 at full value in very large consignments: a year in a few seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from keruen.errors import KeruenError


class UnknownPreset(KeruenError):
    """A preset name that is not small, year or national."""

    status = 422


@dataclass(frozen=True)
class Preset:
    name: str
    start: date
    end: date  # exclusive
    value_scale: float  # fraction of the public trade values simulated
    consolidation: float  # real consignments per simulated consignment
    kz_companies: int
    foreign_per_partner: int
    transits_per_day: float
    schemes_per_kind: int
    bait_per_kind: int
    scheme_lot: float  # size of a scheme's consignment relative to an ordinary one
    ping_hours: tuple[float, float] = (4.0, 8.0)  # interval between a seal's reports
    shards: int = 1  # independent parts of the economy, generated in parallel and merged
    messy: bool = False  # documents as they really arrive (keruen.sim.messy)

    def shard(self) -> Preset:
        """The share of this preset one of its shards simulates (1/shards of everything)."""
        k = self.shards
        return replace(
            self,
            value_scale=self.value_scale / k,
            kz_companies=-(-self.kz_companies // k),
            foreign_per_partner=-(-self.foreign_per_partner // k),
            transits_per_day=self.transits_per_day / k,
            schemes_per_kind=-(-self.schemes_per_kind // k),
            bait_per_kind=-(-self.bait_per_kind // k),
        )

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        return out


PRESETS = {
    "small": Preset(
        "small", date(2022, 3, 1), date(2022, 5, 1), 0.0008, 0.3, 120, 3, 1.0, 2, 2, 0.015
    ),
    "demo": Preset("demo", date(2022, 1, 1), date(2023, 1, 1), 1.0, 150.0, 800, 8, 2.0, 6, 4, 0.03),
    "year": Preset(
        "year", date(2021, 1, 1), date(2023, 1, 1), 1.0, 30.0, 3000, 20, 6.0, 12, 8, 0.15
    ),
    # `year` with documents as they really arrive: receipts partial and late, foreign
    # parties without tax ids and with generic names, offsets, corrections, duplicates
    "messy": Preset(
        "messy",
        date(2021, 1, 1),
        date(2023, 1, 1),
        1.0,
        30.0,
        3000,
        20,
        6.0,
        12,
        8,
        0.15,
        messy=True,
    ),
    "national": Preset(
        "national",
        date(2021, 1, 1),
        date(2023, 1, 1),
        1.0,
        1.0,
        40000,
        150,
        150.0,
        60,
        40,
        1.0,
        (0.5, 1.0),  # navigation seals report several times an hour; half-hourly here
        4,
    ),
}


def preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise UnknownPreset(f"unknown preset {name!r} (one of: {', '.join(PRESETS)})") from None

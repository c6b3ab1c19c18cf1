"""The simulated trade figures beside the public ones they are calibrated to.

Simulated values are summed from the events as written (declared values in USD), over the
months of the run. `expected` is the public figure pro rata (months covered, seasonality)
and times the preset's value scale; `public` is the published annual figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from keruen.sim.presets import Preset
from keruen.sim.tables import targets

EAEU_PARTNERS = ("RU", "BY", "KG", "AM")
PUBLIC_RU_SHARE = 0.923
Tally = Mapping[tuple[int, int, str, str], float]
Expected = dict[tuple[int, str, str], float]


def months(p: Preset, year: int) -> list[int]:
    return [m for m in range(1, 13) if p.start <= date(year, m, 1) < p.end]


def simulated(tally: Tally, p: Preset, year: int, kind: str, partners: Iterable[str]) -> float:
    ms, ps = set(months(p, year)), set(partners)
    return sum(
        v for (y, m, k, c), v in tally.items() if y == year and m in ms and k == kind and c in ps
    )


def public(year: int, flow: str, partners: Iterable[str]) -> float:
    ps = set(partners)
    return sum(
        t.value_usd for t in targets() if t.year == year and t.flow == flow and t.partner in ps
    )


def _value_row(label: str, sim: float, expected: float, pub: float) -> dict[str, Any]:
    return {
        "figure": label,
        "simulated_usd": round(sim),
        "expected_usd": round(expected),
        "public_usd": round(pub),
        "ratio": round(sim / expected, 4) if expected else None,
    }


def figures(tally: Tally, expected: Expected, p: Preset) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    years = sorted({y for (y, _, _) in expected if months(p, y)})
    for year in years:
        for label, kind, partners in (
            ("exports to Russia", "dispatch", ("RU",)),
            ("imports from Russia", "arrival", ("RU",)),
            ("imports from China", "import", ("CN",)),
        ):
            exp = sum(
                v for (y, f, c), v in expected.items() if y == year and f == kind and c in partners
            )
            rows.append(
                _value_row(
                    f"{label} {year}",
                    simulated(tally, p, year, kind, partners),
                    exp,
                    public(year, kind, partners),
                )
            )
        rows.append(_share_row(tally, p, year))
    if len(years) == 2 and all(len(months(p, y)) == 12 for y in years):
        rows.append(_growth_row(tally, p, years[0], years[1]))
    return rows


def _share_row(tally: Tally, p: Preset, year: int) -> dict[str, Any]:
    ru = sum(simulated(tally, p, year, k, ("RU",)) for k in ("dispatch", "arrival"))
    eaeu = sum(simulated(tally, p, year, k, EAEU_PARTNERS) for k in ("dispatch", "arrival"))
    return {
        "figure": f"Russia's share of EAEU turnover {year}",
        "simulated": round(ru / eaeu, 4) if eaeu else None,
        "public": PUBLIC_RU_SHARE,
    }


def _growth_row(tally: Tally, p: Preset, y0: int, y1: int) -> dict[str, Any]:
    a = simulated(tally, p, y0, "dispatch", ("RU",))
    b = simulated(tally, p, y1, "dispatch", ("RU",))
    pa, pb = public(y0, "dispatch", ("RU",)), public(y1, "dispatch", ("RU",))
    return {
        "figure": f"growth of exports to Russia {y0}-{y1}",
        "simulated": round(b / a - 1, 4) if a else None,
        "public": round(pb / pa - 1, 4),
    }

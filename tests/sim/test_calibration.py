"""Calibration: value budgets reproduce the public figures, seasonality and consignment
sizes notwithstanding (a coarse copy of the `year` preset, for speed)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from keruen.sim.presets import PRESETS
from keruen.sim.run import write_all


@pytest.fixture(scope="module")
def coarse_year(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    name = "coarse-year"
    PRESETS[name] = replace(
        PRESETS["year"],
        name=name,
        consolidation=150.0,
        scheme_lot=0.03,
        kz_companies=600,
        transits_per_day=0.2,
        schemes_per_kind=1,
        bait_per_kind=1,
    )
    try:
        return write_all(1, name, tmp_path_factory.mktemp("coarse"))
    finally:
        del PRESETS[name]


def _figure(summary: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in summary["figures"] if f["figure"] == name)


@pytest.mark.parametrize(
    "name",
    [
        "exports to Russia 2021",
        "exports to Russia 2022",
        "imports from Russia 2022",
        "imports from China 2022",
    ],
)
def test_values_match_the_public_figures(coarse_year: dict[str, Any], name: str) -> None:
    row = _figure(coarse_year, name)
    assert row["expected_usd"] == row["public_usd"]  # full years at full scale
    assert row["ratio"] == pytest.approx(1.0, abs=0.05)


def test_growth_and_russias_share(coarse_year: dict[str, Any]) -> None:
    growth = _figure(coarse_year, "growth of exports to Russia 2021-2022")
    assert growth["public"] == pytest.approx(0.25, abs=0.005)
    assert growth["simulated"] == pytest.approx(0.25, abs=0.08)
    share = _figure(coarse_year, "Russia's share of EAEU turnover 2022")
    assert share["simulated"] == pytest.approx(0.923, abs=0.015)


def test_public_figures_in_the_tables() -> None:
    from keruen.sim.tables import targets

    ru = {t.year: t.value_usd for t in targets() if t.flow == "dispatch" and t.partner == "RU"}
    assert ru == {2021: 7.02e9, 2022: 8.78e9}

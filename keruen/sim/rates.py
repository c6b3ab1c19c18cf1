"""The currency rates the simulator used, as a rates file `keruen trade --rates` loads.

Domestic invoices are in KZT at `economy.KZT_PER_USD` per year (460.0 outside those years,
as `Economy.transfer` does); declarations are in USD, which needs no rate."""

from __future__ import annotations

from pathlib import Path

from keruen.sim.economy import KZT_PER_USD

YEARS = range(2015, 2031)
DEFAULT_KZT_PER_USD = 460.0


def rows() -> list[tuple[str, str, str]]:
    return [
        ("KZT", f"{year}-{month:02d}", f"{KZT_PER_USD.get(year, DEFAULT_KZT_PER_USD)}")
        for year in YEARS
        for month in range(1, 13)
    ]


def write_rates(path: Path) -> None:
    from keruen.analytics.rates import write_csv

    path.write_text(write_csv(rows()), encoding="utf-8")

"""The currency rates the simulator used, as a rates file `keruen trade --rates` loads.

Domestic invoices are in KZT at `economy.KZT_PER_USD` per year (460.0 outside those years,
as `Economy.transfer` does); declarations are in USD, which needs no rate. The partner-side
export records (`keruen.sim.partner`) are in EUR, CNY and RUB at annual means close to the
central banks' (ECB, PBoC, CBR) for 2021–2023."""

from __future__ import annotations

from pathlib import Path

from keruen.sim.economy import KZT_PER_USD

YEARS = range(2015, 2031)
DEFAULT_KZT_PER_USD = 460.0
# units per USD, annual means 2021, 2022, 2023 (other years: the 2023 figure)
OTHERS = {
    "EUR": {2021: 0.8455, 2022: 0.9496, 2023: 0.9248},
    "CNY": {2021: 6.4515, 2022: 6.7261, 2023: 7.0467},
    "RUB": {2021: 73.65, 2022: 68.48, 2023: 85.25},
}


def units_per_usd(currency: str, year: int) -> float:
    if currency == "USD":
        return 1.0
    if currency == "KZT":
        return KZT_PER_USD.get(year, DEFAULT_KZT_PER_USD)
    table = OTHERS[currency]
    return table.get(year, table[2023])


def rows() -> list[tuple[str, str, str]]:
    return [
        (cur, f"{year}-{month:02d}", f"{units_per_usd(cur, year)}")
        for cur in ("KZT", *OTHERS)
        for year in YEARS
        for month in range(1, 13)
    ]


def write_rates(path: Path) -> None:
    from keruen.analytics.rates import write_csv

    path.write_text(write_csv(rows()), encoding="utf-8")

"""Derive `trade_targets.csv` from the national trade statistics in ../shared/data.

Run from the repository root: `python keruen/sim/data/make_targets.py ../shared/data`.
Kept with the table so the derivation can be checked and repeated; the package never runs it.

- import / arrival: Kazakhstan's imports by partner (national statistics office, via
  mary-lev/eu-export-sanctions), converted back from EUR to USD with the rates that project
  used; every itemised country is kept; "arrival" for EAEU members, "import" for the rest.
  Non-EAEU countries are scaled so that they add up to the source's non-EAEU total.
- dispatch RU: the public figures 7.02 (2021) and 8.78 (2022) bn USD (SPEC).
- dispatch KG/BY/AM: the residual implied by Russia's 92.3% share of Kazakhstan's EAEU
  turnover (same share assumed for 2021), split KG 85%, BY 10%, AM 5% (our assumption).
- export: non-oil exports outside the EAEU, our rounded estimates (basis "estimate").
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict

USD_PER_EUR = {2021: 1.18, 2022: 1.05}
EAEU = {"RU", "BY", "KG", "AM"}
ISO = {
    "Russia": "RU",
    "Belarus": "BY",
    "Kyrgyzstan": "KG",
    "Armenia": "AM",
    "China": "CN",
    "Germany": "DE",
    "United States": "US",
    "Turkey": "TR",
    "South Korea": "KR",
    "Uzbekistan": "UZ",
    "Japan": "JP",
    "Italy": "IT",
    "France": "FR",
    "Poland": "PL",
    "India": "IN",
    "Tajikistan": "TJ",
    "Vietnam": "VN",
    "United Kingdom": "GB",
    "Czechia": "CZ",
    "Netherlands": "NL",
    "Ukraine": "UA",
    "Brazil": "BR",
    "Switzerland": "CH",
    "Spain": "ES",
    "Thailand": "TH",
    "Belgium": "BE",
    "Sweden": "SE",
    "Iran": "IR",
    "Austria": "AT",
    "Mexico": "MX",
    "Ireland": "IE",
    "Hungary": "HU",
    "Canada": "CA",
    "Indonesia": "ID",
    "Finland": "FI",
    "Malaysia": "MY",
    "Romania": "RO",
    "Taiwan": "TW",
    "Lithuania": "LT",
    "Slovakia": "SK",
    "Egypt": "EG",
    "Turkmenistan": "TM",
    "Norway": "NO",
    "Azerbaijan": "AZ",
    "Denmark": "DK",
    "Slovenia": "SI",
    "United Arab Emirates": "AE",
    "Israel": "IL",
    "Serbia": "RS",
    "Estonia": "EE",
    "Australia": "AU",
    "South Africa": "ZA",
    "Peru": "PE",
    "Bangladesh": "BD",
    "Singapore": "SG",
    "Bulgaria": "BG",
    "Pakistan": "PK",
    "Latvia": "LV",
    "Portugal": "PT",
    "Chile": "CL",
    "Greece": "GR",
    "Argentina": "AR",
    "Croatia": "HR",
    "Hong Kong": "HK",
    "Moldova": "MD",
    "Morocco": "MA",
    "Saudi Arabia": "SA",
    "Luxembourg": "LU",
    "Mongolia": "MN",
    "New Zealand": "NZ",
    "Colombia": "CO",
}
MIX = {
    "CN": "import_cn",
    "HK": "import_cn",
    "US": "import_us",
    "CA": "import_us",
    "GB": "import_us",
    "CH": "import_eu",
    "IL": "import_us",
    "AU": "import_us",
    "TR": "import_tr",
    "KR": "import_asia",
    "JP": "import_asia",
    "VN": "import_asia",
    "IN": "import_asia",
    "TH": "import_asia",
    "ID": "import_asia",
    "MY": "import_asia",
    "TW": "import_asia",
    "SG": "import_asia",
    "BD": "import_asia",
    "PK": "import_asia",
    "UZ": "import_near",
    "TJ": "import_near",
    "TM": "import_near",
    "IR": "import_near",
    "AZ": "import_near",
    "UA": "import_near",
    "MD": "import_near",
    "MN": "import_near",
    "RS": "import_eu",
    "NO": "import_eu",
    "RU": "arrival_ru",
    "BY": "arrival_by",
    "KG": "arrival_kg",
    "AM": "arrival_am",
}
EU = {
    "DE",
    "IT",
    "FR",
    "PL",
    "CZ",
    "NL",
    "ES",
    "BE",
    "SE",
    "AT",
    "IE",
    "HU",
    "FI",
    "RO",
    "LT",
    "SK",
    "DK",
    "SI",
    "EE",
    "BG",
    "LV",
    "PT",
    "GR",
    "HR",
    "LU",
}
DISPATCH_RU = {2021: 7.02e9, 2022: 8.78e9}
RU_SHARE = 0.923
OTHER_SPLIT = {"KG": 0.85, "BY": 0.10, "AM": 0.05}
EXPORT = {"UZ": 2.0e9, "CN": 3.0e9, "TJ": 0.6e9, "AF": 0.6e9, "TR": 0.4e9}
EXPORT_2021 = 0.8  # 2021 non-oil exports as a fraction of 2022 (estimate)
SOURCE = "national statistics (mary-lev/eu-export-sanctions), EUR->USD"


def imports(path: str) -> dict[tuple[int, str], float]:
    values: dict[tuple[int, str], float] = defaultdict(float)
    totals: dict[tuple[int, str], float] = {}
    with open(f"{path}/national_stats_annual_imports_kz_kg_am_uz_2019_2023.csv") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        year = int(r["year"])
        if r["reporter_iso2"] != "KZ" or year not in USD_PER_EUR or not r["value_eur"]:
            continue
        usd = float(r["value_eur"]) * USD_PER_EUR[year]
        if r["partner"] in ("World", "Eurasian Economic Union"):
            totals[(year, r["partner"])] = usd
        elif r["partner"] in ISO:
            values[(year, ISO[r["partner"]])] += usd
    for year in USD_PER_EUR:
        outside = totals[(year, "World")] - totals[(year, "Eurasian Economic Union")]
        listed = sum(v for (y, c), v in values.items() if y == year and c not in EAEU)
        for y, c in list(values):
            if y == year and c not in EAEU:
                values[(y, c)] *= outside / listed
    return values


def rows(path: str) -> list[tuple[int, str, str, float, str, str]]:
    out = []
    imp = imports(path)
    for (year, c), usd in sorted(imp.items()):
        mix = MIX.get(c, "import_eu" if c in EU else "import_other")
        out.append((year, "arrival" if c in EAEU else "import", c, usd, mix, SOURCE))
    for year, ru in DISPATCH_RU.items():
        out.append((year, "dispatch", "RU", ru, "dispatch_ru", "public figure (SPEC)"))
        eaeu_imports = sum(v for (y, c), v in imp.items() if y == year and c in EAEU)
        other = (ru + imp[(year, "RU")]) / RU_SHARE - ru - eaeu_imports
        for c, share in OTHER_SPLIT.items():
            out.append(
                (
                    year,
                    "dispatch",
                    c,
                    other * share,
                    f"dispatch_{c.lower()}",
                    "residual of Russia's 92.3% share of EAEU turnover",
                )
            )
        for c, usd in EXPORT.items():
            usd = usd if year == 2022 else usd * EXPORT_2021
            out.append((year, "export", c, usd, "export", "estimate"))
    return out


def main(path: str) -> None:
    with open("keruen/sim/data/trade_targets.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["year", "flow", "partner", "value_usd", "mix", "basis"])
        for year, flow, c, usd, mix, basis in rows(path):
            w.writerow([year, flow, c, f"{usd:.0f}", mix, basis])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")

"""Reference data shipped inside the package: HS codes, countries, units, border posts, CHPL.

Sources and licences: `keruen/data/SOURCES.md`. Loaded lazily, once per process.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources


def data_path(name: str) -> str:
    return str(resources.files("keruen") / "data" / name)


def read_rows(name: str) -> Iterator[dict[str, str]]:
    with open(data_path(name), newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)


@cache
def hs_subheadings() -> dict[str, str]:
    """Six-digit HS subheadings (HS 2022, plus HS 2017 codes for older declarations).

    Comtrade's `999999` "commodities not specified" (section TOTAL) is not an HS code.
    """
    codes: dict[str, str] = {}
    for name in ("hs2017_nomenclature.csv", "hs2022_nomenclature.csv"):
        for row in read_rows(name):
            if row["level"] == "6" and row["section"] != "TOTAL":
                codes[row["hscode"]] = row["description"]
    return codes


@cache
def hs_headings() -> dict[str, str]:
    """Two- and four-digit HS chapters and headings (HS 2022) with their descriptions."""
    return {
        r["hscode"]: r["description"]
        for r in read_rows("hs2022_nomenclature.csv")
        if r["level"] in ("2", "4")
    }


@cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes."""
    return frozenset(r["code"] for r in read_rows("iso3166_alpha2.csv"))


@cache
def units() -> dict[str, str]:
    """UN/ECE Recommendation 20 unit codes in force (rows marked deleted are left out)."""
    return {r["code"]: r["name"] for r in read_rows("unece_rec20.csv") if r["status"] != "X"}


# Rec 20 codes that count whole things (piece, one, each, articles, packs, pairs, sets,
# tablets): a quantity in one of them is a whole number. Multiples (dozen, hundred) are not
# here: 1.5 dozen is 18 pieces.
COUNT_UNITS = frozenset({"PCE", "H87", "C62", "EA", "NAR", "NMP", "NPR", "PR", "SET", "U2"})


@cache
def currencies() -> dict[str, date | None]:
    """ISO 4217 alphabetic codes: None for a code in use, else the first day it is not
    (the month after its withdrawal) - documents dated before it may still use it."""
    out: dict[str, date | None] = {}
    for r in read_rows("iso4217.csv"):
        year, month = (int(x) for x in r["withdrawn"].split("-")) if r["withdrawn"] else (0, 0)
        out[r["code"]] = None if not year else date(year + month // 12, month % 12 + 1, 1)
    return out


@dataclass(frozen=True)
class Post:
    code: str
    name: str
    name_other_side: str
    neighbour: str
    mode: str
    region: str
    lat: float
    lon: float
    check: str


@cache
def load_posts(name: str, name_column: str, region_column: str) -> dict[str, Post]:
    """A country's customs border posts from the shipped file `name`, by code (`<LOCODE>-ROAD`,
    `-RAIL`, ...); which file and which of its columns name the home side is the
    jurisdiction's (`keruen.jurisdiction`)."""
    return {
        r["code"]: Post(
            code=r["code"],
            name=r[name_column],
            name_other_side=r["name_other_side"],
            neighbour=r["neighbour_iso2"],
            mode=r["mode"],
            region=r[region_column],
            lat=float(r["lat"]),
            lon=float(r["lon"]),
            check=r["check"],
        )
        for r in read_rows(name)
    }


@cache
def files() -> list[dict[str, object]]:
    """Every shipped reference file with its size and the start of its SHA-256: the version an
    administrator compares (sources and licences in `keruen/data/SOURCES.md`)."""
    import hashlib

    found: list[dict[str, object]] = []
    for item in sorted(resources.files("keruen").joinpath("data").iterdir(), key=lambda p: p.name):
        if item.is_file() and item.name != "SOURCES.md":
            data = item.read_bytes()
            found.append(
                {
                    "name": item.name,
                    "bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest()[:12],
                }
            )
    return found

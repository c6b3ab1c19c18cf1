"""The home country as configuration: its customs union, its tax identifiers, its declaration
numbers and its border posts.

The jurisdictions Keruen knows are rows of `data/jurisdictions.json`; which one runs is
`KERUEN_JURISDICTION` (read once by `keruen.settings`, default `KZ`). A national tax-id rule is
a small pure function registered in `TAX_IDS`: the home country's rule refuses a home party's
wrong tax id, and any country's rule reads what a tax id says (the month or day a company was
registered), whatever the home country. Nothing else in the engine names a home country.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, cached_property, lru_cache
from operator import mul
from typing import Any

from keruen import reference
from keruen.reference import Post

# --- national tax identifiers -------------------------------------------------------------

_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def kz_bin_problem(tax_id: str) -> str | None:
    """Why a Kazakh BIN/IIN is invalid (12 digits, mod-11 check digit), or None when valid."""
    if len(tax_id) != 12 or not (tax_id.isascii() and tax_id.isdigit()):
        return "must be 12 digits (a Kazakh BIN/IIN)"
    # the weighted sums over the digits' ASCII codes, less the codes' share (48 a digit):
    # a third of the time of a list of ints (what a stream of new ids pays on every line)
    codes = tax_id.encode()
    for weights, zeros in _WEIGHTS:
        check = (sum(map(mul, codes, weights)) - zeros) % 11
        if check != 10:
            break
    if check == 10 or check != codes[11] - 48:
        return "check digit does not match (not a valid Kazakh BIN/IIN)"
    return None


_WEIGHTS = tuple((w, 48 * sum(w)) for w in (_WEIGHTS_1, _WEIGHTS_2))


def kz_bin_check_digit(first11: str) -> int | None:
    """The check digit that completes 11 digits into a valid BIN, or None if none exists."""
    digits = [int(c) for c in first11]
    for weights in (_WEIGHTS_1, _WEIGHTS_2):
        check = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        if check != 10:
            return check
    return None


def kz_bin_registered_us(tax_id: str) -> int | None:
    """A Kazakh BIN starts with the year and month of registration (YYMM); its fifth digit is
    4, 5 or 6 for a legal entity (an IIN starts with a date of birth instead)."""
    if len(tax_id) != 12 or not tax_id.isdigit() or tax_id[4] not in "456":
        return None
    year = int(tax_id[:2])
    year += 2000 if year <= 50 else 1900
    return _micros(year, int(tax_id[2:4]), 1)


def kg_inn_problem(tax_id: str) -> str | None:
    """Why a Kyrgyz INN is invalid, or None. Fourteen digits: 0 and the registration date
    DDMMYYYY for an organisation; 1 (female) or 2 (male) and the date of birth for a person
    (the personal identification number, PIN); then five digits. No check-digit algorithm is
    published that we know of, so a mistyped serial passes; a wrong length, first digit or date
    does not."""
    if len(tax_id) != 14 or not (tax_id.isascii() and tax_id.isdigit()):
        return "must be 14 digits (a Kyrgyz INN)"
    if tax_id[0] not in "012":
        return "must start with 0 (organisation) or 1, 2 (person) (a Kyrgyz INN)"
    if _micros(int(tax_id[5:9]), int(tax_id[3:5]), int(tax_id[1:3])) is None:
        what = "registration date" if tax_id[0] == "0" else "date of birth"
        return f"digits 2-9 are not a {what} DDMMYYYY (a Kyrgyz INN)"
    return None


def kg_inn_registered_us(tax_id: str) -> int | None:
    """A Kyrgyz organisation's INN is 0 followed by its registration date DDMMYYYY."""
    if len(tax_id) != 14 or not tax_id.isdigit() or tax_id[0] != "0":
        return None
    return _micros(int(tax_id[5:9]), int(tax_id[3:5]), int(tax_id[1:3]))


def _micros(year: int, month: int, day: int) -> int | None:
    if year < 1900:
        return None
    try:
        return int(datetime(year, month, day, tzinfo=UTC).timestamp()) * 1_000_000
    except ValueError:
        return None


@dataclass(frozen=True)
class TaxIdRule:
    """A national tax identifier: what it is called, why a value is wrong, what it says."""

    name: str
    problem: Callable[[str], str | None]
    # the time (microseconds since the epoch) a company was registered, when the id says
    registered_us: Callable[[str], int | None]


TAX_IDS: dict[str, TaxIdRule] = {
    "KZ": TaxIdRule("BIN", kz_bin_problem, kz_bin_registered_us),
    "KG": TaxIdRule("INN", kg_inn_problem, kg_inn_registered_us),
}


def registered_us(tax_id: str, country: str) -> int | None:
    """When the company holding `tax_id` of `country` was registered, if its id says."""
    rule = TAX_IDS.get(country)
    return None if rule is None or not tax_id.isdigit() else rule.registered_us(tax_id)


# --- the jurisdiction ---------------------------------------------------------------------


class CheckedTaxIds(dict[str, str | None]):
    """A tax-id rule's answers, remembered, up to 65,536 ids (then forgotten all at once): a
    few thousand traders declare most lines. A plain dict reads less memory a lookup than
    `lru_cache`'s linked entries (on the ingest's parse the cache's call was a tenth of its
    time, most of it waiting for memory); the rules themselves are not cached."""

    def __init__(self, problem: Callable[[str], str | None]) -> None:
        self.problem = problem

    def __missing__(self, tax_id: str) -> str | None:
        if len(self) >= 1 << 16:
            self.clear()
        problem = self[tax_id] = self.problem(tax_id)
        return problem


@lru_cache(maxsize=1 << 12)  # a stream's declarations name a few hundred dates, not one each
def _is_date(yy: str, mm: str, dd: str) -> bool:
    """Whether a declaration number's date digits are a date (of this century)."""
    return _micros(2000 + int(yy), int(mm), int(dd)) is not None


@dataclass(frozen=True)
class Jurisdiction:
    """One home country, as `data/jurisdictions.json` describes it."""

    code: str
    name: str
    union_name: str
    union: frozenset[str]
    tax_id: TaxIdRule
    # a declaration item number: named groups dd, mm, yy (the declaration's date)
    declaration: re.Pattern[str]
    declaration_example: str
    posts_file: str
    posts_columns: tuple[str, str] = ("name_home_side", "home_region")
    # the region around it: UN/LOCODE places (transit waypoints) and country outlines (maps)
    locodes_file: str = ""
    outlines_file: str = ""
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def home(self) -> str:
        return self.code

    @cached_property
    def partners(self) -> frozenset[str]:
        """Union members other than home: destinations of dispatches, sources of arrivals."""
        return self.union - {self.home}

    def tax_id_problem(self, tax_id: str) -> str | None:
        return self.checked_tax_ids[tax_id]

    @cached_property
    def checked_tax_ids(self) -> CheckedTaxIds:
        """The tax-id rule's answers by tax id (`checked_tax_ids[tax_id]`: the ingest's parse
        asks for one or two a line, of a few thousand traders)."""
        return CheckedTaxIds(self.tax_id.problem)

    def declaration_problem(self, number: str) -> str | None:
        """Why `number` is not a declaration item number here, or None."""
        m = self.declaration.match(number)
        if not m:
            return f"{number!r} is not a declaration item number office/ddmmyy/number/item"
        if not _is_date(*m.group("yy", "mm", "dd")):
            return f"{number!r}: ddmmyy is not a date"
        return None

    @cached_property
    def posts(self) -> dict[str, Post]:
        """The home country's border posts, by code."""
        return reference.load_posts(self.posts_file, *self.posts_columns)

    def __reduce__(self) -> tuple[Callable[[str], Jurisdiction], tuple[str]]:
        """Sent to another process (the ingest's parse process) by its code."""
        return get, (self.code,)


@cache
def known() -> dict[str, Jurisdiction]:
    """The jurisdictions shipped in `data/jurisdictions.json`, by code."""
    with open(reference.data_path("jurisdictions.json"), encoding="utf-8") as f:
        doc = json.load(f)
    unions = {name: frozenset(members) for name, members in doc["unions"].items()}
    return {code: _jurisdiction(code, row, unions) for code, row in doc["jurisdictions"].items()}


def _jurisdiction(
    code: str, row: dict[str, Any], unions: dict[str, frozenset[str]]
) -> Jurisdiction:
    decl, posts = row["declaration"], row["posts"]
    return Jurisdiction(
        code=code,
        name=row["name"],
        union_name=row["union"],
        union=unions[row["union"]],
        tax_id=TAX_IDS[code],
        declaration=re.compile(decl["pattern"]),
        declaration_example=decl["example"],
        posts_file=posts["file"],
        posts_columns=(posts["name_column"], posts["region_column"]),
        locodes_file=row["region"]["locodes"],
        outlines_file=row["region"]["outlines"],
        notes=tuple(row.get("notes", ())),
    )


def get(code: str) -> Jurisdiction:
    """The jurisdiction `code`, or KeyError naming the ones Keruen knows."""
    try:
        return known()[code.upper()]
    except KeyError:
        known_codes = ", ".join(known())
        raise KeyError(f"{code!r} is not a known jurisdiction (one of: {known_codes})") from None

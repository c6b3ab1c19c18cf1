"""Identifiers that look and check like real ones: BIN, INN, UNP, event ids, MRNs.

Each national format carries what its real counterpart carries: a Kazakh BIN starts with
its registration year and month and ends with a mod-11 check digit; a Kyrgyz company INN
embeds its registration date; a Russian INN starts with the region code and has its
check digit. Detectors may read those facts, as officers do.
"""

from __future__ import annotations

import random
from datetime import date

from keruen.jurisdiction import kz_bin_check_digit

_RU_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_BY_WEIGHTS = (29, 23, 19, 17, 13, 7, 5, 3)
_SCRAMBLE = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1


def kz_bin(registered: date, serial: int, stride: int = 1) -> str:
    """A legal entity's BIN: YYMM, 4 (resident legal entity), 0 (head office), a five-digit
    serial, check digit. If no check digit exists for `serial`, the next serial in steps of
    `stride` is used (so a shard's serials stay in their residue class)."""
    for bump in range(20):
        first11 = f"{registered:%y%m}40{(serial + bump * stride) % 100_000:05d}"
        check = kz_bin_check_digit(first11)
        if check is not None:
            return first11 + str(check)
    raise ValueError(f"no valid BIN near serial {serial}")  # pragma: no cover - never happens


def ru_inn(region: str, serial: int) -> str:
    """A Russian legal entity's 10-digit INN: region, serial, check digit."""
    first9 = f"{region}{serial % 10_000_000:07d}"
    check = sum(int(d) * w for d, w in zip(first9, _RU_WEIGHTS, strict=True)) % 11 % 10
    return first9 + str(check)


def ru_inn_valid(inn: str) -> bool:
    return len(inn) == 10 and inn.isdigit() and ru_inn(inn[:2], int(inn[2:9])) == inn


def kg_inn(registered: date, serial: int) -> str:  # the serial keeps it unique per day
    """A Kyrgyz company's 14-digit INN: 0, registration date DDMMYYYY, five digits."""
    return f"0{registered:%d%m%Y}{serial % 100_000:05d}"


def by_unp(serial: int, stride: int = 1) -> str:
    """A Belarusian legal entity's 9-digit UNP (first digit 1-7) with its check digit."""
    for bump in range(20):
        n = serial + bump * stride
        first8 = f"{1 + n // 10_000_000 % 7}{n % 10_000_000:07d}"
        check = sum(int(d) * w for d, w in zip(first8, _BY_WEIGHTS, strict=True)) % 11
        if check < 10:
            return first8 + str(check)
    raise ValueError("no valid UNP")  # pragma: no cover


_FOREIGN = {
    "CN": lambda s, r: (
        f"91{r.randint(10, 65)}0{s % 10**7:07d}{r.choice('ABCDEFGHJKLMN')}"
        f"{r.randint(100, 999)}{r.choice('XY')}"
    ),
    "US": lambda s, r: f"{r.randint(10, 99)}-{s % 10**7:07d}",
    "KR": lambda s, r: f"{r.randint(100, 999)}-{s % 10**7 // 10**5:02d}-{s % 10**5:05d}",
    "JP": lambda s, r: f"{r.randint(100_000, 999_999)}{s % 10**7:07d}",
    "TR": lambda s, r: f"{r.randint(100, 999)}{s % 10**7:07d}",
    "AM": lambda s, r: f"0{s % 10**7:07d}",
    "UZ": lambda s, r: f"{r.randint(20, 30)}{s % 10**7:07d}",
}


def foreign_tax_id(country: str, serial: int, rng: random.Random) -> str:
    """A tax or VAT number in the usual shape for `country` (not checked by Keruen); the
    serial's last seven digits make it unique."""
    make = _FOREIGN.get(country)
    return make(serial, rng) if make else f"{country}{rng.randint(10, 99)}{serial % 10**7:07d}"


def event_id(n: int, salt: int) -> str:
    """The n-th event id: a bijective scramble of a counter, so ids never repeat and do not
    reveal the order in which the simulator made them."""
    return f"{((n ^ salt) * _SCRAMBLE) & _MASK:016x}"


def mrn(year: int, office: str, n: int) -> str:
    """A transit declaration's movement reference number, 18 characters."""
    return f"{year % 100:02d}KZ{office}T{n:08d}"


def seal(n: int) -> str:
    return f"ENP{n:09d}"

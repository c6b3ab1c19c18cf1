"""What a tax identifier says about its holder, as an officer reads it: when it was registered.

A Kazakh BIN starts with the year and month of registration (YYMM) and its fifth digit is 4, 5
or 6 for a legal entity; a Kyrgyz company INN is 0 followed by the registration date DDMMYYYY.
"""

from __future__ import annotations

from datetime import UTC, datetime

MONTH_US = 30.44 * 86_400_000_000


def registered_us(tax_id: str, country: str = "KZ") -> int | None:
    """The registration time (first of the month, or the day) the identifier carries, if any."""
    if not tax_id.isdigit():
        return None
    if country == "KZ" and len(tax_id) == 12 and tax_id[4] in "456":
        return _month(tax_id[:2], tax_id[2:4])
    if country == "KG" and len(tax_id) == 14 and tax_id[0] == "0":
        return _date(tax_id[5:9], tax_id[3:5], tax_id[1:3])
    return None


def _month(yy: str, mm: str) -> int | None:
    year = int(yy)
    year += 2000 if year <= 50 else 1900
    return _date(str(year), mm, "01")


def _date(yyyy: str, mm: str, dd: str) -> int | None:
    try:
        t = datetime(int(yyyy), int(mm), int(dd), tzinfo=UTC)
    except ValueError:
        return None
    return int(t.timestamp()) * 1_000_000


def age_months(tax_id: str, country: str, at_us: int) -> float | None:
    """How old the registration was at `at_us`, in months (None when the id does not say)."""
    reg = registered_us(tax_id, country)
    return None if reg is None else (at_us - reg) / MONTH_US

"""What a tax identifier says about its holder, as an officer reads it: when it was registered.

Which national identifiers carry a registration date, and where, is `keruen.jurisdiction`'s
(`TAX_IDS`); a holder's id is read by the home country's rule, a foreign party's by its own.
"""

from __future__ import annotations

from keruen import jurisdiction
from keruen.settings import get_settings

MONTH_US = 30.44 * 86_400_000_000


def registered_us(tax_id: str, country: str | None = None) -> int | None:
    """The registration time (first of the month, or the day) the identifier carries, if any;
    `country` is the home country's unless given."""
    return jurisdiction.registered_us(tax_id, country or get_settings().jurisdiction.home)


def age_months(tax_id: str, country: str, at_us: int) -> float | None:
    """How old the registration was at `at_us`, in months (None when the id does not say)."""
    reg = registered_us(tax_id, country)
    return None if reg is None else (at_us - reg) / MONTH_US

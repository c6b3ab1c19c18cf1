"""What makes Keruen Kazakh: the home country, its customs union, its tax identifiers.

Nothing else in the engine names a country; another state is another `Jurisdiction`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

EAEU = frozenset({"AM", "BY", "KG", "KZ", "RU"})

_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


@lru_cache(maxsize=1 << 16)
def kz_bin_problem(tax_id: str) -> str | None:
    """Why a Kazakh BIN/IIN is invalid (12 digits, mod-11 check digit), or None when valid."""
    if len(tax_id) != 12 or not (tax_id.isascii() and tax_id.isdigit()):
        return "must be 12 digits (a Kazakh BIN/IIN)"
    digits = [int(c) for c in tax_id]
    for weights in (_WEIGHTS_1, _WEIGHTS_2):
        check = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        if check != 10:
            break
    if check == 10 or check != digits[11]:
        return "check digit does not match (not a valid Kazakh BIN/IIN)"
    return None


def kz_bin_check_digit(first11: str) -> int | None:
    """The check digit that completes 11 digits into a valid BIN, or None if none exists."""
    digits = [int(c) for c in first11]
    for weights in (_WEIGHTS_1, _WEIGHTS_2):
        check = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
        if check != 10:
            return check
    return None


@dataclass(frozen=True)
class Jurisdiction:
    home: str
    union: frozenset[str]
    tax_id_problem: Callable[[str], str | None]

    @property
    def partners(self) -> frozenset[str]:
        """Union members other than home: destinations of dispatches, sources of arrivals."""
        return self.union - {self.home}


KAZAKHSTAN = Jurisdiction(home="KZ", union=EAEU, tax_id_problem=kz_bin_problem)

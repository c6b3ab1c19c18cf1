"""Goods and party screening (SPEC C3, C4).

The pure core: `text` (normalise, transliterate), `features` (weighted, explained features and
the algorithm registry), `index` (blocking), `screener` (`Screener.screen_goods`,
`Screener.screen_party`). At the edges: `loaders` (list files), `store` (lists and results in
the Keruen database), `ledger` (`screen_ledger`, screening what the ledger holds).

```
from keruen.screening import load_screener, screen_goods, results_for, screen_ledger
screen_goods("854231", "RU", date(2024, 5, 1))         # the shipped CHPL, no database
with engine.connect() as conn:
    screener = load_screener(conn)                      # every loaded list, current versions
    screener.screen_party("ООО Ромашка", country="RU", ids=["7701234567"])
report = screen_ledger(engine)                          # dispatches, exports, transits
with engine.connect() as conn:
    results_for(conn, ["evt-1", "evt-2"])               # {event id: [hit, ...]}
```
"""

from __future__ import annotations

from datetime import date
from functools import cache

from keruen.screening.features import ALGORITHMS, Algorithm, get_algorithm
from keruen.screening.ledger import LedgerReport, screen_ledger
from keruen.screening.loaders import ListFormatError, chpl, ofac_demo
from keruen.screening.model import Entry, GoodsHit, GoodsRule, Identifier, PartyHit
from keruen.screening.screener import Screener
from keruen.screening.store import UnknownList, load_screener, results_for, screened
from keruen.screening.text import analyse

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "Entry",
    "GoodsHit",
    "GoodsRule",
    "Identifier",
    "LedgerReport",
    "ListFormatError",
    "PartyHit",
    "Screener",
    "UnknownList",
    "analyse",
    "builtin_screener",
    "get_algorithm",
    "load_screener",
    "results_for",
    "screen_goods",
    "screen_ledger",
    "screen_party",
    "screened",
    "with_shipped_parties",
]


def with_shipped_parties(screener: Screener) -> Screener:
    """`screener`, given the shipped OFAC extract when no party list was loaded — named as such
    in every answer (`Screener.warning`), never a silent "no hit"."""
    if not screener.party_lists:
        demo = ofac_demo()
        screener.add_entries(demo.entries, demo.version)
        screener.shipped_extract = True
    return screener


@cache
def builtin_screener() -> Screener:
    """The lists shipped with Keruen (CHPL, the OFAC extract): screening with no database."""
    return with_shipped_parties(Screener(rules=chpl().rules))


def screen_goods(hs: str, destination: str, on: date) -> list[GoodsHit]:
    """Goods rules of the shipped lists that fire for `hs` bound for `destination` on `on`."""
    return builtin_screener().screen_goods(hs, destination, on)


def screen_party(
    name: str, country: str | None = None, ids: tuple[str, ...] = ()
) -> list[PartyHit]:
    """Entries of the shipped lists that a party matches, best first (see `load_screener` for
    the lists an administrator loaded)."""
    return builtin_screener().screen_party(name, country, ids)

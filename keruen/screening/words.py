"""How much a word says: words common in the lists or in the economy's own party names count for
less ("Trading", "Invest", "Сервис", "Guangzhou"), rare words for more.

The list frequencies ship in `keruen/data/screening_word_frequencies.csv` (how many of the full
OFAC list's names hold each skeleton word); the economy's are learnt from the party names the
ledger holds (`WEIGHTS.learn`). A word's factor is 1 up to one name in 4,000 and falls by 0.2
for every doubling beyond, down to 0.2. Pure apart from reading the shipped table once.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Callable, Iterable
from importlib.resources import files

RARE_SHARE = 1 / 4000  # up to this share of names a word weighs fully
STEP = 0.2  # weight lost per doubling of the share beyond
FLOOR = 0.2


def _shipped() -> tuple[dict[str, int], int]:
    path = files("keruen") / "data" / "screening_word_frequencies.csv"
    with path.open(encoding="utf-8") as f:
        rows = {r["word"]: int(r["names"]) for r in csv.DictReader(f)}
    return rows, rows.pop("_total")


class WordWeights:
    """Word shares in the list and in the economy; `factor` is a word's weight in [0.2, 1]."""

    def __init__(self) -> None:
        self.listed, self.listed_total = _shipped()
        self.economy: Counter[str] = Counter()
        self.economy_total = 0
        self.on_change: list[Callable[[], None]] = []
        self._factors: dict[str, float] = {}

    def learn(self, skeletons: Iterable[Iterable[str]]) -> int:
        """Count the words of the economy's party names (each name's skeleton words once)."""
        n = 0
        for words in skeletons:
            self.economy.update(set(words))
            n += 1
        self.economy_total += n
        self._changed()
        return n

    def forget_economy(self) -> None:
        self.economy.clear()
        self.economy_total = 0
        self._changed()

    def _changed(self) -> None:
        self._factors.clear()
        for hook in self.on_change:
            hook()

    def share(self, word: str) -> float:
        listed = self.listed.get(word, 0) / self.listed_total
        if not self.economy_total:
            return listed
        return max(listed, self.economy[word] / self.economy_total)

    def factor(self, word: str) -> float:
        found = self._factors.get(word)
        if found is None:
            share = self.share(word)
            found = (
                1.0
                if share <= RARE_SHARE or word.isdigit()
                else max(FLOOR, 1.0 - STEP * math.log2(share / RARE_SHARE))
            )
            self._factors[word] = found
        return found


WEIGHTS = WordWeights()

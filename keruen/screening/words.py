"""How much a word says: words common in the lists or in the economy's own party names count for
less ("Trading", "Invest", "Сервис", "Guangzhou"), rare words for more.

The list frequencies ship in `keruen/data/screening_word_frequencies.csv` (how many of the full
OFAC list's names, and how many of its entries, hold each skeleton word); the economy's are
learnt from the party names the ledger holds (`WEIGHTS.learn`). A word's factor is 1 up to one
name in 4,000 and falls by 0.2 for every doubling beyond, down to 0.2. A word found in three
entries or more (`shared`) names none of them: "Guangzhou", "Technology", «Торговый», «Дом»;
one in one name in 250 or more (`filler`) says nothing at all: "the", "of", "bank".
Pure apart from reading the shipped table once.
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
SHARED_ENTRIES = 3  # a word in this many list entries or more tells none of them apart
FILLER_SHARE = RARE_SHARE * 2 ** ((1 - FLOOR) / STEP)  # 1 name in 250: the, of, and, bank


def _shipped() -> tuple[dict[str, int], int, dict[str, int]]:
    path = files("keruen") / "data" / "screening_word_frequencies.csv"
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = {r["word"]: int(r["names"]) for r in rows}
    entries = {r["word"]: int(r["entries"]) for r in rows}
    entries.pop("_total")
    return names, names.pop("_total"), entries


class WordWeights:
    """Word shares in the list and in the economy; `factor` is a word's weight in [0.2, 1]."""

    def __init__(self) -> None:
        self.listed, self.listed_total, self.listed_entries = _shipped()
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

    def shared(self, word: str) -> bool:
        """The word is in `SHARED_ENTRIES` entries of the list or more: it names none of them."""
        return self.listed_entries.get(word, 0) >= SHARED_ENTRIES

    def filler(self, word: str) -> bool:
        """The word is in one list name in 250 or more (the, of, and, trading): its weight is
        the floor, and a name lacking it lacks nothing that tells it apart."""
        return self.listed.get(word, 0) >= FILLER_SHARE * self.listed_total

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

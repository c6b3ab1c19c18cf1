"""A blocking index: finds the few names worth scoring without comparing against every name.

Each indexed name is filed under blocking keys built from its skeleton words:

- `w:` + word — every word of two letters or more;
- `f:` + the first five letters of every word of seven letters or more: a long word whose
  ending alone differs (Lukashenka / Lukashenko) still meets when its partners differ too;
- `p:` + prefix pair — the three-letter prefixes of two of its words, for every pair of words
  (a name of one word files its first and last four letters instead). Prefixes survive the endings
  that romanisations disagree on (Lukashenko/Lukashenka, Aleksandr/Alexander) and typos late
  in a word; a pair of them is selective even when each word alone is common ("Mohammed Ali").

A query looks its keys up rarest first and unions the postings until a budget is spent; a
posting longer than `max_posting` (300) is skipped once anything was found (a common word alone
says little). The candidates then pass a C-level RapidFuzz prefilter (ratio of the sorted
skeleton words) before the features run.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from itertools import combinations
from operator import itemgetter
from typing import Any

from rapidfuzz import fuzz, process

MAX_WORDS_PAIRED = 6


def blocking_keys(skeleton: Iterable[str]) -> set[str]:
    """The keys a name is filed under (and looked up by)."""
    words = [w for w in dict.fromkeys(skeleton) if len(w) > 1]
    keys = {"w:" + w for w in words}
    if len(words) == 1:  # one word: its first and its last four letters (a typo spares one)
        keys.update(("p:" + words[0][:4], "s:" + words[0][-4:]))
    keys.update("f:" + w[:5] for w in words if len(w) >= 7)  # Lukashenka / Lukashenko
    prefixes = sorted({w[:3] for w in words[:MAX_WORDS_PAIRED]})
    keys.update(f"p:{a}|{b}" for a, b in combinations(prefixes, 2))
    return keys


def _prefilter(key: str) -> tuple[str, Any]:
    """The query and scorer of the prefilter: the ratio of the sorted words, or, for a query with
    initials ("V. V. Putin"), the token-set ratio of its full words (initials left out)."""
    words = key.split()
    if any(len(w) == 1 for w in words):
        return " ".join(w for w in words if len(w) > 1) or key, fuzz.token_set_ratio
    return key, fuzz.ratio


class NameIndex:
    """Names (as sorted skeleton keys) with their owner, filed under blocking keys."""

    def __init__(self, max_posting: int = 300, budget: int = 300) -> None:
        self.keys: list[str] = []
        self.owners = array("i")
        self.postings: dict[str, array[int]] = {}
        self.max_posting = max_posting
        self.budget = budget

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, key: str, owner: int) -> int:
        """File one name; returns its row."""
        row = len(self.keys)
        self.keys.append(key)
        self.owners.append(owner)
        for k in blocking_keys(key.split()):
            posting = self.postings.get(k)
            if posting is None:
                self.postings[k] = array("i", (row,))
            else:
                posting.append(row)
        return row

    def candidates(self, key: str) -> list[int]:
        """Rows that share a blocking key with the query, rarest keys first, within budget."""
        found = [p for k in blocking_keys(key.split()) if (p := self.postings.get(k))]
        found.sort(key=len)
        rows: set[int] = set()
        for posting in found:
            if rows and (len(posting) > self.max_posting or len(rows) >= self.budget):
                break
            rows.update(posting[: self.budget] if len(posting) > self.budget else posting)
        return list(rows)

    def shortlist(
        self, key: str, cutoff: float, limit: int, behind: float = 1.0
    ) -> list[tuple[int, float]]:
        """Candidate rows whose letters resemble the query, best first (RapidFuzz, in C); with
        `behind` < 1, only those within `behind` of the best."""
        rows = self.candidates(key)
        if not rows:
            return []
        choices = itemgetter(*rows)(self.keys) if len(rows) > 1 else [self.keys[rows[0]]]
        query, scorer = _prefilter(key)
        found = process.extract(
            query, choices, scorer=scorer, processor=None, score_cutoff=cutoff * 100, limit=limit
        )
        if found and behind < 1.0:
            floor = found[0][1] - behind * 100
            found = [f for f in found if f[1] >= floor]
        return [(rows[i], score / 100.0) for _, score, i in found]

    def brute_force(self, key: str, cutoff: float, limit: int) -> list[tuple[int, float]]:
        """The same shortlist over every name: the baseline the index is measured against."""
        query, scorer = _prefilter(key)
        found = process.extract(
            query, self.keys, scorer=scorer, processor=None, score_cutoff=cutoff * 100, limit=limit
        )
        return [(i, score / 100.0) for _, score, i in found]

"""How alike two words of names are, and how one name writes as one word what another writes as
two or three (VladimirPutin, Vanderbilt) or as an acronym (PLA). Pure; the word-level half of
matching (`alignment` pairs up the words of two names, `features` weighs what it found).
"""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz.distance import OSA

from keruen.screening.text import is_patronymic


@lru_cache(maxsize=1 << 18)
def token_similarity(a: str, b: str) -> float:
    """Similarity of two skeleton words; an initial stands for any word it begins."""
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:
        return 0.8 if _initial(a, b) else 0.0
    if is_patronymic(a) != is_patronymic(b):  # Vladimir is not Vladimirovich
        return 0.0
    if abs(len(a) - len(b)) > 1 and (_contraction(a, b) or _contraction(b, a)):
        return CONTRACTION
    sim = OSA.normalized_similarity(a, b)  # a swap of two letters is one typo
    return VOWEL_ONLY if sim < VOWEL_ONLY and _one_vowel_apart(a, b) else sim


CONTRACTION = 0.9  # Intl / International, Hldg / Holding, Mgmt / Management
VOWEL_ONLY = 0.9  # Usama / Osama, Ladin / Laden, Moammar / Muammar, Nursultan / Nursoltan
_VOWELS = frozenset("aeiou")


def _initial(a: str, b: str) -> bool:
    """An initial and a word it begins, as written: J. is Jean, whose skeleton is "ean"."""
    x, y = (a, b) if len(a) == 1 else (b, a)
    return x == y[0] or (x == "i" and y[0] == "e")


def _contraction(short: str, long: str) -> bool:
    """`short` writes `long` without its vowels and some consonants, first and last letter kept."""
    if len(short) < 4 or len(long) < len(short) + 2 or short[0] != long[0]:
        return False
    if short[-1] != long[-1] or not _VOWELS.isdisjoint(short[1:]):
        return False
    rest = iter(long)
    return all(ch in rest for ch in short)


def _one_vowel_apart(a: str, b: str) -> bool:
    """Words of five letters or more one vowel apart: Arabic and Persian vowels have no one
    Latin spelling, nor do Russian unstressed ones."""
    if len(a) != len(b) or len(a) < 5:
        return False
    diff = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return len(diff) == 1 and diff[0][0] in _VOWELS and diff[0][1] in _VOWELS


JOIN_SIMILARITY = 0.9  # a word and two words of the other name, written together: a typo
# in a long one at most (ABDULMALIK is not ABDUL KHALIK)


def _joined(word: str, other: list[str]) -> tuple[str, ...] | None:
    """Two or three words of `other` that `word` writes as one, in any order (VladimirPutin,
    Goodwill, Vanderbilt, Abdalrahman)."""
    if len(word) < 5:
        return None
    for a in other:
        if len(a) < 2 or a[:2] != word[:2] or len(a) >= len(word):
            continue
        for b in other:
            if b is a:
                continue
            if _similar(word, a + b):
                return a, b
            if len(a) + len(b) < len(word) - 1:
                for c in other:
                    if c is not a and c is not b and _similar(word, a + b + c):
                        return a, b, c
    return None


def _similar(word: str, joined: str) -> bool:
    return OSA.normalized_similarity(word, joined) >= JOIN_SIMILARITY


def _resplit(q: list[str], c: list[str]) -> tuple[list[str], list[str]]:
    """Rewrite a word of one name that is two or three words of the other as those words."""
    for one, two in ((q, c), (c, q)):
        if len(one) < len(two):  # a word written together leaves its side a word short
            for i, word in enumerate(one):
                if word in two:
                    continue
                pair = _joined(word, two) or _acronym(word, one, two)
                if pair:
                    one[i : i + 1] = list(pair)
                    return _resplit(q, c)
    return q, c


def _acronym(word: str, one: list[str], two: list[str]) -> tuple[str, ...] | None:
    """The words of `two` that `one` lacks, when `word` is made of their first letters and is
    the only word of `one` that `two` lacks (PLA and People's Liberation Army; U.S. Department
    of State and United States Department of State): a key keeps no order to check."""
    if not 2 <= len(word) <= 5 or not word.isalpha() or any(w not in two for w in one if w != word):
        return None
    rest = [w for w in two if w not in one]
    if len(rest) != len(word) or sorted(word) != sorted(w[0] for w in rest):
        return None
    return tuple(rest) if min(map(len, rest)) >= 3 else None  # words, not letters (DELTA MK)

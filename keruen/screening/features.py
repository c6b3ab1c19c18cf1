"""Matching features and the algorithms that weigh them (STYLE habit 10).

Every feature is a small pure function `(Pair) -> float` in [0, 1]. Its docstring's first line
is the sentence a user reads in the explanation of a hit, so the code and the explanation cannot
drift apart. An algorithm is a named list of (feature, weight); a score is the weighted sum,
clipped to [0, 1]. `ALGORITHMS` and `get_algorithm` are the registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from keruen.screening.model import Contribution
from keruen.screening.text import is_patronymic

MIN_TOKEN_SIMILARITY = 0.5  # below this two words are different words, not misspellings
WEAK_TOKEN_SIMILARITY = 0.65  # aligned, but too far apart to vouch for each other (Ruslan/Roman)

_DIGIT = re.compile(r"[0-9]")
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a comparison: sorted skeleton tokens, countries, identifiers, kind."""

    key: str
    countries: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()
    organization: bool | None = None  # None: unknown

    @property
    def tokens(self) -> list[str]:
        return self.key.split()


@dataclass(frozen=True, slots=True)
class Pair:
    query: Side
    candidate: Side


Feature = Callable[[Pair], float]


@lru_cache(maxsize=1 << 18)
def token_similarity(a: str, b: str) -> float:
    """Similarity of two skeleton words; an initial stands for any word it begins."""
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:
        return 0.8 if a[0] == b[0] else 0.0
    if is_patronymic(a) != is_patronymic(b):  # Vladimir is not Vladimirovich
        return 0.0
    return OSA.normalized_similarity(a, b)  # a swap of two letters is one typo


@dataclass(frozen=True, slots=True)
class Alignment:
    """How the words of two names pair up: coverage of each side, and what was left over."""

    cover_q: float
    cover_c: float
    letters: float
    conflict: bool


@lru_cache(maxsize=1 << 16)
def align(qkey: str, ckey: str) -> Alignment:
    """Greedy one-to-one alignment of the words of two names (best pairs first).

    A patronymic left over on one side only is ignored (people often omit it); an initial takes
    the letters of the word it aligned with before the letter similarity is measured.
    """
    q, c = qkey.split(), ckey.split()
    pairs = [
        (sim, i, j)
        for i, a in enumerate(q)
        for j, b in enumerate(c)
        if (sim := token_similarity(a, b)) >= MIN_TOKEN_SIMILARITY
    ]
    pairs.sort(reverse=True)
    match: dict[int, tuple[int, float]] = {}
    used: set[int] = set()
    for sim, i, j in pairs:
        if i not in match and j not in used:
            match[i] = (j, sim)
            used.add(j)
    rest_q = [w for i, w in enumerate(q) if i not in match or match[i][1] < WEAK_TOKEN_SIMILARITY]
    rest_c = [c[j] for j in range(len(c)) if j not in used] + [
        c[j] for j, s in match.values() if s < WEAK_TOKEN_SIMILARITY
    ]
    drop_q = _optional_patronymics(rest_q, c)
    drop_c = _optional_patronymics(rest_c, q)
    q_words = [
        c[match[i][0]] if len(w) == 1 and i in match else w
        for i, w in enumerate(q)
        if w not in drop_q
    ]
    c_words = [w for w in c if w not in drop_c] if drop_c else c
    matched_q = sum(s * len(q[i]) for i, (_, s) in match.items())
    matched_c = sum(s * len(c[j]) for j, s in match.values())
    cover_q = matched_q / max(1, sum(len(w) for w in q if w not in drop_q))
    cover_c = matched_c / max(1, sum(map(len, c_words)))
    letters = fuzz.ratio(" ".join(sorted(q_words)), " ".join(sorted(c_words))) / 100.0
    conflict = (
        bool(rest_q and rest_c)
        and any(len(w) > 2 for w in rest_q if w not in drop_q)
        and any(len(w) > 2 for w in rest_c if w not in drop_c)
    )
    return Alignment(min(1.0, cover_q), min(1.0, cover_c), letters, conflict)


def _optional_patronymics(rest: list[str], other: list[str]) -> frozenset[str] | set[str]:
    """The patronymics left over on one side, unless the other side names one too."""
    found = {w for w in rest if is_patronymic(w)} if rest else _NONE
    return _NONE if found and any(map(is_patronymic, other)) else found


def name_words(pair: Pair) -> float:
    """Words of the names align one to one (any order, misspellings allowed)"""
    if not pair.query.key or not pair.candidate.key:
        return 0.0
    a = align(pair.query.key, pair.candidate.key)
    shorter, longer = sorted((a.cover_q, a.cover_c), reverse=True)
    return 0.75 * shorter + 0.25 * longer


def name_letters(pair: Pair) -> float:
    """The names share their letters (edit similarity of the sorted words)"""
    if not pair.query.key or not pair.candidate.key:
        return 0.0
    return align(pair.query.key, pair.candidate.key).letters


def words_conflict(pair: Pair) -> float:
    """Each name has a word the other lacks (another given name, another place)"""
    if not pair.query.key or not pair.candidate.key:
        return 0.0
    return 1.0 if align(pair.query.key, pair.candidate.key).conflict else 0.0


def identifier_match(pair: Pair) -> float:
    """An identifier (INN, OGRN, BIN, IMO, passport, ...) is the same"""
    return 1.0 if pair.query.ids & pair.candidate.ids else 0.0


def country_agrees(pair: Pair) -> float:
    """The countries agree"""
    return 1.0 if pair.query.countries & pair.candidate.countries else 0.0


def country_differs(pair: Pair) -> float:
    """Both sides name countries, and none agrees"""
    q, c = pair.query.countries, pair.candidate.countries
    return 1.0 if q and c and not q & c else 0.0


def numbers_differ(pair: Pair) -> float:
    """Numbers in the names differ (fund 1 is not fund 2)"""
    if not (_DIGIT.search(pair.query.key) or _DIGIT.search(pair.candidate.key)):
        return 0.0  # most names have no digit at all: spare the splitting
    q = {t for t in pair.query.tokens if t.isdigit()}
    c = {t for t in pair.candidate.tokens if t.isdigit()}
    return 1.0 if (q or c) and q != c else 0.0


def kind_differs(pair: Pair) -> float:
    """One is a company (legal form), the other a person"""
    q, c = pair.query.organization, pair.candidate.organization
    return 1.0 if q is not None and c is not None and q != c else 0.0


@dataclass(frozen=True)
class Algorithm:
    """A named list of weighted features and the threshold above which a pair is a hit."""

    name: str
    features: tuple[tuple[Feature, float], ...]
    threshold: float
    description: str

    def contributions(self, pair: Pair) -> tuple[Contribution, ...]:
        return tuple(Contribution(f.__name__, f(pair), w, _why(f)) for f, w in self.features)

    def explain(self, pair: Pair) -> tuple[float, tuple[Contribution, ...]]:
        """The score and the contributions it is the sum of, each feature computed once."""
        parts = self.contributions(pair)
        return clip(sum(c.weight * c.value for c in parts)), parts

    def score(self, pair: Pair) -> float:
        return clip(sum(w * f(pair) for f, w in self.features))


def clip(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


@cache
def _why(f: Feature) -> str:
    return (f.__doc__ or f.__name__).strip().splitlines()[0]


KERUEN_V1 = Algorithm(
    name="keruen-v1",
    features=(
        (name_words, 0.60),
        (name_letters, 0.40),
        (identifier_match, 1.20),  # decisive: outweighs every penalty below
        (country_agrees, 0.05),
        (country_differs, -0.10),
        (words_conflict, -0.10),
        (numbers_differ, -0.30),
        (kind_differs, -0.15),
    ),
    threshold=0.78,
    description="transliteration-aware word alignment and letter similarity, identifiers "
    "decisive, country and kind as qualifiers",
)
LETTERS_ONLY = Algorithm(
    name="letters",
    features=((name_letters, 1.0),),
    threshold=0.80,
    description="baseline: RapidFuzz ratio of the sorted skeleton words, nothing else",
)
ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in (KERUEN_V1, LETTERS_ONLY)}
DEFAULT_ALGORITHM = KERUEN_V1.name


def get_algorithm(name: str = DEFAULT_ALGORITHM) -> Algorithm:
    """The algorithm registered under `name`; KeyError names the ones that exist."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise KeyError(f"unknown algorithm {name!r}; known: {', '.join(ALGORITHMS)}") from None

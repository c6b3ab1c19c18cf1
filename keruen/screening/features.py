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
from functools import cache, cached_property

from keruen.screening.alignment import (
    FULL,
    Alignment,
    _rarity,
    align,
    align2,
)
from keruen.screening.legalforms import FAMILIES
from keruen.screening.model import Contribution
from keruen.screening.spelling import token_similarity

_DIGIT = re.compile(r"[0-9]")


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a comparison: sorted skeleton tokens, countries, identifiers, kind."""

    key: str
    countries: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()
    organization: bool | None = None  # None: unknown
    forms: frozenset[str] = frozenset()  # legal-form classes (llc, jsc, ag, ...)
    birth_dates: frozenset[str] = frozenset()  # ISO prefixes: 1954-10-12, 1962-08, 1946
    weak: bool = False  # the name is a weak alias (OFAC weak AKA, FtM weakAlias)

    @property
    def tokens(self) -> list[str]:
        return self.key.split()


@dataclass(frozen=True, slots=True)
class Pair:
    query: Side
    candidate: Side


Feature = Callable[[Pair], float]


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


# --- keruen-v2: weighted words, joined and split words, stricter subsets -----------------------


def _words(key: str) -> int:
    return key.count(" ") + 1


def _aligned(pair: Pair) -> Alignment:
    q, c = pair.query, pair.candidate
    return align2(q.key, c.key, q.organization is False or c.organization is False)


def name_words_weighted(pair: Pair) -> float:
    """Words of the names align one to one, rare words weighing more than common ones"""
    qk, ck = pair.query.key, pair.candidate.key
    if not qk or not ck:
        return 0.0
    a = _aligned(pair)
    best, worst = sorted((a.cover_q, a.cover_c), reverse=True)
    if _words(qk) == 1 or _words(ck) == 1:  # one word against several: all of them must meet
        return worst
    if pair.query.organization is False or pair.candidate.organization is False:
        best_share = PERSON_SUBSET_BEST if _person_subset(pair, a) else PERSON_BEST
        return best_share * best + (1 - best_share) * worst  # middle names come and go
    return 0.5 * best + 0.5 * worst


def _person_subset(pair: Pair, a: Alignment) -> bool:
    """A person's name of two words or more found whole in the other, the other only adding
    names, on words not all common (FAZL RABI / FAZL RABI ABDUL HAMID)."""
    if pair.query.organization is not False and pair.candidate.organization is not False:
        return False
    if a.conflict or a.shared or max(a.cover_q, a.cover_c) < FULL:
        return False
    return min(_words(pair.query.key), _words(pair.candidate.key)) > 1


def name_letters2(pair: Pair) -> float:
    """The names share their letters (edit similarity of the sorted words)

    For a person's name found whole in a longer one, half of it is the similarity of the words
    found: AKHTAR MANSOUR in AKHTAR MOHAMMAD MANSOUR SHAH MOHAMMED is not half its letters.
    """
    if not pair.query.key or not pair.candidate.key:
        return 0.0
    a = _aligned(pair)
    if a.met and _person_subset(pair, a):
        return (a.letters + max(a.letters, a.found_letters())) / 2
    return a.letters


def words_conflict2(pair: Pair) -> float:
    """Each name has a word the other lacks (another given name, another place)"""
    if not pair.query.key or not pair.candidate.key:
        return 0.0
    return 1.0 if _aligned(pair).conflict else 0.0


PERSON_BEST = 0.6  # people: the better coverage weighs a little more (middle names come and go)
PERSON_SUBSET_BEST = 0.85  # people: a name of two words or more found whole in the other, the
# other only adding names (no word of its own against one of ours) and not every word that met
# a common one: FAZL RABI / FAZL RABI ABDUL HAMID; MOHAMMAD ALI alone stays at PERSON_BEST


def kind_differs2(pair: Pair) -> float:
    """One is a company (legal form), the other a person, and the names are not the same words

    A company bearing a person's whole name and nothing else is the person's own business: a
    sole trader (ИП Иванов Иван Иванович, ЖК), or a company named to carry the name.
    """
    if not kind_differs(pair):
        return 0.0
    a = _aligned(pair)
    return 0.0 if min(a.cover_q, a.cover_c) >= FULL else 1.0


def _dates_meet(a: str, b: str) -> bool:
    """Two dates agree as far as both are known (1954 and 1954-10-12 agree)."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def birth_date_agrees(pair: Pair) -> float:
    """The dates of birth agree"""
    q, c = pair.query.birth_dates, pair.candidate.birth_dates
    return 1.0 if any(_dates_meet(a, b) for a in q for b in c) else 0.0


def birth_date_differs(pair: Pair) -> float:
    """Both sides give a date of birth, and none agrees (a year apart counts half)"""
    q, c = pair.query.birth_dates, pair.candidate.birth_dates
    if not q or not c or any(_dates_meet(a, b) for a in q for b in c):
        return 0.0
    gap = min(abs(int(a[:4]) - int(b[:4])) for a in q for b in c)
    return 0.5 if gap <= 1 else 1.0


def weak_alias(pair: Pair) -> float:
    """The name matched is one the list calls a weak alias"""
    return 1.0 if pair.candidate.weak else 0.0


GENERIC_INFO = 6.0  # matched words weighing less than one rare six-letter word


def generic_match(pair: Pair) -> float:
    """The words that meet are few and common (Сервис, Invest, Communication Equipment)"""
    qk, ck = pair.query.key, pair.candidate.key
    if not qk or not ck:
        return 0.0
    info = _aligned(pair).info
    return max(0.0, 1.0 - info / GENERIC_INFO)


def generic_subset(pair: Pair) -> float:
    """Only words that many listed names share meet; the words telling one apart are missing

    Shared: a word in three list entries or more (a city, Technology, Trading House: `words`);
    missing: a word left over on either side that is no filler (the, of, bank). Rarity is the
    list's own, so it holds on any economy: "Guangzhou Technology" meets GUANGZHOU AUSAY
    TECHNOLOGY only where two other listed names meet it too.
    """
    if pair.query.organization is False or pair.candidate.organization is False:
        return 0.0  # people: given names are shared by design; middle names come and go
    qk, ck = pair.query.key, pair.candidate.key
    if not qk or not ck:
        return 0.0
    a = _aligned(pair)
    return 1.0 if a.shared and a.left else 0.0


def forms_differ(pair: Pair) -> float:
    """The legal forms name different kinds of company (AG / GmbH, LLC / non-profit)"""
    q = {FAMILIES[f] for f in pair.query.forms if f in FAMILIES}
    c = {FAMILIES[f] for f in pair.candidate.forms if f in FAMILIES}
    return 1.0 if q and c and not q & c else 0.0


@dataclass(frozen=True)
class Algorithm:
    """A named list of weighted features and the threshold above which a pair is a hit."""

    name: str
    features: tuple[tuple[Feature, float], ...]
    threshold: float
    description: str

    def contributions(self, pair: Pair) -> tuple[Contribution, ...]:
        return tuple(Contribution(name, f(pair), w, why) for f, w, name, why in self._named)

    @cached_property
    def _named(self) -> tuple[tuple[Feature, float, str, str], ...]:
        return tuple((f, w, f.__name__, _why(f)) for f, w in self.features)

    def explain(self, pair: Pair) -> tuple[float, tuple[Contribution, ...]]:
        """The score and the contributions it is the sum of, each feature computed once."""
        parts = self.contributions(pair)
        return clip(sum(c.weight * c.value for c in parts)), parts

    def explained(self, values: list[float]) -> tuple[float, tuple[Contribution, ...]]:
        """`explain`, from the feature values `values_at_least` kept (no feature run again)."""
        parts = tuple(
            Contribution(name, v, w, why)
            for (_, w, name, why), v in zip(self._named, values, strict=True)
        )
        return clip(sum(c.weight * c.value for c in parts)), parts

    def score(self, pair: Pair) -> float:
        return clip(sum(w * f(pair) for f, w in self.features))

    def score_at_least(self, pair: Pair, floor: float) -> float:
        """`score` when it is `floor` or more; else a value below `floor`, found without the
        features left once even their best (every positive weight in full, no penalty) could
        not lift the sum to it. Most names a query is compared with stop after the name
        features and the identifier: the country and a date of birth add 0.15 at most."""
        return self.values_at_least(pair, floor)[0]

    def values_at_least(self, pair: Pair, floor: float) -> tuple[float, list[float] | None]:
        """`score_at_least`, and the feature values when every feature ran (a hit's
        explanation is then made of them: `explained`); None when scoring stopped early."""
        total = 0.0
        values: list[float] = []
        for (f, w), upside in zip(self.features, self._upside, strict=True):
            value = f(pair)
            values.append(value)
            total += w * value
            if total + upside < floor:
                return clip(total + upside), None
        return clip(total), values

    @cached_property
    def _upside(self) -> tuple[float, ...]:
        """After each feature, the most the features after it can add."""
        weights = [w for _, w in self.features]
        return tuple(sum(max(0.0, w) for w in weights[i + 1 :]) for i in range(len(weights)))


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
KERUEN_V2 = Algorithm(
    name="keruen-v2",
    features=(
        (name_words_weighted, 0.60),
        (name_letters2, 0.40),
        (identifier_match, 2.50),  # decisive: outweighs every penalty below together
        (country_agrees, 0.05),
        (country_differs, -0.10),
        (words_conflict2, -0.10),
        (numbers_differ, -0.30),
        (kind_differs2, -0.30),
        (forms_differ, -0.20),
        (generic_match, -0.30),
        (generic_subset, -0.30),
        (birth_date_agrees, 0.10),
        (birth_date_differs, -0.30),
        (weak_alias, -0.10),
    ),
    threshold=0.78,
    description="keruen-v1 with words weighted by rarity (in the list and the economy), "
    "words joined or split, stricter one-word and subset matches, legal forms and kind as "
    "evidence",
)
LETTERS_ONLY = Algorithm(
    name="letters",
    features=((name_letters, 1.0),),
    threshold=0.80,
    description="baseline: RapidFuzz ratio of the sorted skeleton words, nothing else",
)
ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in (KERUEN_V2, KERUEN_V1, LETTERS_ONLY)}
DEFAULT_ALGORITHM = KERUEN_V2.name
CACHES = (align, align2, token_similarity, _rarity)


def get_algorithm(name: str = DEFAULT_ALGORITHM) -> Algorithm:
    """The algorithm registered under `name`; KeyError names the ones that exist."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise KeyError(f"unknown algorithm {name!r}; known: {', '.join(ALGORITHMS)}") from None

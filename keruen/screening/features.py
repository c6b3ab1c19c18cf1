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
from functools import cache, cached_property, lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from keruen.screening.legalforms import FAMILIES
from keruen.screening.model import Contribution
from keruen.screening.text import is_patronymic
from keruen.screening.words import WEIGHTS

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


@dataclass(frozen=True, slots=True)
class Alignment:
    """How the words of two names pair up: coverage of each side, and what was left over."""

    cover_q: float
    cover_c: float
    letters: float
    conflict: bool
    info: float = 0.0  # what the words that met weigh together (letters times rarity)
    shared: bool = False  # every word that met is one many list entries share
    left: bool = False  # a word that is no filler is left over (patronymics aside)
    met: tuple[tuple[str, str], ...] = ()  # the words that met, when one name is found whole

    def found_letters(self) -> float:
        """The letter similarity of the words that met (of a name found whole in another)."""
        q, c = sorted(a for a, _ in self.met), sorted(b for _, b in self.met)
        return fuzz.ratio(" ".join(q), " ".join(c)) / 100.0 if self.met else self.letters


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


# --- keruen-v2: weighted words, joined and split words, stricter subsets -----------------------

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


@lru_cache(maxsize=1 << 16)
def _rarity(word: str) -> float:
    return len(word) * WEIGHTS.factor(word)


@lru_cache(maxsize=1 << 16)
def align2(qkey: str, ckey: str, person: bool = False) -> Alignment:
    """`align`, with words weighted by rarity and words written together or apart rejoined;
    between people, a close spelling is held to a stricter standard (Maria / Marina)."""
    if qkey == ckey:  # the same words: each meets itself (what the general case finds too)
        return _same(qkey.split())
    return _align2(qkey, ckey, person)


def _aligned(pair: Pair) -> Alignment:
    q, c = pair.query, pair.candidate
    return align2(q.key, c.key, q.organization is False or c.organization is False)


def _align2(qkey: str, ckey: str, person: bool = False) -> Alignment:
    q, c = _resplit(qkey.split(), ckey.split())
    pairs = [
        (sim, i, j)
        for i, a in enumerate(q)
        for j, b in enumerate(c)
        if (sim := token_similarity(a, b)) >= MIN_TOKEN_SIMILARITY
    ]
    pairs.sort(reverse=True)
    sims: dict[int, float] = {}  # a word of q that found a partner: how well
    partner: dict[int, int] = {}  # ... and which word of c
    used: dict[int, float] = {}
    for sim, i, j in pairs:
        if i not in partner and j not in used:
            partner[i] = j
            sims[i] = used[j] = sim
    strong_q = {i for i, s in sims.items() if s >= WEAK_TOKEN_SIMILARITY}
    strong_c = {partner[i] for i in strong_q}
    rest_q = [w for i, w in enumerate(q) if i not in strong_q]
    rest_c = [w for j, w in enumerate(c) if j not in strong_c]
    drop_q = _optional_patronymics(rest_q, rest_c)  # a patronymic left over is optional,
    drop_c = _optional_patronymics(rest_c, rest_q)  # unless the other side has another one
    as_q: dict[int, str] = {}  # an initial or a contraction takes its partner's letters
    as_c: dict[int, str] = {}
    for i, j in partner.items():
        if sims[i] < 1.0:
            if _stands_for(q[i], c[j], sims[i]):
                as_q[i] = c[j]
            if _stands_for(c[j], q[i], sims[i]):
                as_c[j] = q[i]
    q_words = [as_q.get(i, w) for i, w in enumerate(q) if w not in drop_q]
    c_words = [as_c.get(j, w) for j, w in enumerate(c) if w not in drop_c]
    close = CLOSE_SPELLING if person or _short_one_word(q, c) else CLOSE_SPELLING_ORG
    cover_q = _cover(q, sims, drop_q, close)
    cover_c = _cover(c, used, drop_c, close)
    letters = fuzz.ratio(" ".join(sorted(q_words)), " ".join(sorted(c_words))) / 100.0
    if (
        letters < 1.0
        and len(q_words) == len(c_words)
        and min(sims.values(), default=0) >= ORDER_SIM
    ):
        letters = max(letters, _paired_letters(q, c, partner, sims, drop_q))
    conflict = _conflict(rest_q, drop_q, rest_c, drop_c)
    info = sum(_rarity(c[j]) for j, sim in used.items() if sim >= WEAK_TOKEN_SIMILARITY)
    shared = bool(strong_q) and all(
        WEIGHTS.shared(q[i]) or WEIGHTS.shared(c[partner[i]]) for i in strong_q
    )
    left = any(w not in drop_q and not WEIGHTS.filler(w) for w in rest_q) or any(
        w not in drop_c and not WEIGHTS.filler(w) for w in rest_c
    )
    met: tuple[tuple[str, str], ...] = ()  # the words that met, when one name is found whole
    if max(cover_q, cover_c) >= FULL and not conflict and letters < 1.0:
        met = tuple((as_q.get(i, q[i]), as_c.get(partner[i], c[partner[i]])) for i in strong_q)
    return Alignment(
        min(1.0, cover_q), min(1.0, cover_c), letters, conflict, info, shared, left, met
    )


def _paired_letters(
    q: list[str], c: list[str], partner: dict[int, int], sims: dict[int, float], drop: Words
) -> float:
    """When every word (patronymics aside) met a close partner, the letters compared partner by
    partner: sorted alphabetically, a typo in a first letter moves a word (Wealth / Health,
    Selenskyj / Zelenskyy)."""
    kept = sorted((i for i, w in enumerate(q) if w not in drop), key=q.__getitem__)
    if any(i not in sims for i in kept):
        return 0.0
    mates = [c[partner[i]] for i in kept]
    if mates == sorted(mates):  # the same order as sorted: nothing to add
        return 0.0
    return fuzz.ratio(" ".join(q[i] for i in kept), " ".join(mates)) / 100


def _stands_for(word: str, full: str, sim: float) -> bool:
    """An initial or a contraction (J., Intl) is compared with the letters of its word."""
    return len(word) == 1 or (sim == CONTRACTION and _contraction(word, full))


Words = frozenset[str] | set[str]


def _conflict(rest_q: list[str], drop_q: Words, rest_c: list[str], drop_c: Words) -> bool:
    """Each side has a word of its own the other lacks (another given name), or each an
    initial of its own (William G. Frost is not William W. Frost)."""
    q = [len(w) for w in rest_q if w not in drop_q]
    c = [len(w) for w in rest_c if w not in drop_c]
    return (any(n > 2 for n in q) and any(n > 2 for n in c)) or (1 in q and 1 in c)


def _short_one_word(q: list[str], c: list[str]) -> bool:
    """A name of one short word: a letter off, it is another name (Astana / Astara)."""
    return (len(q) == 1 and len(q[0]) < LONG_WORD) or (len(c) == 1 and len(c[0]) < LONG_WORD)


def _same(words: list[str]) -> Alignment:
    info = sum(_rarity(w) for w in reversed(words))  # in the order the general case adds
    return Alignment(1.0, 1.0, 1.0, False, info, all(map(WEIGHTS.shared, words)), False)


ORDER_SIM = 0.8  # every word this close to its partner: letters compared partner by partner,
# not in alphabetical order, where a typo in a first letter moves a word (Wealth / Health)
CLOSE_SPELLING = 0.85  # below, two words are more often two names (Maria / Marina) than a typo
CLOSE_SPELLING_ORG = 0.8  # a company's word one typo in five letters off is that word mistyped
# when other words of the name meet (Trafalgura Group, Bank of Chima): given names are a closed
# set, company words are not; a one-word name a letter off is another name (Astana / Astara)
# unless the word is long: few words lie one edit from a long one (Amazonis.com / Amazon.com)
LONG_WORD = 8


def _cover(
    words: list[str], sims: dict[int, float], drop: frozenset[str] | set[str], close: float
) -> float:
    """The weighted share of a name's words that found a partner, by how well they did."""
    total = matched = 0.0
    for i, w in enumerate(words):
        if w in drop:
            continue
        sim = sims.get(i, 0.0)
        weight = 3.0 if not sim and len(w) <= 2 else _rarity(w)  # a lone letter left over
        # counts as a short word (M INVEST is not INVEST)
        total += weight
        matched += weight * (sim if sim >= close else sim * sim)
    return matched / total if total else 0.0


def _words(key: str) -> int:
    return key.count(" ") + 1


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
FULL = 0.999  # a coverage this high is the whole name


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


WEIGHTS.on_change.append(align2.cache_clear)  # a learnt word changes the alignments
WEIGHTS.on_change.append(_rarity.cache_clear)

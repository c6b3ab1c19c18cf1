"""How the words of two names pair up, one to one: what each side covers, what is left over,
how alike their letters are. Pure; `features` turns an `Alignment` into the scores a user reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from keruen.screening.spelling import CONTRACTION, _contraction, _resplit, token_similarity
from keruen.screening.text import is_patronymic
from keruen.screening.words import WEIGHTS

MIN_TOKEN_SIMILARITY = 0.5  # below this two words are different words, not misspellings
WEAK_TOKEN_SIMILARITY = 0.65  # aligned, but too far apart to vouch for each other (Ruslan/Roman)
FULL = 0.999  # a coverage this high is the whole name
_NONE: frozenset[str] = frozenset()


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


def _close_pairs(q: list[str], c: list[str]) -> list[tuple[float, int, int]]:
    """Every pair of words close enough to align (similarity, word of q, word of c), best first."""
    pairs = [
        (sim, i, j)
        for i, a in enumerate(q)
        for j, b in enumerate(c)
        if (sim := token_similarity(a, b)) >= MIN_TOKEN_SIMILARITY
    ]
    pairs.sort(reverse=True)
    return pairs


@lru_cache(maxsize=1 << 16)
def align(qkey: str, ckey: str) -> Alignment:
    """Greedy one-to-one alignment of the words of two names (best pairs first).

    A patronymic left over on one side only is ignored (people often omit it); an initial takes
    the letters of the word it aligned with before the letter similarity is measured.
    """
    q, c = qkey.split(), ckey.split()
    pairs = _close_pairs(q, c)
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


def _align2(qkey: str, ckey: str, person: bool = False) -> Alignment:
    q, c = _resplit(qkey.split(), ckey.split())
    pairs = _close_pairs(q, c)
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


WEIGHTS.on_change.append(align2.cache_clear)  # a learnt word changes the alignments
WEIGHTS.on_change.append(_rarity.cache_clear)

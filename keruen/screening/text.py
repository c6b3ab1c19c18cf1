"""Name normalisation: one Latin spelling and one phonetic skeleton for every way of writing a name.

A name arrives in Russian or Kazakh Cyrillic, in one of several Latin romanisations (BGN/PCGN,
ICAO 9303 passports, GOST 7.79 A and B, ISO 9, German or French spellings, the 2021 Kazakh Latin
alphabet) or in English with a legal form around it. `analyse` turns each into the same shape:

- `tokens`: lower-case ASCII words after transliteration, legal forms removed;
- `skeleton`: each token reduced by rules that erase the differences between romanisation
  systems (kh/h, ts/c, iy/y/i/j, w/v, doubled letters, ...), so that "Lukashenko Aleksandr
  Grigoryevich" and "LUKASHENKO, Alexandr Grigorievich" share most skeleton tokens;
- `forms`: the legal-form classes that were removed (llc, jsc, llp, ...), kept for explanation.

Pure functions; no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

from keruen.screening.legalforms import LEGAL_FORMS

# Cyrillic (Russian, Kazakh, Belarusian, Ukrainian) to a passport-like Latin (BGN/PCGN, ICAO).
CYRILLIC: dict[str, str] = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    # Kazakh
    "ә": "a",
    "ғ": "g",
    "қ": "k",
    "ң": "n",
    "ө": "o",
    "ұ": "u",
    "ү": "u",
    "һ": "h",
    "і": "i",
    # Belarusian and Ukrainian
    "ў": "u",
    "ї": "yi",
    "є": "ye",
    "ґ": "g",
}
# Latin letters with diacritics whose plain-ASCII fold would lose a sound (ISO 9, Kazakh Latin).
DIACRITICS: dict[str, str] = {
    "ž": "zh",
    "č": "ch",
    "š": "sh",
    "ŝ": "shch",
    "ş": "sh",
    "ç": "ch",
    "û": "yu",
    "â": "ya",
    "ğ": "g",
    "ñ": "n",
    "ı": "i",
    "ä": "a",
    "ö": "o",
    "ü": "u",
    "ū": "u",
    "ë": "e",
    "ß": "ss",
}
_TABLE = str.maketrans({**CYRILLIC, **DIACRITICS})
_QUOTES_AND_DOTS = re.compile(r"[.'`´‘’ʼʹ\"«»“”„‹›]")
_NON_WORD = re.compile(r"[^0-9a-z]+")

# Ordered rewrites of a token that merge romanisation variants (applied after lower-casing).
# Each rule with the strings one of which a token must hold for the rule to change it: a test
# of `in` is cheaper than a regular expression that finds nothing (most rules, most tokens).
_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (r"schtsch|shch|shh", "sh", ("shch", "shh", "schtsch")),  # щ: shch (BGN), schtsch
    # (German), shh (GOST B)
    (r"t(?:s|)ch", "ch", ("tch", "tsch")),  # ч: tsch (German), tch (French)
    (r"sch", "sh", ("sch",)),  # ш: sch (German)
    (r"c(?=[aouklrt]|$)", "k", ("c",)),  # Victor / Viktor (before ц becomes c below)
    (r"kh|ch(?=r)", "h", ("kh", "chr")),  # х: kh / h / x; Christos-style ch before r
    (r"x", "ks", ("x",)),  # Alexandr / Aleksandr
    (r"ts|tz|cz", "c", ("ts", "tz", "cz")),  # ц: ts / tz / c / cz
    (r"dzh|dj", "dz", ("dzh", "dj")),  # дж: Dzhambul / Djambul
    (r"zh", "z", ("zh",)),  # ж: zh / z (German) / ž
    (r"ck", "k", ("ck",)),
    (r"q", "k", ("q",)),  # Kazakh қ: q (2021 Latin) / k
    (r"ph", "f", ("ph",)),
    (r"w", "v", ("w",)),
    (r"ou", "u", ("ou",)),  # French у
    (r"[yj]", "i", ("y", "j")),  # й, ы, -iy, -ij, ya/ia/ja, yu/iu/ju
    (r"^ie", "e", ("ie",)),  # Yevgeny / Evgeny
    (r"(?<=[bvgdzklmnprstfh])io", "e", ("io",)),  # ё: Alyoksa / Алёкса, Fyodor / Fedor
    (r"(.)\1+", r"\1", ()),  # doubled letters (no cheap test: always run)
    (r"(?<=.)ie", "e", ("ie",)),  # Grigorievich / Grigorevich
    (r"(?<=[aeiou])f$", "v", ("f",)),  # -off / -ov, -eff / -ev
)
_SKELETON_RULES: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), repl, needs) for pattern, repl, needs in _RULES
)


@dataclass(frozen=True, slots=True)
class Name:
    """A name prepared for matching; built once per list name and once per query."""

    original: str
    tokens: tuple[str, ...]
    skeleton: tuple[str, ...]
    forms: tuple[str, ...]

    @property
    def key(self) -> str:
        """The skeleton tokens sorted and joined: an order-free string for the fuzzy scorers."""
        return " ".join(sorted(self.skeleton))

    @property
    def digits(self) -> frozenset[str]:
        """Numbers in the name (fund 1 / fund 2, vessel numbers) must agree."""
        return frozenset(t for t in self.tokens if t.isdigit())


def latin(text: str) -> str:
    """Lower-case ASCII: Cyrillic by the passport table, other scripts through anyascii."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_TABLE)
    if not folded.isascii():
        folded = anyascii(_SYLLABLES.sub(r" \1 ", folded)).lower()
    return folded


# Han and Hangul: one syllable a character, romanised apart as names in Latin are (Kim Jong Un,
# Xi Jin Ping); run together, 김종은 and 김정은 were one long word a letter apart
_SYLLABLES = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af])")


def words(text: str) -> list[str]:
    """Split into ASCII words; dots and quotes vanish first so that S.A. stays one word."""
    return [w for w in _NON_WORD.split(_QUOTES_AND_DOTS.sub("", latin(text))) if w]


@lru_cache(maxsize=1 << 16)
def skeleton(token: str) -> str:
    """A token reduced so that the romanisations of one Cyrillic spelling meet."""
    if token.isdigit():
        return token
    for pattern, repl, needs in _SKELETON_RULES:
        if not needs:
            token = pattern.sub(repl, token)
            continue
        for part in needs:
            if part in token:
                token = pattern.sub(repl, token)
                break
    return token


def analyse(text: str) -> Name:
    """Prepare a name: transliterate, split, numbers as digits, skeletonise, lift legal forms."""
    text = _GLUED_FORM.sub(r"\1 \2", text)
    toks = numbers(arabic([_unleet(w) for w in words(text) if w not in CONJUNCTIONS]))
    skel = [_word_skeleton(t) for t in toks]
    keep, forms = _strip_legal_forms([_form_word(t, k) for t, k in zip(toks, skel, strict=True)])
    if not keep:  # a name made only of legal-form words ("AO") keeps them
        keep = list(range(len(toks)))
    return Name(text, tuple(toks[i] for i in keep), tuple(skel[i] for i in keep), forms)


# a legal form written onto the name, capitals after small letters: SiemensAG, GazpromJSC
_GLUED_FORM = re.compile(r"([a-zа-яё])(AG|GmbH|LLC|LLP|Ltd|Inc|JSC|PJSC|OOO|TOO|ООО|ТОО|АО)\b")
CONJUNCTIONS = frozenset({"and", "und"})  # AT&T is AT and T: "&" vanishes, so does "and"
_LEET = str.maketrans("0134579", "oieastg")
_LEET_DIGIT = re.compile(r"(?<=[a-z])[0134579](?=[a-z])")


def _unleet(word: str) -> str:
    """A digit between two letters stands for the letter it looks like (Ig0r Sech1n): no name
    or number writes one there; M2M and 4x4 keep theirs."""
    if not _LEET_DIGIT.search(word):
        return word
    return _LEET_DIGIT.sub(lambda m: m[0].translate(_LEET), word)


_ARTICLES = {"el": "al", "ul": "al"}  # the Arabic article: al-, el-, ul- (Zia ul Haq)
_ABDUL = re.compile(r"^abd(?:e|o|ou|a)l(?!l)")  # Abdel, Abdoul, Abdal: Abdul (not Abdallah)


def arabic(tokens: list[str]) -> list[str]:
    """Abdel, Abdoul, Abdal as Abdul, the article al-, el-, ul- as al: Abdul Aziz, Abdelaziz
    and Abd al-Aziz are one name (Abdullah, Abdallah keep theirs; Abdul meets Abd al- as a word
    written together)."""
    out: list[str] = []
    for tok in tokens:
        if tok.startswith("abd"):
            tok = _ABDUL.sub("abdul", tok)
        out.append(_ARTICLES.get(tok, tok))
    return out


def _strip_legal_forms(skel: list[str]) -> tuple[list[int], tuple[str, ...]]:
    """Indexes of the tokens that are not part of a legal form, and the forms found: the reading
    that leaves the fewest tokens over, then the one with the fewest forms ("COMPANY LIMITED
    LIABILITY COMPANY" is COMPANY + LIMITED LIABILITY COMPANY, not COMPANY LIMITED + two
    words)."""
    n = len(skel)
    # best[i]: (tokens kept, forms used, kept indexes, forms) for the tokens from i on
    best: list[tuple[int, int, tuple[int, ...], tuple[str, ...]]] = [(0, 0, (), ())] * (n + 1)
    for i in range(n - 1, -1, -1):
        k, f, kept, forms = best[i + 1]
        choice = (k + 1, f, (i, *kept), forms)
        for size in range(min(_LONGEST, n - i), 0, -1):
            form = _FORMS.get(tuple(skel[i : i + size]))
            if form:
                k, f, kept, forms = best[i + size]
                choice = min(choice, (k, f + 1, kept, (form, *forms)), key=_fewest)
        best[i] = choice
    return list(best[0][2]), tuple(dict.fromkeys(best[0][3]))


def _fewest(reading: tuple[int, int, tuple[int, ...], tuple[str, ...]]) -> tuple[int, int]:
    return reading[0], reading[1]


@lru_cache(maxsize=1 << 20)
def _word_skeleton(token: str) -> str:
    kazakh = _KAZAKH_PATRONYMIC.match(token)
    if kazakh:  # the ending keeps its "y": no other skeleton has one (Arabic AL-MOSULI does not)
        return skeleton(kazakh[1]) + ("uly" if kazakh[2] == "uly" else "kyzy")
    return _legal_word(token, skeleton(token))


# Kazakh -ұлы / -қызы as written in Cyrillic (via the table), passports and the 2021 Latin
_KAZAKH_PATRONYMIC = re.compile(r"^(.{3,}?)(uly|kyzy|qyzy)$")
PATRONYMIC = re.compile(
    r"(?:ovich|evich|avich|ovna|evna|avna|ichna|inichna)$|^.{3,}(?:uly|kyzy|ogli|oglu)$"
)


@lru_cache(maxsize=1 << 16)
def is_patronymic(word: str) -> bool:
    """Russian, Ukrainian and Belarusian patronymics, Kazakh -uly/-kyzy, Uzbek and Azeri -o'g'li
    (on skeleton words: a nisbah such as AL-MOSULI ends in "uli", never in "uly")."""
    return PATRONYMIC.search(word) is not None


_UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS: tuple[str, ...] = (
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
)
_TEENS += ("eighteen", "nineteen")
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60}
_TENS |= {"seventy": 70, "eighty": 80, "ninety": 90}
_ORDINALS: tuple[str, ...] = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
)
_ORDINALS += ("tenth",)
NUMBER_WORDS: dict[str, int] = (
    {w: i for i, w in enumerate(_UNITS)}
    | {w: 10 + i for i, w in enumerate(_TEENS)}
    | _TENS
    | {w: 1 + i for i, w in enumerate(_ORDINALS)}
)
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50}
_ROMAN_NUMERAL = re.compile(r"^(?:x{0,3})(?:ix|iv|v?i{0,3})$")
_NOT_ROMAN = frozenset({"xi", "vi"})  # Xi Jinping, Vi: names before numbers
_ORDINAL_DIGITS = re.compile(r"^([0-9]+)(?:st|nd|rd|th)$")


def _roman(word: str) -> int | None:
    """II to XXXIX (a lone I, V or X stays a letter: an initial more often than a number)."""
    if len(word) < 2 or word in _NOT_ROMAN or not _ROMAN_NUMERAL.match(word):
        return None
    values = [_ROMAN[c] for c in word]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def number(word: str) -> int | None:
    """The number a word writes: 44, 1st, first, forty, VIII."""
    if word.isdigit():
        return int(word)
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    ordinal = _ORDINAL_DIGITS.match(word)
    return int(ordinal[1]) if ordinal else _roman(word)


def numbers(tokens: list[str]) -> list[str]:
    """Numbers in one shape: "Forty-Four", "forty 4" and "44" are "44"; "1st" and "First" "1"."""
    out: list[str] = []
    tens = False  # the last token was a multiple of ten written as a word
    for tok in tokens:
        value = number(tok)
        if value is None:
            out.append(tok)
            tens = False
        elif tens and value < 10:
            out[-1] = str(int(out[-1]) + value)
            tens = False
        else:
            out.append(str(value))
            tens = tok in _TENS
    return out


def _legal_word(token: str, skel: str) -> str:
    """A long word one typo away from a legal-form word ("COPANY", "LIMIED") becomes that word."""
    if len(token) < 5 or skel in _LEGAL_WORDS:
        return skel
    for word in (token, skel):
        for variant in [word] + [word[:i] + word[i + 1 :] for i in range(len(word))]:
            hit = _LEGAL_DELETES.get(variant)
            if hit:
                return hit
    return skel


def _form_word(token: str, skel: str) -> str:
    """Short legal forms compare as written (ООО is "ooo", not the letter "o")."""
    return token if len(token) <= 4 else skel


def _form_key(phrase: str) -> tuple[str, ...]:
    return tuple(_form_word(w, skeleton(w)) for w in words(phrase))


def _form_table() -> dict[tuple[str, ...], str]:
    """Skeleton phrase -> class; where two spellings meet (LLP, LP), the first class listed wins."""
    table: dict[tuple[str, ...], str] = {}
    for form, phrases in LEGAL_FORMS.items():
        for phrase in phrases:
            table.setdefault(_form_key(phrase), form)
    return table


_FORMS = _form_table()
_LONGEST = max(len(k) for k in _FORMS)
_LEGAL_WORDS = frozenset(w for key in _FORMS for w in key if len(w) >= 6)


def _legal_deletes() -> dict[str, str]:
    """Every legal-form word (as written and as skeleton) with one letter deleted -> skeleton:
    two words one edit apart share such a variant (symmetric deletion)."""
    table: dict[str, str] = {}
    for phrases in LEGAL_FORMS.values():
        for raw in (w for p in phrases for w in words(p) if len(w) >= 6):
            skel = skeleton(raw)
            for word in (raw, skel):
                for variant in [word] + [word[:i] + word[i + 1 :] for i in range(len(word))]:
                    table.setdefault(variant, skel)
    return table


_LEGAL_DELETES = _legal_deletes()
CACHES = (skeleton, _word_skeleton, is_patronymic)

"""Renderings of listed names as a Russian or Kazakh document would write them: the generator of
the transliteration bench (and of the evaluation pairs in tests/screening).

Written with rules independent of the matcher's own tables: Russian Cyrillic is produced from
OFAC's Latin by a reverse table, then romanised again under ISO 9, GOST 7.79 B, ICAO 9303,
German (Duden) and French conventions, or written in the 2021 Kazakh Latin alphabet. Pure.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

from keruen.screening.model import Entry

TO_CYRILLIC = [
    ("shch", "щ"),
    ("kh", "х"),
    ("zh", "ж"),
    ("ts", "ц"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("yu", "ю"),
    ("ya", "я"),
    ("yo", "ё"),
    ("ye", "е"),
    ("iy", "ий"),
    ("yy", "ый"),
    ("ey", "ей"),
    ("ay", "ай"),
    ("oy", "ой"),
    ("uy", "уй"),
    ("a", "а"),
    ("b", "б"),
    ("v", "в"),
    ("g", "г"),
    ("d", "д"),
    ("e", "е"),
    ("z", "з"),
    ("i", "и"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("f", "ф"),
    ("y", "ы"),
    ("'", "ь"),
    ("x", "кс"),
    ("c", "к"),
    ("h", "х"),
    ("w", "в"),
    ("j", "дж"),
    ("q", "к"),
]
SYSTEMS: dict[str, dict[str, str]] = {
    "iso9": dict(
        zip(
            "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
            "a b v g d e ë ž z i j k l m n o p r s t u f h c č š ŝ ʺ y ʹ è û â".split(),  # noqa: SIM905
            strict=True,
        )
    ),
    "gost_b": {
        "ж": "zh",
        "х": "x",
        "ц": "cz",
        "ч": "ch",
        "ш": "sh",
        "щ": "shh",
        "ю": "yu",
        "я": "ya",
        "й": "j",
        "ы": "y'",
        "э": "e'",
        "ъ": "``",
        "ь": "`",
        "ё": "yo",
    },
    "icao": {
        "ж": "zh",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ю": "iu",
        "я": "ia",
        "й": "i",
        "ы": "y",
        "ъ": "ie",
        "ь": "",
        "ё": "e",
        "э": "e",
    },
    "german": {
        "ж": "sch",
        "з": "s",
        "й": "i",
        "х": "ch",
        "ц": "z",
        "ч": "tsch",
        "ш": "sch",
        "щ": "schtsch",
        "ю": "ju",
        "я": "ja",
        "в": "w",
        "ы": "y",
        "ь": "",
        "ё": "jo",
        "э": "e",
        "ъ": "",
    },
    "french": {
        "ж": "j",
        "х": "kh",
        "ц": "ts",
        "ч": "tch",
        "ш": "ch",
        "щ": "chtch",
        "у": "ou",
        "ю": "iou",
        "я": "ia",
        "й": "ï",
        "ы": "y",
        "ь": "",
        "ё": "io",
        "э": "e",
        "ъ": "",
    },
    "kazakh_latin_2021": {
        "ж": "j",
        "й": "i",
        "х": "h",
        "ц": "ts",
        "ч": "ch",
        "ш": "ş",
        "щ": "şş",
        "ю": "iu",
        "я": "ia",
        "ы": "y",
        "ь": "",
        "ъ": "",
        "ё": "io",
        "э": "e",
        "и": "i",
        "у": "u",
        "к": "k",
        "г": "g",
    },
}
BASIC = dict(zip("абвгдезиклмнопрстуф", "abvgdeziklmnoprstuf", strict=True))
LLC_FORMS = [
    "{} LLC",
    "ООО «{}»",
    "Limited Liability Company {}",
    "TOO {}",
    "{} LLP",
    "Obshchestvo s Ogranichennoi Otvetstvennostiu {}",
]
JSC_FORMS = ["{} JSC", "АО «{}»", "Joint Stock Company {}", "{} PJSC", "ПАО «{}»", "{} AO"]
FORM_WORDS = re.compile(
    r"\b(OOO|LLC|OAO|ZAO|PAO|AO|JSC|PJSC|OJSC|CJSC|LIMITED LIABILITY COMPANY|"
    r"JOINT STOCK COMPANY|PUBLIC JOINT STOCK COMPANY|OPEN JOINT STOCK COMPANY|"
    r"CLOSED JOINT STOCK COMPANY)\b,?"
)


def cyrillic(latin: str) -> str:
    text, out, i = latin.lower(), [], 0
    while i < len(text):
        for a, b in TO_CYRILLIC:
            if text.startswith(a, i):
                out.append(b)
                i += len(a)
                break
        else:
            out.append(text[i])
            i += 1
    return " ".join(w[:1].upper() + w[1:] for w in "".join(out).split(" "))


def romanise(cyr: str, system: str) -> str:
    table = {**BASIC, **SYSTEMS[system]}
    out = "".join(table.get(ch.lower(), ch.lower()) for ch in cyr)
    return " ".join(w[:1].upper() + w[1:] for w in out.split(" "))


def person_parts(name: str) -> tuple[str, list[str]] | None:
    if "," not in name:
        return None
    last, first = (p.strip() for p in name.split(",", 1))
    parts = first.split()
    return (last, parts) if parts and re.fullmatch(r"[A-Za-z' -]+", name.replace(",", "")) else None


def typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice("dst")
    if op == "d":
        return word[:i] + word[i + 1 :]
    if op == "s":
        return word[:i] + rng.choice("aeioulnrst") + word[i + 1 :]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def russian(entries: list[Entry]) -> list[Entry]:
    return [
        e
        for e in entries
        if any("RUSSIA" in p or "UKRAINE" in p or "BELARUS" in p for p in e.programs)
    ]


def renderings(
    entries: list[Entry], seed: int, people: int, orgs: int
) -> Iterator[tuple[str, str, str]]:
    """(query, entry id, how) for Russia-program people and companies: Cyrillic, re-romanised,
    given names first, and companies with their legal form rewritten, in Cyrillic or Latin."""
    rng = random.Random(seed)
    ru = russian(entries)
    persons = [e for e in ru if e.schema == "person" and person_parts(e.names[0])]
    for e in rng.sample(persons, min(people, len(persons))):
        last, parts = person_parts(e.names[0]) or ("", [])
        cyr = cyrillic(" ".join([last, *parts]))
        yield cyr, e.id, "cyrillic"
        system = rng.choice(list(SYSTEMS))
        yield romanise(cyr, system), e.id, f"romanised:{system}"
        yield romanise(cyrillic(" ".join([*parts[:1], last])), system), e.id, "first_last"
    companies = [e for e in ru if e.schema == "organization" and FORM_WORDS.search(e.names[0])]
    for e in rng.sample(companies, min(orgs, len(companies))):
        core = FORM_WORDS.sub("", e.names[0]).replace(",", " ").strip()
        if not core:
            continue
        forms = (
            JSC_FORMS
            if re.search(r"\b(AO|JSC|PJSC|OAO|ZAO|PAO|STOCK)\b", e.names[0])
            else LLC_FORMS
        )
        form = rng.choice(forms)
        yield form.format(cyrillic(core) if "«" in form else core.title()), e.id, "legal_form"

"""Build tests/screening/data/keruen_eval.csv from the real OFAC SDN files (deterministic).

Run: `.venv/bin/python tests/screening/make_eval.py [/work/shared/data]`. Re-run when the OFAC
files change; rows found by users (false hits, misses) go into keruen_eval_manual.csv instead.

Variants are written with rules independent of the matcher's own tables: Russian Cyrillic is
produced from OFAC's Latin by a reverse table, then romanised again under ISO 9, GOST 7.79 B,
ICAO 9303, German (Duden) and French conventions, or written in the 2021 Kazakh Latin alphabet.
"""

from __future__ import annotations

import csv
import random
import re
import sys
from pathlib import Path

from rapidfuzz import fuzz

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from keruen.screening import loaders
from keruen.screening.model import Entry
from keruen.screening.variants import (
    FORM_WORDS,
    JSC_FORMS,
    LLC_FORMS,
    SYSTEMS,
    cyrillic,
    person_parts,
    romanise,
    russian,
    typo,
)

OUT = Path(__file__).parent / "data" / "keruen_eval.csv"
FIELDS = [
    "case",
    "category",
    "query",
    "query_country",
    "query_ids",
    "target_id",
    "target_name",
    "is_match",
    "note",
]


def build(data: Path) -> list[dict[str, str]]:
    rng = random.Random(20240223)
    entries = loaders.ofac(data / "ofac_sdn.csv").entries
    ru = russian(entries)
    people = [e for e in ru if e.schema == "person" and person_parts(e.names[0])]
    orgs = [e for e in ru if e.schema == "organization" and FORM_WORDS.search(e.names[0])]
    rows: list[dict[str, str]] = []

    def add(
        category: str,
        query: str,
        e: Entry,
        match: bool,
        note: str = "",
        country: str = "",
        ids: str = "",
        target: str | None = None,
    ) -> None:
        rows.append(
            {
                "case": f"{category}-{len(rows):04d}",
                "category": category,
                "query": query,
                "query_country": country,
                "query_ids": ids,
                "target_id": e.id,
                "target_name": target or e.names[0],
                "is_match": str(match).lower(),
                "note": note,
            }
        )

    for e in rng.sample([e for e in ru if len(e.names) > 1], 400):
        core = FORM_WORDS.sub("", e.names[0])
        variants = [
            a for a in e.names[1:] if 70 <= fuzz.token_sort_ratio(FORM_WORDS.sub("", a), core) < 97
        ]
        if variants:
            add("alias_spelling", variants[0], e, True, "OFAC's own alias of the entry")
        if sum(r["category"] == "alias_spelling" for r in rows) >= 120:
            break
    for e in rng.sample(people, 150):
        last, parts = person_parts(e.names[0]) or ("", [])
        cyr = cyrillic(" ".join([last, *parts]))
        add("cyrillic", cyr, e, True, "Russian Cyrillic, surname first")
        system = rng.choice(list(SYSTEMS))
        add("romanisation", romanise(cyr, system), e, True, f"romanised by {system}")
        add("reorder", " ".join([*parts, last]), e, True, "given names first")
        if len(parts) > 1:
            add("abbreviation", f"{parts[0][0]}. {parts[1][0]}. {last}", e, True, "initials")
    for e in rng.sample(orgs, min(120, len(orgs))):
        core = FORM_WORDS.sub("", e.names[0]).strip(" ,")
        if not core:
            continue
        forms = (
            JSC_FORMS
            if re.search(r"\b(AO|JSC|PJSC|OAO|ZAO|PAO|STOCK)\b", e.names[0])
            else (LLC_FORMS)
        )
        form = rng.choice(forms)
        query = form.format(cyrillic(core) if "«" in form else core.title())
        add("legal_form", query, e, True, f"legal form rewritten as {form!r}")
    for e in rng.sample([e for e in ru if e.schema in ("person", "organization")], 200):
        words = e.names[0].replace(",", "").split()
        long_words = [i for i, w in enumerate(words) if len(re.sub(r"\W", "", w)) >= 5]
        if long_words:
            i = rng.choice(long_words)
            words[i] = typo(rng, words[i])
            add("typo", " ".join(words), e, True, "one edit in one word")
    central = [
        e
        for e in entries
        if set(e.countries) & {"KZ", "KG", "UZ", "TJ"}
        and (e.schema == "person" or FORM_WORDS.search(e.names[0]))
    ]
    for e in rng.sample(central, min(60, len(central))):
        core = FORM_WORDS.sub("", e.names[0]).replace(",", "").strip()
        add(
            "kazakh_latin",
            romanise(cyrillic(core), "kazakh_latin_2021"),
            e,
            True,
            "Central Asian entry, via Cyrillic into the 2021 Kazakh Latin alphabet",
            country=e.countries[0],
        )
    with_ids = [e for e in ru if any(i.scheme in ("inn", "ogrn", "imo") for i in e.ids)]
    for e in rng.sample(with_ids, 40):
        ident = next(i for i in e.ids if i.scheme in ("inn", "ogrn", "imo"))
        add(
            "identifier",
            f"{rng.choice(['Vostok', 'Aurora', 'Stroi'])} Trade LLC",
            e,
            True,
            f"unrelated name, same {ident.scheme}",
            ids=ident.value,
        )
    rows.extend(hard_negatives(rng, ru, len(rows)))
    return rows


def hard_negatives(rng: random.Random, ru: list[Entry], start: int) -> list[dict[str, str]]:
    """Different entries whose names look alike: same surname, or a shared distinctive word."""
    out: list[dict[str, str]] = []
    by_surname: dict[str, list[Entry]] = {}
    for e in ru:
        parts = person_parts(e.names[0])
        if e.schema == "person" and parts:
            by_surname.setdefault(parts[0].upper(), []).append(e)
    for group in by_surname.values():
        a, b = group[0], group[-1]
        pa, pb = person_parts(a.names[0]), person_parts(b.names[0])
        if a is b or not pa or not pb or pa[1][0][:3].lower() == pb[1][0][:3].lower():
            continue
        out.append(_neg(start + len(out), "hard_negative_person", a, b))
    pool = [e for e in ru if e.schema == "organization"]
    keys = [FORM_WORDS.sub("", e.names[0]).strip(" ,") for e in pool]
    for i in rng.sample(range(len(pool)), 700):
        best = max(
            (fuzz.token_sort_ratio(keys[i], keys[j]), j)
            for j in rng.sample(range(len(pool)), 400)
            if j != i and keys[j] != keys[i]
        )
        if best[0] >= 70 and not set(pool[i].names) & set(pool[best[1]].names):
            out.append(_neg(start + len(out), "hard_negative_org", pool[i], pool[best[1]]))
    return out


def _neg(n: int, category: str, a: Entry, b: Entry) -> dict[str, str]:
    return {
        "case": f"{category}-{n:04d}",
        "category": category,
        "query": a.names[0],
        "query_country": "",
        "query_ids": "",
        "target_id": b.id,
        "target_name": b.names[0],
        "is_match": "false",
        "note": f"different OFAC entries {a.id} and {b.id}",
    }


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data")
    rows = build(data)
    with OUT.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} rows -> {OUT}")


if __name__ == "__main__":
    main()

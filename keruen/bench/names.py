"""Generated party names for the speed benchmark: persons and companies in the shapes the real
lists use, drawn from skewed pools so that common words are as common as in life (the cases a
blocking index finds hardest). Deterministic for a seed. Pure."""

from __future__ import annotations

import random
from collections.abc import Iterator

ONSETS = (
    "",
    "b",
    "v",
    "g",
    "d",
    "zh",
    "z",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "f",
    "kh",
    "ts",
    "ch",
    "sh",
    "br",
    "gr",
    "kr",
    "st",
    "tr",
    "sk",
    "dz",
    "y",
)
VOWELS = ("a", "e", "i", "o", "u", "y", "ya", "yu", "ai", "ei")
CODAS = ("", "", "", "n", "r", "l", "k", "s", "t", "m", "sh", "b")
SURNAME_ENDINGS = (
    "ov",
    "ev",
    "in",
    "enko",
    "uk",
    "sky",
    "bekov",
    "yan",
    "uly",
    "ova",
    "eva",
    "ina",
    "idze",
    "ich",
    "ko",
    "",
    "",
)
GIVEN = (
    "Aleksandr",
    "Sergei",
    "Vladimir",
    "Dmitry",
    "Andrei",
    "Alexei",
    "Ivan",
    "Mikhail",
    "Nikolai",
    "Yuri",
    "Oleg",
    "Igor",
    "Pavel",
    "Viktor",
    "Evgeny",
    "Elena",
    "Olga",
    "Natalia",
    "Irina",
    "Tatiana",
    "Anna",
    "Maria",
    "Nurlan",
    "Yerlan",
    "Askar",
    "Dauren",
    "Aigerim",
    "Aliya",
    "Bakhyt",
    "Timur",
    "Ruslan",
    "Marat",
    "Mohammed",
    "Ali",
    "Hassan",
    "Ahmad",
    "Li",
    "Wang",
    "Zhang",
    "Mehmet",
    "Mustafa",
    "Ahmet",
    "John",
    "David",
    "Maxim",
    "Roman",
    "Anton",
    "Kirill",
    "Artem",
    "Daniyar",
    "Serik",
    "Gulnara",
    "Madina",
    "Zarina",
)
ORG_WORDS = (
    "Trade",
    "Trading",
    "Group",
    "Invest",
    "Logistics",
    "Stroi",
    "Neft",
    "Gaz",
    "Tekhno",
    "Prom",
    "Service",
    "Holding",
    "Export",
    "Import",
    "Resource",
    "Energy",
    "Systems",
    "Industries",
    "Capital",
    "Global",
    "Eurasia",
    "Asia",
    "Vostok",
    "Zapad",
    "Sever",
    "Yug",
    "Transit",
    "Cargo",
    "Metal",
    "Agro",
    "Electronics",
    "Components",
)
FORMS = (
    "LLC",
    "OOO",
    "TOO",
    "LLP",
    "JSC",
    "AO",
    "Ltd",
    "GmbH",
    "FZE",
    "Limited Liability Company",
    "Joint Stock Company",
    "",
    "",
)


class NameGen:
    def __init__(self, seed: int = 1, surnames: int = 150_000, words: int = 60_000) -> None:
        self.rng = random.Random(seed)
        self.surnames = [
            self._word(2, 4).capitalize() + self.rng.choice(SURNAME_ENDINGS)
            for _ in range(surnames)
        ]
        self.words = [self._word(2, 4).capitalize() for _ in range(words)]

    def _word(self, lo: int, hi: int) -> str:
        r = self.rng
        return "".join(
            r.choice(ONSETS) + r.choice(VOWELS) + r.choice(CODAS) for _ in range(r.randint(lo, hi))
        )

    def _skewed(self, pool: tuple[str, ...] | list[str]) -> str:
        """Zipf-like: the first items of a pool are drawn far more often than the last."""
        return pool[int(len(pool) * self.rng.random() ** 3)]

    def person(self) -> str:
        r = self.rng
        given = self._skewed(GIVEN)
        surname = self._skewed(self.surnames)
        if r.random() < 0.5:
            father = self._skewed(GIVEN).rstrip("a")
            return f"{surname.upper()}, {given} {father}ovich"
        return f"{given} {surname}"

    def company(self) -> str:
        r = self.rng
        words = [self._skewed(self.words)] + [r.choice(ORG_WORDS) for _ in range(r.randint(0, 2))]
        form = r.choice(FORMS)
        return (
            f"{form} {' '.join(words)}" if r.random() < 0.5 else f"{' '.join(words)} {form}"
        ).strip()

    def names(self, n: int) -> Iterator[str]:
        for _ in range(n):
            yield self.person() if self.rng.random() < 0.6 else self.company()

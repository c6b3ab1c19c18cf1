"""The simulated economy's cast: Kazakh companies with roles and sizes, partners abroad,
carriers, and the border posts each kind of trade uses.

Sizes are long-tailed (Pareto): a few importers carry most of the volume, as in real trade.
Every company has a registration date; a Kazakh BIN starts with it.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate
from typing import Any

from keruen.sim import home, ids, names

KZ_ROLES = {
    "importer": 0.22,
    "wholesaler": 0.20,
    "retailer": 0.36,
    "manufacturer": 0.05,
    "producer": 0.09,
    "trader": 0.05,
    "carrier": 0.03,
}
PRODUCER_GROUPS = (
    "ores",
    "fuel",
    "metals",
    "chemicals",
    "plastics",
    "grain",
    "food",
    "building",
    "vehicles",
    "apparel",
)
RU_REGIONS = {
    "Москва": "77",
    "Омск": "55",
    "Челябинск": "74",
    "Оренбург": "56",
    "Новосибирск": "54",
    "Екатеринбург": "66",
    "Самара": "63",
    "Саратов": "64",
    "Барнаул": "22",
    "Астрахань": "30",
    "Курган": "45",
    "Тюмень": "72",
    "Магнитогорск": "74",
    "Орск": "56",
    "Санкт-Петербург": "78",
    "Казань": "16",
    "Уфа": "02",
    "Пермь": "59",
}


@dataclass(slots=True)
class Company:
    tax_id: str
    name: str
    country: str
    role: str
    registered: date
    city: str = ""
    weight: float = 1.0
    sector: str = ""
    _party: dict[str, str] | None = field(default=None, repr=False, compare=False)

    def party(self) -> dict[str, str]:
        """The party as it appears in events (one shared dict: events are encoded, never
        mutated)."""
        if self._party is None:
            self._party = {"tax_id": self.tax_id, "name": self.name, "country": self.country}
        return self._party

    def public(self) -> dict[str, Any]:
        out = {
            "tax_id": self.tax_id,
            "name": self.name,
            "country": self.country,
            "role": self.role,
            "registered": self.registered.isoformat(),
        }
        if self.sector:
            out["sector"] = self.sector
        return out


@dataclass(slots=True)
class Pool:
    """Companies drawn in proportion to their size."""

    members: list[Company] = field(default_factory=list)
    _cum: list[float] = field(default_factory=list)

    def add(self, c: Company) -> None:
        self.members.append(c)
        self._cum = []

    def pick(self, rng: random.Random) -> Company:
        if not self._cum:
            self._cum = list(accumulate(c.weight for c in self.members))
        return self.members[bisect.bisect(self._cum, rng.random() * self._cum[-1])]

    def __len__(self) -> int:
        return len(self.members)


def _usable(code: str) -> bool:
    return not home.posts()[code].check.startswith("flagged")


def posts_toward(neighbour: str, mode: str | None = None) -> tuple[str, ...]:
    """Usable border posts on the border with `neighbour` (or seaports/airports)."""
    return tuple(
        sorted(
            p.code
            for p in home.posts().values()
            if (p.neighbour == neighbour or (neighbour == "" and p.mode in ("sea", "air")))
            and (mode is None or p.mode == mode)
            and _usable(p.code)
        )
    )


class World:
    """Everyone who trades, drawn once from the seed."""

    def __init__(
        self,
        rng: random.Random,
        kz_companies: int,
        foreign_per_partner: int,
        start: date,
        shard: int = 0,
        shards: int = 1,
    ) -> None:
        self.rng = rng
        self.start = start
        self.kz: dict[str, Pool] = {role: Pool() for role in KZ_ROLES}
        self.producers: dict[str, Pool] = {g: Pool() for g in PRODUCER_GROUPS}
        self.foreign: dict[tuple[str, str], Pool] = {}
        self.extra: list[Company] = []
        self.taken: set[str] = set()
        self._serial, self._stride = shard, shards
        self.foreign_per_partner = foreign_per_partner
        for _ in range(kz_companies):
            self._add_kz(self._role())
        for role, pool in self.kz.items():  # a small world still has every role
            while len(pool) < 2:
                self._add_kz(role)

    def _role(self) -> str:
        r, acc = self.rng.random(), 0.0
        for role, share in KZ_ROLES.items():
            acc += share
            if r < acc:
                return role
        return "retailer"

    def registration(self, newest: date, oldest_year: int = 1996) -> date:
        """A registration date, newer ones more common (the stock of firms keeps growing)."""
        span = newest.year - oldest_year
        year = newest.year - int(span * (1 - self.rng.random() ** 0.6))
        month = self.rng.randint(1, 12 if year < newest.year else newest.month)
        return date(year, month, self.rng.randint(1, 28))

    def _next_serial(self) -> int:
        """Serials of one shard stay in its residue class, so shards never share an id."""
        self._serial += self._stride * self.rng.randint(1, 40)
        return self._serial

    def _unique(self, make: Callable[[int], str]) -> str:
        while True:
            tax_id = make(self._next_serial())
            if tax_id not in self.taken:
                self.taken.add(tax_id)
                return tax_id

    def _make_kz(self, role: str, registered: date, weight: float, sector: str) -> Company:
        tax_id = self._unique(lambda n: ids.kz_bin(registered, n, self._stride))
        return Company(
            tax_id,
            names.company_name("KZ", self.rng),
            "KZ",
            role,
            registered,
            names.city("KZ", self.rng),
            weight,
            sector,
        )

    def new_kz(self, role: str, registered: date, weight: float = 1.0, sector: str = "") -> Company:
        """A Kazakh company outside the trading pools (a scheme's shell, a bait firm)."""
        c = self._make_kz(role, registered, weight, sector)
        self.extra.append(c)
        return c

    def _add_kz(self, role: str) -> None:
        sector = self.rng.choice(PRODUCER_GROUPS) if role == "producer" else ""
        c = self._make_kz(role, self.registration(self.start), self.rng.paretovariate(1.2), sector)
        self.kz[role].add(c)
        if sector:
            self.producers[sector].add(c)

    def pick(self, role: str) -> Company:
        return self.kz[role].pick(self.rng)

    def producer(self, group: str) -> Company:
        pool = self.producers.get(group)
        return pool.pick(self.rng) if pool else self.pick("producer")

    def partner(self, country: str, role: str = "seller") -> Company:
        """A company abroad; each (country, role) has a fixed cast, drawn on first use."""
        pool = self.foreign.get((country, role))
        if pool is None:
            pool = self.foreign[(country, role)] = Pool()
            for _ in range(self.foreign_per_partner):
                pool.add(self.new_foreign(country, role, self.registration(self.start, 1992)))
        return pool.pick(self.rng)

    def new_foreign(
        self, country: str, role: str, registered: date, name: str = "", tax_id: str = ""
    ) -> Company:
        city = names.city(country, self.rng)
        if not tax_id:
            tax_id = self._unique(lambda n: self._foreign_id(country, city, registered, n))
        if not name:
            name = names.company_name(country, self.rng)
            if country in ("RU", "KG", "BY") and self.rng.random() < 0.15:
                name = names.romanised(name)  # some write their name in Latin letters
        return Company(
            tax_id,
            name,
            country,
            role,
            registered,
            city,
            self.rng.paretovariate(1.3),
        )

    def _foreign_id(self, country: str, city: str, registered: date, serial: int) -> str:
        if country == "RU":
            return ids.ru_inn(RU_REGIONS.get(city, "77"), serial)
        if country == "KG":
            return ids.kg_inn(registered, serial)
        if country == "BY":
            return ids.by_unp(serial, self._stride)
        return ids.foreign_tax_id(country, serial, self.rng)

    def companies(self) -> list[Company]:
        out = [c for pool in self.kz.values() for c in pool.members]
        out += [c for pool in self.foreign.values() for c in pool.members]
        return out + self.extra

    def public(self) -> list[dict[str, Any]]:
        return [c.public() for c in self.companies()]

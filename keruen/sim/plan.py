"""The planner: which processes start on which day.

Trade is driven by value budgets. Every (year, flow, partner) line of trade_targets.csv
accrues its daily share of the annual value (monthly seasonality, nothing on Sundays);
consignments are started while the accrued budget is positive, each drawn with realistic
quantity and unit value, and the budget is charged with its value (and any other flow it
feeds, such as the import behind a re-export). Totals therefore match the public figures to
within one consignment, and the number of consignments follows from their sizes.
Schemes and bait are scheduled at fixed dates drawn from the seed.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from datetime import date, timedelta

from keruen.sim import bait, flows, routes, schemes
from keruen.sim.clock import DAY, HOUR, epoch, to_date
from keruen.sim.economy import Economy, Process
from keruen.sim.listed import buyers, kazakh, listed_buyer, listed_holder
from keruen.sim.names import lookalike, short_core
from keruen.sim.presets import Preset
from keruen.sim.tables import Item, Target, catalog, mix, mixes, seasonality, targets
from keruen.sim.transits import transit
from keruen.sim.truth import Record
from keruen.sim.world import Company

Key = tuple[int, str, str]
Starter = Callable[[int, Record], Process]
REEXPORT_SHARE = {"RU": 0.15, "KG": 0.3, "BY": 0.1, "AM": 0.1}
SOURCE_OF_GROUP = {
    "vehicles": ("KR", "JP", "CN", "DE", "US"),
    "electronics": ("CN", "VN", "KR"),
    "pharma": ("DE", "IN", "FR", "CH"),
    "apparel": ("CN", "TR"),
    "machinery": ("CN", "DE", "IT"),
    "chemicals": ("DE", "FR", "KR"),
    "food": ("IN", "CN"),
}
FLOW_SEASON = {
    "export": "grain",
    "dispatch_kg": "fuel",
    "dispatch_am": "grain",
    "arrival_ru": "default",
    "dispatch_ru": "default",
}
SANCTIONS = date(2022, 2, 24)
LEAD_DAYS = 12  # mean days from a dispatch flow's start (production, purchase) to the dispatch
SCHEME_KINDS = (
    "chpl_direct",
    "shell_chain",
    "front_reexport",
    "transit_diversion",
    "misdeclared_hs",
    "phantom_stock",
    "sanctioned_buyer",
    "layering",
    "ghost_trade",
)
BAIT_KINDS = (
    "lookalike_name",
    "chpl_domestic",
    "ordinary_to_ru",
    "slow_transit",
    "new_company",
    "quick_resale",
    "surplus_at_home",
    "chpl_before_sanctions",
)


class Planner:
    def __init__(self, eco: Economy, p: Preset) -> None:
        self.eco, self.p, self.rng = eco, p, eco.rng
        years = range(p.start.year, p.end.year + 1)
        self.lines = [t for t in targets() if t.year in years]
        self._daily_cache: dict[tuple[int, int], float] = {}
        self.mixes = {name: mix(name) for name in mixes()}
        self.deficit: dict[Key, float] = {
            (t.year, t.flow, t.partner): -self.rng.random() * self._mean(t) for t in self.lines
        }
        self.expected: dict[Key, float] = dict.fromkeys(self.deficit, 0.0)
        for t in self.lines:  # exits trail their start: begin with their first days' budget
            if t.flow in ("dispatch", "export") and t.year == p.start.year:
                self.deficit[(t.year, t.flow, t.partner)] += LEAD_DAYS * self._daily(t, p.start)
        self.transit_due = 0.0
        self.schedule: dict[int, list[tuple[str, bool, Starter]]] = {}
        self._plan_schemes()
        self._plan_bait()

    def _mean(self, t: Target) -> float:
        m = self.mixes[t.mix]
        return sum(i.lot_value(self.eco.consolidation) for i in m.items) / len(m.items)

    # --- each day -------------------------------------------------------------------------

    def spawn(self, day: int) -> Iterator[Process]:
        for kind, is_bait, start in self.schedule.pop(day, []):
            yield start(
                day + self.rng.randrange(3 * HOUR, 13 * HOUR), self.eco.record(kind, bait=is_bait)
            )
        d = to_date(day)
        if d < self.p.end:
            yield from self._trade(day, d)
            yield from self._transits(day, d)

    def _trade(self, day: int, d: date) -> Iterator[Process]:
        """Accrue each flow's daily budget; start consignments except on Sundays."""
        for line in self.lines:
            if line.year != d.year:
                continue
            key = (line.year, line.flow, line.partner)
            daily = self._daily(line, d)
            self.deficit[key] += daily
            self.expected[key] += daily
            while self.deficit[key] > 0 and d.weekday() != 6:
                t = day + self.rng.randrange(3 * HOUR, 14 * HOUR)
                process, value = self._consignment(line, t, d.year)
                self.deficit[key] -= value
                yield process

    def _daily(self, line: Target, d: date) -> float:
        key = (id(line), d.month)
        daily = self._daily_cache.get(key)
        if daily is None:
            weight = seasonality()[FLOW_SEASON.get(line.mix, "default")][d.month - 1]
            days = calendar.monthrange(d.year, d.month)[1]
            daily = self._daily_cache[key] = line.value_usd * weight / days * self.p.value_scale
        return daily

    def _charge(self, year: int, flow: str, partner: str, value: float) -> None:
        key = (year, flow, partner)
        if key in self.deficit:
            self.deficit[key] -= value

    def _consignment(self, line: Target, t: int, year: int) -> tuple[Process, float]:
        rng, eco = self.rng, self.eco
        if line.flow in ("import", "arrival"):
            item = self.mixes[line.mix].pick(rng.random())
            q, price = eco.draw(item)
            return flows.domestic(eco, t, line.partner, item, q, price), q / _scale(item) * price
        if line.flow == "dispatch" and rng.random() < REEXPORT_SHARE.get(line.partner, 0.0):
            return self._reexport(line, t, year)
        return self._production(line, t, year)

    def _reexport(self, line: Target, t: int, year: int) -> tuple[Process, float]:
        item = self.mixes["reexport"].pick(self.rng.random())
        source = self.rng.choice(SOURCE_OF_GROUP.get(item.group, ("CN",)))
        q, price = self.eco.draw(item)
        markup = self.rng.uniform(1.05, 1.25)
        self._charge(year, "import", source, q / _scale(item) * price)
        process = flows.reexport(self.eco, t, source, item, q, price, line.partner, markup)
        return process, q / _scale(item) * price * markup

    def _production(self, line: Target, t: int, year: int) -> tuple[Process, float]:
        item = self.mixes[line.mix].pick(self.rng.random())
        q, price = self.eco.draw(item, self.rng.choice((1.0, 1.5, 2.0)))
        value = q / _scale(item) * price
        _, share, source = flows.INPUTS.get(item.group, ("843149", 0.02, "CN"))
        self._charge(
            year, "arrival" if source in flows.EAEU_PARTNERS else "import", source, value * share
        )
        producer = self.eco.world.producer(item.group)
        return flows.production(self.eco, t, producer, item, q, price, line.partner), value

    def _transits(self, day: int, d: date) -> Iterator[Process]:
        self.transit_due += self.p.transits_per_day * 12 * seasonality()["transit"][d.month - 1]
        while self.transit_due >= 1:
            self.transit_due -= 1
            corridor = routes.pick_corridor(self.rng.random())
            yield transit(self.eco, day + self.rng.randrange(DAY), corridor)

    # --- schemes and bait -----------------------------------------------------------------

    def _days(self, n: int, first: date, last: date) -> list[int]:
        """`n` dates spread over [first, last], each jittered within its share."""
        span = max(1, (last - first).days)
        return [
            epoch(first + timedelta(days=int((i + self.rng.random()) * span / n))) for i in range(n)
        ]

    def _add(
        self,
        day: int,
        kind: str,
        is_bait: bool,
        start: Starter,
        expect: Key | None = None,
        value: float = 0.0,
    ) -> None:
        self.schedule.setdefault(day, []).append((kind, is_bait, start))
        if expect:
            self._charge(*expect, value)

    def _plan_schemes(self) -> None:
        first = max(self.p.start, SANCTIONS + timedelta(days=5))
        last = max(first, self.p.end - timedelta(days=40))
        if first >= self.p.end:
            return
        for kind in SCHEME_KINDS:
            for i, day in enumerate(self._days(self.p.schemes_per_kind, first, last)):
                start, dest, value = getattr(self, f"_scheme_{kind}")(i)
                self._add(
                    day,
                    kind,
                    False,
                    start,
                    (to_date(day).year, "dispatch", dest) if dest else None,
                    value,
                )

    def _chpl_value(self, consignments: float, markup: float = 1.8) -> float:
        """Expected value a scheme dispatches (charged to the flow it hides in)."""
        factor = self.eco.consolidation * self.eco.scheme_lot
        weights = schemes.CHPL_WEIGHTS
        total = 0.0
        for code, w in weights.items():
            total += catalog()[code].lot_value(factor) * w
        value = total / sum(weights.values()) * consignments * markup
        self._charge(
            self.p.start.year if self.p.start >= SANCTIONS else 2022, "import", "CN", value / markup
        )
        return value

    def _scheme_chpl_direct(self, i: int) -> tuple[Starter, str, float]:
        n = self.rng.randint(1, 4)
        return (lambda t, rec: schemes.chpl_direct(self.eco, t, rec, n)), "RU", self._chpl_value(n)

    def _scheme_shell_chain(self, i: int) -> tuple[Starter, str, float]:
        shells, n = 2 + i % 4, self.rng.randint(1, 3)
        return (
            (lambda t, rec: schemes.shell_chain(self.eco, t, rec, shells, n)),
            "RU",
            self._chpl_value(n),
        )

    def _scheme_front_reexport(self, i: int) -> tuple[Starter, str, float]:
        country, n = ("KG", "AM")[i % 2], self.rng.randint(1, 4)
        return (
            (lambda t, rec: schemes.front_reexport(self.eco, t, rec, country, n)),
            country,
            self._chpl_value(n, 1.4),
        )

    def _scheme_transit_diversion(self, i: int) -> tuple[Starter, str, float]:
        v = ("exit_russia", "no_exit", "partial_unload")[i % 3]
        return (lambda t, rec: schemes.transit_diversion(self.eco, t, rec, v)), "", 0.0

    def _scheme_misdeclared_hs(self, i: int) -> tuple[Starter, str, float]:
        n = self.rng.randint(1, 3)
        return (
            (lambda t, rec: schemes.misdeclared_hs(self.eco, t, rec, n)),
            "RU",
            self._chpl_value(n, 1.6),
        )

    def _scheme_phantom_stock(self, i: int) -> tuple[Starter, str, float]:
        rounds = 1 + i % 3
        return (
            (lambda t, rec: schemes.phantom_stock(self.eco, t, rec, rounds)),
            "RU",
            self._chpl_value(0.3 * (1 + rounds * 1.75)),
        )

    def _scheme_sanctioned_buyer(self, i: int) -> tuple[Starter, str, float]:
        styles = ("translit", "abbrev", "case", "alias", "listed_holder")
        style = styles[i % len(styles)]
        if style == "listed_holder" and kazakh():
            holder = self._listed_holder(i)
            return (
                (lambda t, rec: schemes.listed_holder(self.eco, t, rec, holder)),
                "RU",
                self._chpl_value(1),
            )
        buyer, note = self._listed_buyer(i, style if style != "listed_holder" else "translit")
        chpl = self.rng.random() < 0.6

        def start(t: int, rec: Record) -> Process:
            rec.note = note
            return schemes.sanctioned_buyer(self.eco, t, rec, buyer, style, chpl)

        return start, buyer.country, self._chpl_value(1)

    def _listed_buyer(self, i: int, style: str) -> tuple[Company, str]:
        pool = [e for e in buyers() if short_core(e.name)]
        e = pool[(i * 7 + self.rng.randrange(len(pool))) % len(pool)]
        keep_id = e.tax_id.isdigit() and self.rng.random() < 0.5
        return listed_buyer(
            self.eco.world, e, style, keep_id
        ), f"listed entity ent_num {e.ent_num}: {e.name}"

    def _listed_holder(self, i: int) -> Company:
        return listed_holder(self.eco.world, kazakh()[i % len(kazakh())])

    def _scheme_layering(self, i: int) -> tuple[Starter, str, float]:
        hops = 4 + i % 6
        return (
            (lambda t, rec: schemes.layering(self.eco, t, rec, hops)),
            "RU",
            self._chpl_value(0.8),
        )

    def _scheme_ghost_trade(self, i: int) -> tuple[Starter, str, float]:
        if i % 2:
            return (lambda t, rec: schemes.ghost_receipt(self.eco, t, rec)), "", 0.0
        return (
            (lambda t, rec: schemes.ghost_dispatch(self.eco, t, rec)),
            "RU",
            self._chpl_value(0.8, 1.2),
        )

    def _plan_bait(self) -> None:
        last = max(self.p.start, self.p.end - timedelta(days=40))
        for kind in BAIT_KINDS:
            first, end = self.p.start, last
            if kind == "chpl_before_sanctions":
                end = min(last, SANCTIONS - timedelta(days=20))
                if end <= first:
                    continue
            for i, day in enumerate(self._days(self.p.bait_per_kind, first, end)):
                self._add(day, kind, True, self._bait(kind, i))

    def _bait(self, kind: str, i: int) -> Starter:
        eco = self.eco
        if kind == "lookalike_name":
            return self._lookalike(i)
        simple: dict[str, Starter] = {
            "chpl_domestic": lambda t, rec: bait.chpl_domestic(eco, t, rec),
            "ordinary_to_ru": lambda t, rec: bait.to_buyer(
                eco, t, rec, eco.world.partner("RU", "buyer")
            ),
            "slow_transit": lambda t, rec: bait.slow_transit(eco, t, rec, i % 2 == 1),
            "new_company": lambda t, rec: bait.new_company_trade(eco, t, rec),
            "quick_resale": lambda t, rec: bait.quick_resale(eco, t, rec),
            "surplus_at_home": lambda t, rec: bait.surplus_at_home(eco, t, rec),
            "chpl_before_sanctions": lambda t, rec: bait.to_buyer(
                eco, t, rec, eco.world.partner("RU", "buyer"), chpl=True
            ),
        }
        return simple[kind]

    def _lookalike(self, i: int) -> Starter:
        pool = [e for e in buyers() if short_core(e.name)]
        e = pool[(i * 11 + 3) % len(pool)]
        registered = self.eco.world.registration(self.p.start, 1995)
        buyer = self.eco.world.new_foreign("RU", "buyer", registered, lookalike(e.name, self.rng))
        self.eco.world.extra.append(buyer)

        def start(t: int, rec: Record) -> Process:
            rec.note = f"resembles listed entity ent_num {e.ent_num}: {e.name}"
            return bait.to_buyer(self.eco, t, rec, buyer)

        return start


def _scale(item: Item) -> int:
    return 1 if item.unit in ("PCE", "SET", "NAR", "H87") else 1000

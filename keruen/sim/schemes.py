"""Planted diversion schemes: how high-priority goods reach Russia through Kazakhstan.

Each scheme is a process that writes ordinary-looking events and fills a truth `Record`.
Evaders use the same documents as honest traders; what gives them away is a pattern (a new
company with outsized volume, goods passing through shells in days, a price no honest buyer
pays, stock that appears from nowhere, a name that is a listed one in another script).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from datetime import date

from keruen.sim import flows, routes
from keruen.sim.clock import DAY, to_date
from keruen.sim.economy import Economy, Event, Line, Lot, Process
from keruen.sim.flows import later, office
from keruen.sim.tables import Item, catalog, chpl_codes
from keruen.sim.transits import diverted
from keruen.sim.truth import Record
from keruen.sim.world import Company

Chain = Generator[tuple[int, Event | Line], None, tuple[Lot, int]]
SOURCES = ("CN", "CN", "CN", "HK", "HK", "TR", "AE", "DE", "US", "JP", "KR", "IT", "GB")
CHPL_WEIGHTS = {
    "854231": 6,
    "854232": 4,
    "854239": 4,
    "851762": 4,
    "847150": 2,
    "847180": 2,
    "850440": 2,
    "853669": 2,
    "853690": 2,
    "848210": 2,
    "852691": 2,
    "880730": 2,
    "901310": 1,
    "903020": 1,
    "845710": 1,
    "845961": 1,
    "853221": 1,
    "854129": 1,
}
COVERS = ("392690", "731815", "940542", "848180", "950300")


def chpl_item(rng: random.Random) -> Item:
    """A high-priority item, the kinds most often found in Russian weapons first."""
    codes = [c for c in CHPL_WEIGHTS if c in chpl_codes()]
    return catalog()[rng.choices(codes, [CHPL_WEIGHTS[c] for c in codes])[0]]


def new_company(eco: Economy, t: int, role: str, months: tuple[int, int] = (1, 5)) -> Company:
    """A Kazakh company registered a few months before `t` (its BIN says so)."""
    d = to_date(t - eco.rng.randint(months[0] * 30, months[1] * 30) * DAY)
    return eco.world.new_kz(role, date(d.year, d.month, min(d.day, 28)))


def new_buyer(eco: Economy, t: int, country: str) -> Company:
    """A recently registered buyer abroad (Russian buyers of sanctioned goods often are)."""
    d = to_date(t - eco.rng.randint(60, 400) * DAY)
    c = eco.world.new_foreign(country, "buyer", date(d.year, d.month, min(d.day, 28)))
    eco.world.extra.append(c)
    return c


def source_import(
    eco: Economy,
    t: int,
    holder: Company,
    item: Item,
    rec: Record,
    factor: float = 1.0,
    goods: Event | None = None,
) -> tuple[Event, Lot]:
    """The scheme's goods enter Kazakhstan legally, bought from a distributor abroad."""
    partner = eco.rng.choice(SOURCES)
    q, price = eco.draw(item, factor * eco.scheme_lot)
    ev, lot = flows.enter(eco, t, holder, partner, item, q, price, goods=goods)
    rec.take(t, ev)
    return ev, lot


def ship_out(
    eco: Economy, rec: Record, lot: Lot, t: int, buyer: Company, markup: float, receipt: bool = True
) -> Process:
    """The diverting exit: the whole lot to `buyer`, counted as diverted."""
    price = lot.price * markup
    rec.divert(lot.units(), lot.item.unit, lot.units() * price, lot.item.hs)
    rec.party(lot.holder, buyer.tax_id)
    for step in flows.ship(eco, lot, t, buyer.country, price, buyer, receipt):
        yield rec.take(*step)


def pass_along(
    eco: Economy, rec: Record, lot: Lot, t: int, chain: list[Company], gap_days: tuple[float, float]
) -> Chain:
    """Transfers of the whole lot along `chain`; returns the last lot and time."""
    for holder in chain:
        t = office(later(t, eco.rng, *gap_days), eco.rng)
        ev, lot = eco.transfer(t, lot, holder, lot.q, eco.rng.uniform(1.01, 1.08))
        rec.party(holder.tax_id)
        yield rec.take(t, ev)
    return lot, t


# --- the schemes ----------------------------------------------------------------------------


def chpl_direct(eco: Economy, t0: int, rec: Record, consignments: int) -> Process:
    """High-priority goods imported and dispatched straight to a Russian buyer."""
    rng = eco.rng
    fresh = rng.random() < 0.5
    importer = new_company(eco, t0, "trader") if fresh else eco.world.pick("importer")
    buyer = new_buyer(eco, t0, "RU") if rng.random() < 0.5 else eco.world.partner("RU", "buyer")
    rec.variant = "new importer" if fresh else "established importer"
    t = t0
    for _ in range(consignments):
        ev, lot = source_import(eco, t, importer, chpl_item(rng), rec)
        yield t, ev
        eco.start(
            ship_out(eco, rec, lot, office(later(t, rng, 2, 20), rng), buyer, rng.uniform(1.3, 2.5))
        )
        t = office(later(t, rng, 5, 30), rng)


def shell_chain(eco: Economy, t0: int, rec: Record, shells: int, consignments: int) -> Process:
    """The same through 2-5 short-lived shell companies, hours or days apart."""
    rng = eco.rng
    importer = eco.world.pick("importer")
    chain = [new_company(eco, t0, "trader", (1, 4)) for _ in range(shells)]
    buyer = new_buyer(eco, t0, "RU")
    rec.variant = f"{shells} shells"
    t = t0
    for _ in range(consignments):
        ev, lot = source_import(eco, t, importer, chpl_item(rng), rec)
        yield t, ev
        lot, t_last = yield from pass_along(eco, rec, lot, t, chain, (0.1, 4))
        eco.start(
            ship_out(
                eco, rec, lot, office(later(t_last, rng, 0.5, 5), rng), buyer, rng.uniform(1.3, 2.5)
            )
        )
        t = office(later(t_last, rng, 3, 25), rng)


def front_reexport(eco: Economy, t0: int, rec: Record, country: str, consignments: int) -> Process:
    """Re-export through a front company in Kyrgyzstan or Armenia (which ships on to Russia,
    out of Kazakhstan's sight); the front is new and its volume outsized."""
    rng = eco.rng
    front = new_buyer(eco, t0, country)
    rec.variant = f"front in {country}"
    t = t0
    for _ in range(consignments):
        importer = (
            eco.world.pick("importer") if rng.random() < 0.6 else new_company(eco, t, "trader")
        )
        ev, lot = source_import(eco, t, importer, chpl_item(rng), rec)
        yield t, ev
        t_last = t
        if rng.random() < 0.5:
            lot, t_last = yield from pass_along(
                eco, rec, lot, t, [eco.world.pick("trader")], (1, 6)
            )
        eco.start(
            ship_out(
                eco, rec, lot, office(later(t_last, rng, 1, 10), rng), front, rng.uniform(1.15, 1.6)
            )
        )
        t = office(later(t_last, rng, 4, 25), rng)


def transit_diversion(eco: Economy, t0: int, rec: Record, variant: str) -> Process:
    """A transit to a third country that leaves toward Russia, never leaves, or arrives light."""
    rng = eco.rng
    corridor = rng.choice(
        [
            c
            for c in routes.corridors()
            if c.name in ("china-uzbekistan", "china-kyrgyzstan", "china-turkmenistan")
        ]
    )
    rec.variant = variant
    items = [chpl_item(rng) for _ in range(rng.choice((1, 2)))]
    yield from diverted(eco, t0, corridor, variant, rec, items)


def misdeclared_hs(eco: Economy, t0: int, rec: Record, consignments: int) -> Process:
    """High-priority goods declared under an innocuous heading (plastic articles, screws,
    lamps): only their value per kilogram betrays them. They leave for Russia unchanged."""
    rng = eco.rng
    cover = catalog()[rng.choice(COVERS)]
    importer = eco.world.pick("importer") if rng.random() < 0.4 else new_company(eco, t0, "trader")
    buyer = new_buyer(eco, t0, "RU")
    rec.variant = f"declared as {cover.hs}"
    t, truly = t0, []
    for _ in range(consignments):
        true_item = chpl_item(rng)
        q, price = eco.draw(true_item, eco.scheme_lot)
        mass = q / (1 if true_item.unit == "PCE" else 1000) * true_item.kg_per_unit
        item, dq, dprice = _as_cover(cover, true_item, q, price, mass)
        goods = eco.goods(item, rng.choice(("CN", "HK", "TR")))
        ev, lot = flows.enter(
            eco, t, importer, rng.choice(("CN", "HK", "TR", "AE")), item, dq, dprice, goods=goods
        )
        yield rec.take(t, ev)
        rec.goods(true_item.hs)
        truly.append(f"{true_item.hs} ({true_item.description})")
        rec.note = f"declared as {cover.hs}; true goods: {', '.join(truly)}"
        eco.start(
            ship_out(eco, rec, lot, office(later(t, rng, 3, 20), rng), buyer, rng.uniform(1.3, 2.0))
        )
        t = office(later(t, rng, 7, 30), rng)


def _as_cover(
    cover: Item, true_item: Item, q: int, price: float, mass: float
) -> tuple[Item, int, float]:
    """The cover item with quantity and unit price that keep the true value and mass."""
    value = q / (1 if true_item.unit == "PCE" else 1000) * price
    fake = Item(
        cover.hs,
        cover.group,
        cover.unit,
        cover.price_lo,
        cover.price_hi,
        mass / max(q, 1) if cover.unit == "PCE" else 1.0,
        cover.lot_lo,
        cover.lot_hi,
        cover.description,
    )
    if cover.unit == "PCE":
        return fake, q, value / q
    kg = max(1, round(mass * 1000))
    return fake, kg, value / (kg / 1000)


def phantom_stock(eco: Economy, t0: int, rec: Record, rounds: int) -> Process:
    """Stock that appears from nowhere: a modest import, positive 'stocktake' adjustments,
    and dispatches to Russia well beyond what was ever imported."""
    rng = eco.rng
    holder = eco.world.pick("importer" if rng.random() < 0.5 else "wholesaler")
    buyer = eco.world.partner("RU", "buyer") if rng.random() < 0.5 else new_buyer(eco, t0, "RU")
    item = chpl_item(rng) if rng.random() < 0.8 else catalog()[rng.choice(("847130", "851713"))]
    ev, lot = source_import(eco, t0, holder, item, rec, factor=0.3)
    yield t0, ev
    rec.variant = f"{rounds} adjustments"
    t, imported = t0, lot.q
    for _ in range(rounds):
        t = office(later(t, rng, 3, 20), rng)
        yield rec.take(
            t,
            eco.adjust(
                t,
                lot,
                max(1, int(imported * rng.uniform(0.5, 3))),
                rng.choice(("stocktake surplus", "inventory regrading", "found in warehouse")),
            ),
        )
    t = office(later(t, rng, 1, 7), rng)
    yield from ship_out(eco, rec, lot, t, buyer, rng.uniform(1.3, 2.2))


def sanctioned_buyer(
    eco: Economy, t0: int, rec: Record, buyer: Company, variant: str, chpl: bool
) -> Process:
    """A dispatch to a listed entity written another way (Cyrillic, short form, alias)."""
    rng = eco.rng
    holder = eco.world.pick("trader" if rng.random() < 0.5 else "importer")
    item = chpl_item(rng) if chpl else catalog()[rng.choice(("870899", "843149", "401110"))]
    ev, lot = source_import(eco, t0, holder, item, rec)
    yield t0, ev
    rec.variant = variant
    yield from ship_out(
        eco, rec, lot, office(later(t0, rng, 3, 25), rng), buyer, rng.uniform(1.1, 1.8)
    )


def listed_holder(eco: Economy, t0: int, rec: Record, holder: Company) -> Process:
    """A listed Kazakh company (its BIN is on the list) takes the goods on their way out."""
    rng = eco.rng
    ev, lot = source_import(eco, t0, eco.world.pick("importer"), chpl_item(rng), rec)
    yield t0, ev
    rec.variant = "listed Kazakh holder"
    lot, t = yield from pass_along(eco, rec, lot, t0, [holder], (1, 8))
    yield from ship_out(
        eco,
        rec,
        lot,
        office(later(t, rng, 1, 10), rng),
        eco.world.partner("RU", "buyer"),
        rng.uniform(1.2, 2.0),
    )


def layering(eco: Economy, t0: int, rec: Record, hops: int) -> Process:
    """Quick circular transfers among a ring of companies before the goods leave."""
    rng = eco.rng
    ring = [
        eco.world.pick("trader"),
        new_company(eco, t0, "trader"),
        new_company(eco, t0, "wholesaler"),
    ] + ([eco.world.pick("wholesaler")] if rng.random() < 0.5 else [])
    ev, lot = source_import(eco, t0, ring[0], chpl_item(rng), rec)
    yield t0, ev
    path = [ring[(i + 1) % len(ring)] for i in range(hops)]
    rec.variant = f"{hops} transfers around {len(ring)} companies"
    lot, t = yield from pass_along(eco, rec, lot, t0, path, (0.05, 1.5))
    country = "RU" if rng.random() < 0.8 else "KG"
    yield from ship_out(
        eco,
        rec,
        lot,
        office(later(t, rng, 0.5, 4), rng),
        new_buyer(eco, t, country),
        rng.uniform(1.3, 2.2),
    )


def ghost_dispatch(eco: Economy, t0: int, rec: Record) -> Process:
    """A dispatch that no partner ever confirms: the goods went somewhere else."""
    rng = eco.rng
    holder = eco.world.pick("trader") if rng.random() < 0.5 else new_company(eco, t0, "trader")
    item = chpl_item(rng) if rng.random() < 0.7 else catalog()[rng.choice(("870323", "851713"))]
    ev, lot = source_import(eco, t0, holder, item, rec)
    yield t0, ev
    rec.variant = "dispatch without receipt"
    country = "RU" if rng.random() < 0.7 else "KG"
    yield from ship_out(
        eco,
        rec,
        lot,
        office(later(t0, rng, 3, 20), rng),
        new_buyer(eco, t0, country),
        rng.uniform(1.0, 1.4),
        receipt=False,
    )


def ghost_receipt(eco: Economy, t0: int, rec: Record) -> Process:
    """A partner confirms goods from Kazakhstan that no Kazakh dispatch declared."""
    rng = eco.rng
    item = chpl_item(rng)
    q, price = eco.draw(item, eco.scheme_lot)
    units = q / (1 if item.unit == "PCE" else 1000)
    rec.variant = "receipt without dispatch"
    ghost = Lot("-", "-", q, item, price, item.hs, "", t0)
    ev = eco.receipt(t0, eco.skip_id(), "RU", ghost, q, units * price * 1.4)
    rec.divert(units, item.unit, units * price * 1.4, item.hs)
    yield rec.take(t0, ev)


# --- the registry (used by the planner's tests and by Scenario.plant) ------------------------


def _sanctioned(
    eco: Economy,
    t: int,
    rec: Record,
    style: str = "translit",
    chpl: bool = True,
    index: int = 0,
    keep_id: bool = False,
) -> Process:
    from keruen.sim.listed import buyers, listed_buyer
    from keruen.sim.names import short_core

    pool = [e for e in buyers() if short_core(e.name)]
    e = pool[index % len(pool)]
    rec.note = f"listed entity ent_num {e.ent_num}: {e.name}"
    return sanctioned_buyer(eco, t, rec, listed_buyer(eco.world, e, style, keep_id), style, chpl)


def _ghost(eco: Economy, t: int, rec: Record, variant: str = "dispatch") -> Process:
    return ghost_receipt(eco, t, rec) if variant == "receipt" else ghost_dispatch(eco, t, rec)


PLANTS: dict[str, Callable[..., Process]] = {
    "chpl_direct": lambda eco, t, rec, consignments=1: chpl_direct(eco, t, rec, consignments),
    "shell_chain": lambda eco, t, rec, shells=3, consignments=1: shell_chain(
        eco, t, rec, shells, consignments
    ),
    "front_reexport": lambda eco, t, rec, country="KG", consignments=1: front_reexport(
        eco, t, rec, country, consignments
    ),
    "transit_diversion": lambda eco, t, rec, variant="exit_russia": transit_diversion(
        eco, t, rec, variant
    ),
    "misdeclared_hs": lambda eco, t, rec, consignments=1: misdeclared_hs(eco, t, rec, consignments),
    "phantom_stock": lambda eco, t, rec, rounds=1: phantom_stock(eco, t, rec, rounds),
    "sanctioned_buyer": _sanctioned,
    "layering": lambda eco, t, rec, hops=5: layering(eco, t, rec, hops),
    "ghost_trade": _ghost,
}
"""Scheme kinds and their parameters (with defaults): the kinds of truth.jsonl."""

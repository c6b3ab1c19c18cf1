"""Legitimate trade, in volume: imports sold on and used up in Kazakhstan, domestic
production dispatched to partners, ordinary re-exports, each with its partner's receipt.

Each function is a process (a generator of time-ordered events). A holder's share of a batch
is its own process: when a wholesaler sells part of a batch, the buyer's life with that part
starts as a new process, so chains of resale branch without any global bookkeeping.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from itertools import pairwise

from keruen.sim import routes
from keruen.sim.clock import DAY, EAST, HOUR
from keruen.sim.economy import Economy, Event, Lot, Process, scale_of
from keruen.sim.tables import Item, brands_for, catalog
from keruen.sim.world import Company

CANCEL_RATE = 0.004
EAEU_PARTNERS = frozenset({"RU", "BY", "KG", "AM"})
INPUTS = {  # group of the product: (input HS, input value / output value, source country)
    "ores": ("360200", 0.03, "RU"),
    "fuel": ("843149", 0.02, "CN"),
    "metals": ("270400", 0.08, "RU"),
    "chemicals": ("381512", 0.03, "DE"),
    "plastics": ("381512", 0.03, "DE"),
    "grain": ("630533", 0.01, "CN"),
    "food": ("481920", 0.02, "RU"),
    "building": ("843149", 0.02, "CN"),
    "vehicles": ("721049", 0.30, "RU"),
    "apparel": ("630533", 0.01, "CN"),
}
ASSEMBLY = {
    "854231": "902830",
    "854239": "902830",
    "853690": "853710",
    "853669": "853710",
    "847150": "847149",
    "847180": "847149",
    "850440": "853710",
    "853400": "902830",
}


# --- time -----------------------------------------------------------------------------------


def office(t: int, rng: random.Random) -> int:
    """The next business moment (Mon-Sat, 09:00-19:00 in Astana) at or after `t`."""
    local = t + EAST * HOUR
    day, sec = divmod(local, DAY)
    if sec >= 19 * HOUR:
        day, sec = day + 1, 0
    if (day + 3) % 7 == 6:  # Sunday (1970-01-01 was a Thursday)
        day, sec = day + 1, 0
    if sec < 9 * HOUR:
        sec = 9 * HOUR + rng.randrange(4 * HOUR)
    return day * DAY + sec - EAST * HOUR


def later(t: int, rng: random.Random, lo_days: float, hi_days: float) -> int:
    return t + int((lo_days + (hi_days - lo_days) * rng.random()) * DAY)


def split(q: int, parts: int, rng: random.Random) -> list[int]:
    """`q` cut into up to `parts` positive integers that add up to `q`."""
    parts = min(parts, q)
    if parts <= 1:
        return [q]
    if parts == 2:
        cut = 1 + int(rng.random() * (q - 1))
        return [cut, q - cut]
    cuts = {1 + int(rng.random() * (q - 1)) for _ in range(parts - 1)}
    bounds = [0, *sorted(cuts), q]
    return [b - a for a, b in pairwise(bounds)]


def one_of(options: tuple[int, ...], rng: random.Random) -> int:
    """`rng.choice` for small tuples, without its overhead (it is called for every lot)."""
    return options[int(rng.random() * len(options))]


# --- goods ----------------------------------------------------------------------------------


def branded(eco: Economy, item: Item, seller_country: str) -> Event:
    """Goods as declared, with brand, maker and model where the item has known makers."""
    makers = brands_for(item.hs)
    if not makers:
        return eco.goods(item, seller_country)
    b = eco.rng.choice(makers)
    origin = b.country if eco.rng.random() < 0.4 else seller_country
    extra = {
        "brand": b.brand,
        "manufacturer": b.brand,
        "manufacturer_country": b.country,
        "model": f"{b.model_prefix}{eco.rng.randint(100, 9999)}",
    }
    return eco.goods(item, origin, extra=extra)


def enter(
    eco: Economy,
    t: int,
    holder: Company,
    partner: str,
    item: Item,
    q: int,
    price: float,
    seller: Company | None = None,
    goods: Event | None = None,
) -> tuple[Event, Lot]:
    """An import (from outside the union) or an arrival (from a partner) of a new batch."""
    seller = seller or eco.world.partner(partner)
    post = routes.entry_post(partner, item, eco.rng)
    goods = goods or branded(eco, item, partner)
    if partner in EAEU_PARTNERS:
        return eco.arrival(t, holder, item, q, price, seller, post, goods)
    return eco.import_(t, holder, item, q, price, seller, post, goods)


# --- holding and selling on -----------------------------------------------------------------


def sell(
    eco: Economy, lot: Lot, t: int, to: Company, q: int, stage: str
) -> Generator[tuple[int, Event], None, int]:
    """Invoice `q` to `to` (now and then annulled and re-issued); the buyer's life follows.
    Returns the time of the invoice that stands."""
    ev, new = eco.transfer(t, lot, to, q)
    yield t, ev
    if eco.rng.random() < CANCEL_RATE:
        t = t + HOUR + int(eco.rng.random() * 19 * HOUR)
        yield t, eco.cancel(t, ev["id"], "invoice annulled: price corrected")
        lot.q += q
        t = t + HOUR + int(eco.rng.random() * 3 * HOUR)
        ev, new = eco.transfer(t, lot, to, q, markup=1.12)
        yield t, ev
    eco.start(hold(eco, new, t, stage))
    return t


def hold(eco: Economy, lot: Lot, t: int, stage: str) -> Process:
    """A holder's share of a batch: sold on (wholesale), sold off (retail), made into other
    goods (assembly) or used up (use)."""
    return _STAGES[stage](eco, lot, t)


def _wholesale(eco: Economy, lot: Lot, t: int) -> Process:
    rng = eco.rng
    for q in split(lot.q, one_of((1, 2, 2, 3), rng), rng):
        t = office(later(t, rng, 0.5, 12), rng)
        r = rng.random()
        if r < 0.15:
            yield t, eco.write_off(t, lot, q, "consumption")
            continue
        stage = "wholesale" if r < 0.25 else "retail"
        to = eco.world.pick("wholesaler" if stage == "wholesale" else "retailer")
        if to.tax_id == lot.holder:
            yield t, eco.write_off(t, lot, q, "retail")
            continue
        t = yield from sell(eco, lot, t, to, q, stage)


def _retail(eco: Economy, lot: Lot, t: int) -> Process:
    rng = eco.rng
    if rng.random() < 0.02 and lot.q > 10:
        t = office(later(t, rng, 3, 40), rng)
        yield t, eco.adjust(t, lot, -max(1, lot.q // 50), "stocktake shortage")
    for q in split(lot.q, one_of((1, 1, 2, 3), rng), rng):
        t = office(later(t, rng, 1, 35), rng)
        yield t, eco.write_off(t, lot, q, "retail" if rng.random() > 0.01 else "loss")


def _use(eco: Economy, lot: Lot, t: int) -> Process:
    rng = eco.rng
    for q in split(lot.q, one_of((1, 1, 2), rng), rng):
        t = office(later(t, rng, 2, 60), rng)
        yield t, eco.write_off(t, lot, q, "consumption")


def _assemble(eco: Economy, lot: Lot, t: int) -> Process:
    """A Kazakh manufacturer builds its own products from imported components."""
    rng, product = eco.rng, catalog()[ASSEMBLY.get(lot.item.hs, "853710")]
    t = office(later(t, rng, 2, 20), rng)
    made_q = max(1, round(lot.value() * 1.6 / ((product.price_lo + product.price_hi) / 2)))
    price = lot.value() * 1.6 / made_q
    ev, (made,) = eco.transform(t, lot.holder, [(lot, lot.q)], [(product, made_q, price)])
    yield t, ev
    for q in split(made.q, one_of((1, 2, 3), rng), rng):
        t = office(later(t, rng, 1, 20), rng)
        to = eco.world.pick("retailer")
        if to.tax_id != made.holder:
            t = yield from sell(eco, made, t, to, q, "use")


_STAGES = {"wholesale": _wholesale, "retail": _retail, "assembly": _assemble, "use": _use}


# --- whole consignments ---------------------------------------------------------------------


def domestic(eco: Economy, t0: int, partner: str, item: Item, q: int, price: float) -> Process:
    """Goods imported (or arrived) for the home market: sold on and used up in Kazakhstan."""
    rng = eco.rng
    r = rng.random()
    assembly = item.hs in ASSEMBLY and r < 0.3
    role = "manufacturer" if assembly else ("importer" if r < 0.8 else "retailer")
    holder = eco.world.pick(role)
    ev, lot = enter(eco, t0, holder, partner, item, q, price)
    yield t0, ev
    stage = "assembly" if assembly else "wholesale" if role == "importer" and r < 0.65 else "use"
    yield from hold(eco, lot, t0, stage)


def reexport(
    eco: Economy,
    t0: int,
    partner: str,
    item: Item,
    q: int,
    price: float,
    buyer_country: str,
    markup: float,
) -> Process:
    """Ordinary goods bought abroad and sold on to a partner state, with its receipt."""
    rng = eco.rng
    holder = eco.world.pick("trader" if rng.random() < 0.6 else "importer")
    ev, lot = enter(eco, t0, holder, partner, item, q, price)
    yield t0, ev
    t = t0
    if rng.random() < 0.3:
        t = office(later(t, rng, 1, 10), rng)
        to = eco.world.pick("trader")
        if to.tax_id != holder.tax_id:
            tr, lot = eco.transfer(t, lot, to, lot.q)
            yield t, tr
    t = office(later(t, rng, 2, 25), rng)
    yield from ship(eco, lot, t, buyer_country, price * markup)


def ship(
    eco: Economy,
    lot: Lot,
    t: int,
    country: str,
    price: float,
    buyer: Company | None = None,
    receipt: bool = True,
) -> Process:
    """Dispatch (or export) the whole lot to a buyer in `country`; the receipt follows."""
    kind = "dispatch" if country in EAEU_PARTNERS else "export"
    buyer = buyer or eco.world.partner(country, "buyer")
    post = routes.exit_post(country, lot.item, eco.rng)
    q = lot.q
    ev = eco.leave(kind, t, lot, q, buyer, post, price)
    yield t, ev
    if receipt:
        t = later(t, eco.rng, 2, 20 if kind == "dispatch" else 35)
        yield t, eco.receipt(t, ev["id"], country, lot, q, lot.units(q) * price)


def production(
    eco: Economy, t0: int, producer: Company, item: Item, q: int, price: float, country: str
) -> Process:
    """A producer's campaign: inputs bought in, made into products, shipped in lots."""
    rng = eco.rng
    in_hs, share, source = INPUTS.get(item.group, ("843149", 0.02, "CN"))
    inp = catalog()[in_hs]
    in_price = inp.price_lo * (inp.price_hi / inp.price_lo) ** rng.random()
    in_units = q / scale_of(item.unit) * price * share / in_price
    in_q = max(1, round(in_units * scale_of(inp.unit)))
    ev, stock = enter(eco, t0, producer, source, inp, in_q, in_price)
    yield t0, ev
    t = t0
    in_parts = split(stock.q, rng.choice((1, 2, 3)), rng)
    for out_q, in_part in zip(split(q, len(in_parts), rng), in_parts, strict=False):
        t = office(later(t, rng, 1, 8), rng)
        made_ev, (made,) = eco.transform(
            t, producer.tax_id, [(stock, in_part)], [(item, out_q, price)]
        )
        yield t, made_ev
        eco.start(ship(eco, made, office(later(t, rng, 0.5, 6), rng), country, price))

"""Bait: legitimate trade that looks like a scheme at first sight and must not be flagged.

Each bait process is ordinary trade with a truth record (bait.jsonl) so that false alerts
can be counted: a Russian firm whose name resembles a listed one, high-priority goods used
up in Kazakhstan, ordinary goods to Russia, transits that are late but within their
deadline, goods sold on quickly (but not in a circle), a stocktake surplus sold at home,
and (before the sanctions) high-priority goods sold to Russia when that was lawful.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from keruen.sim import flows, routes
from keruen.sim.economy import Economy, Process
from keruen.sim.flows import later, office
from keruen.sim.schemes import chpl_item, new_company, source_import
from keruen.sim.tables import catalog
from keruen.sim.transits import transit
from keruen.sim.truth import Record
from keruen.sim.world import Company

ORDINARY = ("870323", "401110", "851713", "847130", "300490", "620342", "841810")


def to_buyer(eco: Economy, t0: int, rec: Record, buyer: Company, chpl: bool = False) -> Process:
    """Goods imported and dispatched to `buyer` in a partner state, with its receipt."""
    rng = eco.rng
    item = chpl_item(rng) if chpl else catalog()[rng.choice(ORDINARY)]
    holder = eco.world.pick("trader")
    ev, lot = source_import(eco, t0, holder, item, rec)
    yield t0, ev
    rec.party(holder.tax_id, buyer.tax_id)
    t = office(later(t0, rng, 3, 25), rng)
    for step in flows.ship(eco, lot, t, buyer.country, lot.price * rng.uniform(1.08, 1.25), buyer):
        yield rec.take(*step)


def chpl_domestic(eco: Economy, t0: int, rec: Record) -> Process:
    """High-priority goods imported, sold to a Kazakh user and used up there."""
    rng = eco.rng
    importer, user = eco.world.pick("importer"), eco.world.pick("manufacturer")
    ev, lot = source_import(eco, t0, importer, chpl_item(rng), rec)
    yield t0, ev
    rec.party(importer.tax_id, user.tax_id)
    t = office(later(t0, rng, 2, 15), rng)
    tr, lot = eco.transfer(t, lot, user, lot.q)
    yield rec.take(t, tr)
    for q in flows.split(lot.q, rng.choice((1, 2, 3)), rng):
        t = office(later(t, rng, 5, 60), rng)
        yield rec.take(t, eco.write_off(t, lot, q, "consumption"))


def new_company_trade(eco: Economy, t0: int, rec: Record) -> Process:
    """A newly registered company importing at a normal scale and selling at home."""
    rng = eco.rng
    firm = new_company(eco, t0, "importer", (1, 6))
    ev, lot = source_import(eco, t0, firm, catalog()[rng.choice(ORDINARY)], rec, factor=0.3)
    yield t0, ev
    rec.party(firm.tax_id)
    t = office(later(t0, rng, 2, 20), rng)
    to = eco.world.pick("retailer")
    tr, lot = eco.transfer(t, lot, to, lot.q)
    yield rec.take(t, tr)
    t = office(later(t, rng, 5, 40), rng)
    yield rec.take(t, eco.write_off(t, lot, lot.q, "retail"))


def quick_resale(eco: Economy, t0: int, rec: Record) -> Process:
    """Goods sold on the same day down a straight line of established wholesalers."""
    rng = eco.rng
    chain = [eco.world.pick("wholesaler") for _ in range(3)]
    ev, lot = source_import(
        eco, t0, eco.world.pick("importer"), catalog()[rng.choice(ORDINARY)], rec
    )
    yield t0, ev
    t, seen = t0, {lot.holder}
    for holder in chain:
        if holder.tax_id in seen:
            continue
        seen.add(holder.tax_id)
        t = office(t + rng.randrange(3600, 6 * 3600), rng)
        tr, lot = eco.transfer(t, lot, holder, lot.q)
        rec.party(holder.tax_id)
        yield rec.take(t, tr)
    t = office(later(t, rng, 3, 30), rng)
    yield rec.take(t, eco.write_off(t, lot, lot.q, "retail"))


def surplus_at_home(eco: Economy, t0: int, rec: Record) -> Process:
    """A small stocktake surplus, sold in the home market like the rest of the batch."""
    rng = eco.rng
    holder = eco.world.pick("wholesaler")
    ev, lot = source_import(eco, t0, holder, catalog()[rng.choice(ORDINARY)], rec)
    yield t0, ev
    t = office(later(t0, rng, 5, 30), rng)
    yield rec.take(t, eco.adjust(t, lot, max(1, lot.q // 100), "stocktake surplus"))
    rec.party(holder.tax_id)
    t = office(later(t, rng, 2, 30), rng)
    yield rec.take(t, eco.write_off(t, lot, lot.q, "retail"))


def slow_transit(eco: Economy, t0: int, rec: Record, breakdown: bool) -> Process:
    """A transit held up by queues (or a breakdown) that still closes before its deadline."""
    corridor = routes.pick_corridor(eco.rng.random())
    rec.variant = "breakdown" if breakdown else "delay"
    yield from transit(eco, t0, corridor, eco.rng.uniform(0.5, 0.9), breakdown, rec)


SANCTIONS = date(2022, 2, 24)


def _lookalike(eco: Economy, t: int, rec: Record, index: int = 0) -> Process:
    from keruen.sim.listed import buyers
    from keruen.sim.names import lookalike, short_core

    pool = [e for e in buyers() if short_core(e.name)]
    e = pool[index % len(pool)]
    buyer = eco.world.new_foreign("RU", "buyer", date(2012, 4, 1), lookalike(e.name, eco.rng))
    eco.world.extra.append(buyer)
    rec.note = f"resembles listed entity ent_num {e.ent_num}: {e.name}"
    return to_buyer(eco, t, rec, buyer)


BAITS: dict[str, Callable[..., Process]] = {
    "lookalike_name": _lookalike,
    "chpl_domestic": chpl_domestic,
    "ordinary_to_ru": lambda eco, t, rec: to_buyer(eco, t, rec, eco.world.partner("RU", "buyer")),
    "slow_transit": lambda eco, t, rec, breakdown=False: slow_transit(eco, t, rec, breakdown),
    "new_company": new_company_trade,
    "quick_resale": quick_resale,
    "surplus_at_home": surplus_at_home,
    "chpl_before_sanctions": lambda eco, t, rec: to_buyer(
        eco, t, rec, eco.world.partner("RU", "buyer"), chpl=True
    ),
}
"""Bait kinds (legitimate trade that must not be flagged): the kinds of bait.jsonl."""

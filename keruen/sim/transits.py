"""Transit across Kazakhstan: declaration at the entry post, seal pings along the corridor,
checkpoint, exit, and the destination's receipt — and the ways a transit goes astray.

A legitimate movement follows the great circle between its entry and exit posts (with a
few km of noise), is weighed at entry and at exit within weighing tolerance, and closes
before its deadline even when it is delayed. A diverted one bends toward a post on the
Russian border, stops inside the country, or loses part of its load on the way.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from math import atan2, cos, hypot

from keruen.sim import geo, home, ids, routes
from keruen.sim.clock import DAY, HOUR, TOD_BYTES, day_bytes, stamp, year_month, zone_of
from keruen.sim.economy import Economy, Event, Line, Process, money
from keruen.sim.tables import Item, mix
from keruen.sim.truth import Record
from keruen.sim.world import Company, posts_toward

_DEG = 180.0 / math.pi
_SCRAMBLE, _MASK = 0x9E3779B97F4A7C15, (1 << 64) - 1  # as keruen.sim.ids.event_id
SPEED_KM_DAY = {"rail": 650.0, "road": 420.0, "sea": 420.0}
# A seal ping, formatted as bytes in one step: id, date, time of day, zone (5 or 6), seal,
# lat, lon (5 decimals, about a metre), state. The same fields as any event, in JSON.
_PING = (
    b'{"type":"seal_ping","id":"%016x","time":"%s%s+0%d:00","seal":"%s",'
    b'"lat":%.5f,"lon":%.5f,"state":"%s"}'
)


@dataclass(slots=True)
class Movement:
    """A declared transit: what the customs office knows at the entry post."""

    mrn: str
    entry: str
    exit: str
    destination: str
    carrier: Company
    consignee: Company
    seals: list[str]
    mass: float
    value: float
    deadline: int = 0
    lines: list[tuple[Item, float]] = field(default_factory=list)
    open: Event = field(default_factory=dict)


def pos(post: str) -> geo.LatLon:
    p = home.posts()[post]
    return p.lat, p.lon


def mode(post: str) -> str:
    return home.posts()[post].mode


def goods_lines(eco: Economy, name: str, n: int, items: list[Item] | None = None) -> list[Event]:
    """Transit goods lines drawn from a corridor's mix: half a consignment each, whatever the
    preset's consolidation (a transit is one truck or train). Given items (a scheme's
    high-priority goods, light and dear) come by the truckload: five consignments each."""
    rng = eco.rng
    chosen = items or [mix(name).pick(rng.random()) for _ in range(n)]
    lines = []
    for item in chosen:
        q, price = eco.draw(item, (5.0 if items else 0.5) / eco.consolidation)
        units = q / (1 if item.unit == "PCE" else 1000)
        lines.append(
            {
                "hs": item.hs,
                "description": item.description,
                "quantity": str(q) if item.unit == "PCE" else f"{units:.3f}",
                "unit": item.unit,
                "mass_kg": f"{units * item.kg_per_unit:.3f}",
                "value": money(units * price),
                "_item": item,
            }
        )
    return lines


def declare(
    eco: Economy, t: int, entry: str, exit_: str, destination: str, lines: list[Event]
) -> Movement:
    """The transit declaration (transit_open) for goods entering at `entry`."""
    rng = eco.rng
    km = geo.distance_km(pos(entry), pos(exit_))
    deadline = t + (math.ceil(km / 200) + 3) * DAY
    carrier_country = rng.choice(("KZ", "CN", "RU")) if mode(entry) == "road" else "KZ"
    carrier = (
        eco.world.pick("carrier")
        if carrier_country == "KZ"
        else eco.world.partner(carrier_country, "carrier")
    )
    consignee = eco.world.partner(destination, "consignee")
    year = year_month(t)[0]
    mrn = ids.mrn(year, eco.office(entry), eco.number("mrn"))
    seals = [ids.seal(eco.number("seal")) for _ in range(rng.choice((1, 1, 2)))]
    items = [(ln.pop("_item"), float(ln["mass_kg"])) for ln in lines]
    eco.posts.update((entry, exit_))
    mass = sum(m for _, m in items)
    value = sum(float(ln["value"]["amount"]) for ln in lines)
    ev: Event = {
        "type": "transit_open",
        "id": eco.eid(),
        "time": stamp(t, zone_of(pos(entry)[1])),
        "mrn": mrn,
        "entry_post": entry,
        "exit_post": exit_,
        "destination": destination,
        "deadline": stamp(deadline, zone_of(pos(exit_)[1])),
        "carrier": carrier.party(),
        "consignee": consignee.party(),
        "seals": seals,
        "goods": lines,
    }
    if rng.random() < 0.7:
        ev["guarantee"] = {
            "reference": f"GRN-{mrn}",
            "amount": f"{value * 0.15:.2f}",
            "currency": "USD",
        }
    return Movement(
        mrn, entry, exit_, destination, carrier, consignee, seals, mass, value, deadline, items, ev
    )


def weighed(mass: float, rng: random.Random) -> str:
    """A weighbridge reading: the true mass within a fraction of a percent."""
    return f"{mass * rng.uniform(0.998, 1.002):.3f}"


def passage(
    eco: Economy, kind: str, t: int, m: Movement, post: str, mass: float, intact: bool = True
) -> Event:
    eco.posts.add(post)
    ev: Event = {
        "type": kind,
        "id": eco.eid(),
        "time": stamp(t, zone_of(pos(post)[1])),
        "mrn": m.mrn,
        "post": post,
        "mass_kg": weighed(mass, eco.rng),
    }
    if kind == "transit_close":
        ev["seals_intact"] = intact
    return ev


def ping(
    eco: Economy,
    t: int,
    seal: str,
    where: geo.LatLon,
    state: str = "intact",
    code: str | None = None,
) -> Line:
    """One seal ping at `where` (a couple of km of noise), as drive writes them."""
    lat, lon = geo.jitter(where, eco.rng)
    zone = 5 if lon < 60.0 else 6
    local = t + zone * HOUR
    day = local // DAY
    line = _PING % (
        eco.id_number(),
        day_bytes(day),
        TOD_BYTES[local - day * DAY],
        zone,
        seal.encode(),
        lat,
        lon,
        state.encode(),
    )
    return Line(line[:-1] + b',"code":"%s"}' % code.encode() if code else line)


def drive(
    eco: Economy,
    m: Movement,
    t0: int,
    t1: int,
    legs: list[geo.Leg],
    km0: float,
    km1: float,
    state: str = "intact",
) -> Process:
    """Seal pings every few hours between `t0` and `t1`, moving from `km0` to `km1`, each a
    couple of km off the line. The most frequent event of all, so written out: positions by
    normalised interpolation on the leg (see geo.Leg.at), ids as Economy.eid makes them,
    the line formatted as bytes in one step (no dict, no encoder; see _PING)."""
    r, (lo, hi), first = eco.rng.random, eco.ping_hours, m.seals[0]
    stride, shard, salt = eco.shards, eco.shard, eco.salt
    seals = [(s.encode(), (state if s == first else "intact").encode()) for s in m.seals]
    step = int((lo + (hi - lo) * r()) * HOUR)
    rate = (km1 - km0) / max(1, t1 - t0)
    leg = legs[0] if len(legs) == 1 else None
    t, day, prefix = t0 + step, -1, b""
    while t < t1:
        km = km0 + rate * (t - t0)
        if leg is None:
            lat, lon = geo.at_km(legs, km)
        else:
            (x1, y1, z1), (x2, y2, z2), f = leg.va, leg.vb, km / leg.end_km
            x, y, z = x1 + f * (x2 - x1), y1 + f * (y2 - y1), z1 + f * (z2 - z1)
            lat, lon = _DEG * atan2(z, hypot(x, y)), _DEG * atan2(y, x)
        dlon = 0.018 / max(0.2, cos(lat / _DEG))
        for seal, seal_state in seals:
            eco.n += 1
            x = lon + (2 * r() - 1) * dlon
            zone = 5 if x < 60.0 else 6
            local = t + zone * HOUR
            if local // DAY != day:
                day = local // DAY
                prefix = day_bytes(day)
            eid = ((eco.n * stride + shard) ^ salt) * _SCRAMBLE & _MASK
            lat_noisy = lat + (2 * r() - 1) * 0.018
            yield (
                t,
                Line(
                    _PING
                    % (
                        eid,
                        prefix,
                        TOD_BYTES[local - day * DAY],
                        zone,
                        seal,
                        lat_noisy,
                        x,
                        seal_state,
                    )
                ),
            )
        t += step


def speed_of(eco: Economy, post: str) -> float:
    return SPEED_KM_DAY.get(mode(post), 420.0) * eco.rng.uniform(0.8, 1.2)


def open_at(
    eco: Economy, t: int, corridor: routes.Corridor, items: list[Item] | None = None
) -> Movement:
    rng = eco.rng
    entry, exit_ = routes.pick_mode_posts(corridor, rng)
    lines = goods_lines(eco, corridor.mix, rng.choice((1, 1, 2, 3)), items)
    return declare(eco, t, entry, exit_, rng.choice(corridor.destinations), lines)


@dataclass(frozen=True, slots=True)
class Plan:
    """How a declared movement actually goes (by default: as declared)."""

    exit_at: str | None = None  # leaves by this post instead of the declared exit
    turn: float = 0.4  # where on the declared line it turns off, stops or is opened
    stop: bool = False  # never reaches an exit
    unload: float = 0.0  # share of the mass taken out on the way (seal opened)
    delay: float = 0.0  # share of the time to spare before the deadline spent waiting
    breakdown: bool = False  # a breakdown half way (an incident; seals intact)

    @property
    def diverts(self) -> bool:
        return bool(self.exit_at or self.stop or self.unload)


def journey(
    eco: Economy, t0: int, m: Movement, plan: Plan = Plan(), rec: Record | None = None
) -> Process:
    """A declared movement from its declaration to its end (exit and receipt, or not)."""
    rng = eco.rng
    t = t0 + rng.randrange(HOUR, 4 * HOUR)
    steps = (_as_declared if not plan.diverts else _astray)(
        eco, m, t + rng.randrange(HOUR, 8 * HOUR), speed_of(eco, m.entry), plan
    )
    if rec is None:  # the common case: no bookkeeping per seal ping
        yield t0, m.open
        yield t, passage(eco, "checkpoint", t, m, m.entry, m.mass)
        yield from steps
        return
    yield rec.take(t0, m.open)
    yield rec.take(t, passage(eco, "checkpoint", t, m, m.entry, m.mass))
    for step in steps:
        yield rec.take(*step)
    if plan.diverts:
        _divert_all(m, rec, plan.unload or 1.0)
        rec.party(m.carrier.tax_id, m.consignee.tax_id)
        rec.note = _what_happened(m, plan)


def transit(
    eco: Economy,
    t0: int,
    corridor: routes.Corridor,
    delay: float = 0.0,
    breakdown: bool = False,
    rec: Record | None = None,
) -> Process:
    """A legitimate transit, closed at its declared exit before its deadline; `delay` uses
    that fraction of the time to spare (queues, paperwork), `breakdown` adds an incident."""
    return journey(eco, t0, open_at(eco, t0, corridor), Plan(delay=delay, breakdown=breakdown), rec)


def _as_declared(eco: Economy, m: Movement, t_start: int, speed: float, plan: Plan) -> Process:
    rng = eco.rng
    legs = geo.path([pos(m.entry), pos(m.exit)])
    total = legs[-1].end_km
    t_end = t_start + int(total / speed * DAY) + rng.randrange(HOUR, 10 * HOUR)
    spare = max(0, m.deadline - t_end - DAY)
    pause = int(spare * rng.uniform(0.3, 0.6)) if plan.breakdown else 0
    t_end += int((spare - pause) * plan.delay)
    if plan.breakdown:
        yield from _with_breakdown(eco, m, t_start, t_end, pause, legs, total)
        t_end += pause
    else:
        yield from drive(eco, m, t_start, t_end, legs, 0.0, total)
    yield t_end, passage(eco, "transit_close", t_end, m, m.exit, m.mass)
    t = later_receipt(eco, t_end, m)
    yield t, eco.receipt(t, m.mrn, m.destination, None, 0, m.value, mass=m.mass)


def _with_breakdown(
    eco: Economy, m: Movement, t0: int, t1: int, pause: int, legs: list[geo.Leg], total: float
) -> Process:
    """A truck breaks down half way: an incident, a pause, the seals stay intact."""
    mid_t = (t0 + t1) // 2
    yield from drive(eco, m, t0, mid_t, legs, 0.0, total / 2)
    lat, lon = geo.jitter(geo.at_km(legs, total / 2), eco.rng, 0.5)
    yield (
        mid_t,
        {
            "type": "incident",
            "id": eco.eid(),
            "time": stamp(mid_t, zone_of(lon)),
            "mrn": m.mrn,
            "kind": "breakdown",
            "lat": lat,
            "lon": lon,
            "note": "Vehicle breakdown; repaired on site, seals not touched",
        },
    )
    yield from drive(eco, m, mid_t + pause, t1 + pause, legs, total / 2, total)


def later_receipt(eco: Economy, t: int, m: Movement) -> int:
    """When the destination confirms arrival: Central Asia within days, Europe in weeks."""
    far = m.destination not in ("UZ", "KG", "TM", "TJ", "AF", "IR")
    return t + int(eco.rng.uniform(8, 20) if far else eco.rng.uniform(1, 5)) * DAY


def russian_post_near(where: geo.LatLon) -> str:
    """The usable post on the Russian border nearest to a point."""
    return min(posts_toward("RU"), key=lambda p: geo.distance_km(where, pos(p)))


def diverted(
    eco: Economy,
    t0: int,
    corridor: routes.Corridor,
    variant: str,
    rec: Record,
    items: list[Item] | None = None,
) -> Process:
    """A transit that does not go where it was declared to: `exit_russia` (bends toward
    and leaves by a post on the Russian border), `no_exit` (stops inside the country and
    never closes) or `partial_unload` (seal opened on the way, exits lighter)."""
    rng = eco.rng
    m = open_at(eco, t0, corridor, items)
    f = rng.uniform(0.25, 0.6)
    plan = {
        "exit_russia": lambda: Plan(russian_post_near(geo.along(pos(m.entry), pos(m.exit), f)), f),
        "no_exit": lambda: Plan(turn=f, stop=True),
        "partial_unload": lambda: Plan(turn=f, unload=rng.uniform(0.2, 0.6)),
    }[variant]()
    return journey(eco, t0, m, plan, rec)


def _divert_all(m: Movement, rec: Record, share: float = 1.0) -> None:
    for item, mass in m.lines:
        value = m.value * mass / m.mass if m.mass else 0.0
        rec.divert(mass * share, "KGM", value * share, item.hs)


def _what_happened(m: Movement, plan: Plan) -> str:
    if plan.exit_at:
        return f"declared exit {m.exit} to {m.destination}; left by {plan.exit_at}"
    if plan.stop:
        return f"declared exit {m.exit} to {m.destination}; never closed"
    return f"seal opened on the way; {plan.unload:.0%} of the mass missing at {m.exit}"


def _astray(eco: Economy, m: Movement, t: int, speed: float, plan: Plan) -> Process:
    if plan.exit_at:
        return _to_post(eco, m, t, speed, plan)
    if plan.stop:
        return _vanish(eco, m, t, speed, plan)
    return _unload(eco, m, t, speed, plan)


def _to_post(eco: Economy, m: Movement, t: int, speed: float, plan: Plan) -> Process:
    assert plan.exit_at
    turn = geo.along(pos(m.entry), pos(m.exit), plan.turn)
    legs = geo.path([pos(m.entry), turn, pos(plan.exit_at)])
    t_end = t + int(legs[-1].end_km / speed * DAY) + eco.rng.randrange(HOUR, 6 * HOUR)
    yield from drive(eco, m, t, t_end, legs, 0.0, legs[-1].end_km)
    yield t_end, passage(eco, "transit_close", t_end, m, plan.exit_at, m.mass)


def _vanish(eco: Economy, m: Movement, t: int, speed: float, plan: Plan) -> Process:
    legs = geo.path([pos(m.entry), pos(m.exit)])
    stop_km = legs[-1].end_km * plan.turn
    t_stop = t + int(stop_km / speed * DAY)
    yield from drive(eco, m, t, t_stop, legs, 0.0, stop_km)
    if eco.rng.random() < 0.6:
        yield t_stop, ping(eco, t_stop, m.seals[0], geo.at_km(legs, stop_km), "opened", "01")


def _unload(eco: Economy, m: Movement, t: int, speed: float, plan: Plan) -> Process:
    rng, f, share = eco.rng, plan.turn, plan.unload
    legs = geo.path([pos(m.entry), pos(m.exit)])
    total = legs[-1].end_km
    t_stop = t + int(total * f / speed * DAY)
    yield from drive(eco, m, t, t_stop, legs, 0.0, total * f)
    where = geo.jitter(geo.at_km(legs, total * f), rng, 15.0)
    yield t_stop, ping(eco, t_stop, m.seals[0], where, "opened", "01")
    t_go = t_stop + rng.randrange(3 * HOUR, 10 * HOUR)
    t_end = t_go + int(total * (1 - f) / speed * DAY)
    yield from drive(eco, m, t_go, t_end, legs, total * f, total, "opened")
    yield t_end, passage(eco, "transit_close", t_end, m, m.exit, m.mass * (1 - share), False)
    t = later_receipt(eco, t_end, m)
    yield (
        t,
        eco.receipt(
            t, m.mrn, m.destination, None, 0, m.value * (1 - share), mass=m.mass * (1 - share)
        ),
    )

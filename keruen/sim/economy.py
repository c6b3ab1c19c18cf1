"""Event builders: every event the simulator writes is made here, in the contract's shape.

A `Lot` is what one holder has of one batch; builders move quantities between lots so a
process can never give more than it holds. Quantities are integers: pieces for PCE and
thousandths of the unit for everything else, so splits conserve exactly. Values are USD on
declarations and KZT on domestic invoices. Trade values are tallied as they are written,
for the figures printed beside the public ones.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec

from keruen.sim import home
from keruen.sim.clock import EAST, ddmmyy, stamp, year_month, zone_of
from keruen.sim.tables import Item
from keruen.sim.truth import Record
from keruen.sim.world import Company, World

Event = dict[str, Any]
Line = msgspec.Raw  # an event already encoded as JSON (seal pings, the most frequent)
Process = Iterator[tuple[int, Event | Line]]  # a process's steps: (time, event), in time order
KZT_PER_USD = {2021: 426.0, 2022: 460.5, 2023: 456.0}
_OFFICE_PREFIX = {"CN": "556", "RU": "506", "KG": "536", "UZ": "586", "TM": "476", "": "501"}


_SCRAMBLE, _MASK = 0x9E3779B97F4A7C15, (1 << 64) - 1  # as keruen.sim.ids.event_id


def _unscheduled(process: Process) -> None:
    raise RuntimeError("this Economy is not attached to an Engine")


def scale_of(unit: str) -> int:
    """Integer quantities count pieces, or thousandths of any other unit."""
    return 1 if unit in ("PCE", "SET", "NAR", "H87") else 1000


def qty_text(q: int, scale: int) -> str:
    return str(q) if scale == 1 else f"{q / scale:.3f}"


def money(amount: float, currency: str = "USD") -> dict[str, str]:
    return {"amount": f"{amount:.2f}", "currency": currency}


@dataclass(slots=True)
class Lot:
    """What one holder has of one batch, with the goods' declared and true nature."""

    batch: str
    holder: str
    q: int
    item: Item
    price: float
    hs: str
    origin: str
    created: int
    scale: int = 0

    def __post_init__(self) -> None:
        self.scale = self.scale or scale_of(self.item.unit)

    def units(self, q: int | None = None) -> float:
        return (self.q if q is None else q) / self.scale

    def value(self, q: int | None = None) -> float:
        return self.units(q) * self.price

    def mass(self, q: int | None = None) -> float:
        return self.units(q) * self.item.kg_per_unit


class Economy:
    """Builds events, numbers documents and tallies trade; shared by every process."""

    def __init__(
        self,
        world: World,
        rng: random.Random,
        consolidation: float,
        salt: int,
        scheme_lot: float = 1.0,
        shard: int = 0,
        shards: int = 1,
    ) -> None:
        self.world = world
        self.rng = rng
        self.consolidation = consolidation
        self.scheme_lot = scheme_lot
        self.ping_hours = (4.0, 8.0)
        self.shard, self.shards = shard, shards
        self.salt = salt
        self.n = 0
        self.numbers: Counter[str] = Counter()
        self.tally: dict[tuple[int, int, str, str], float] = defaultdict(float)
        self.posts: set[str] = set()
        self.schemes: list[Record] = []
        self.bait: list[Record] = []
        self.start: Callable[[Process], None] = _unscheduled

    # --- numbering ------------------------------------------------------------------------

    def eid(self) -> str:
        """A fresh event id (16 hex digits)."""
        return f"{self.id_number():016x}"

    def id_number(self) -> int:
        """A fresh event id as a number; shards number in disjoint residue classes."""
        self.n += 1
        return ((self.n * self.shards + self.shard) ^ self.salt) * _SCRAMBLE & _MASK

    def skip_id(self) -> str:
        """An id that no event will carry (for a document the ledger never sees)."""
        return self.eid()

    def record(self, kind: str, variant: str = "", bait: bool = False) -> Record:
        """A new ground-truth record (a planted scheme, or labelled bait)."""
        records = self.bait if bait else self.schemes
        n = len(records) * self.shards + self.shard + 1
        rec = Record(f"{'B' if bait else 'S'}{n:05d}", kind, variant)
        records.append(rec)
        return rec

    def number(self, kind: str) -> int:
        """The next document number of a kind (disjoint between shards)."""
        self.numbers[kind] += 1
        return self.numbers[kind] * self.shards + self.shard

    def office(self, post: str) -> str:
        """The customs office (5 digits) that declares goods crossing at `post`."""
        return _office(post)

    def declaration(self, t: int, post: str) -> str:
        n = self.number("decl") % 10_000_000
        return f"{self.office(post)}/{ddmmyy(t, self.zone(post))}/{n:07d}"

    # --- goods ----------------------------------------------------------------------------

    def draw(self, item: Item, factor: float = 1.0) -> tuple[int, float]:
        """A consignment: integer quantity and a unit price drawn from the item's ranges."""
        units = self.rng.uniform(item.lot_lo, item.lot_hi) * self.consolidation * factor
        q = max(1, round(units * scale_of(item.unit)))
        price = item.price_lo * (item.price_hi / item.price_lo) ** self.rng.random()
        return q, round(price, 4)

    def goods(
        self,
        item: Item,
        origin: str,
        hs: str | None = None,
        description: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> Event:
        g: Event = {
            "hs": hs or item.hs,
            "description": description or item.description,
            "unit": item.unit,
            "origin": origin,
        }
        if extra:
            g.update(extra)
        return g

    # --- stock events ---------------------------------------------------------------------

    def _entry(
        self,
        kind: str,
        t: int,
        holder: Company,
        item: Item,
        q: int,
        price: float,
        seller: Company,
        post: str,
        batch: str,
        doc: dict[str, str],
        goods: Event,
    ) -> tuple[Event, Lot]:
        lot = Lot(batch, holder.tax_id, q, item, price, goods["hs"], goods["origin"], t)
        self.posts.add(post)
        ev: Event = {
            "type": kind,
            "id": self.eid(),
            "time": stamp(t, self.zone(post)),
            "batch": batch,
            "holder": holder.tax_id,
            "goods": goods,
            "quantity": qty_text(q, lot.scale),
            "value": money(lot.value()),
            "seller": seller.party(),
            "post": post,
            "document": doc,
            "mass_kg": f"{lot.mass():.3f}",
        }
        self.tally[(*year_month(t), kind, seller.country)] += lot.value()
        return ev, lot

    def import_(
        self,
        t: int,
        holder: Company,
        item: Item,
        q: int,
        price: float,
        seller: Company,
        post: str,
        goods: Event,
        decl: str | None = None,
        line: int = 1,
    ) -> tuple[Event, Lot]:
        decl = decl or self.declaration(t, post)
        return self._entry(
            "import",
            t,
            holder,
            item,
            q,
            price,
            seller,
            post,
            f"{decl}/{line:03d}",
            {"kind": "DT", "number": decl},
            goods,
        )

    def arrival(
        self,
        t: int,
        holder: Company,
        item: Item,
        q: int,
        price: float,
        seller: Company,
        post: str,
        goods: Event,
    ) -> tuple[Event, Lot]:
        d = ddmmyy(t)
        batch = f"ZVT-{d[4:6]}{d[2:4]}-{self.number('zvt'):08d}"
        return self._entry(
            "arrival",
            t,
            holder,
            item,
            q,
            price,
            seller,
            post,
            batch,
            {"kind": "ZVT", "number": batch},
            goods,
        )

    def transfer(
        self, t: int, lot: Lot, to: Company, q: int, markup: float = 1.15
    ) -> tuple[Event, Lot]:
        """`q` of `lot` changes holder; returns the event and the receiver's new lot."""
        lot.q -= q
        year = year_month(t)[0]
        kzt = lot.value(q) * markup * KZT_PER_USD.get(year, 460.0)
        new = Lot(
            lot.batch, to.tax_id, q, lot.item, lot.price * markup, lot.hs, lot.origin, lot.created
        )
        ev: Event = {
            "type": "transfer",
            "id": self.eid(),
            "time": stamp(t),
            "batch": lot.batch,
            "from": lot.holder,
            "to": to.tax_id,
            "quantity": qty_text(q, lot.scale),
            "value": money(kzt, "KZT"),
            "document": self._esf(lot.holder, year),
            "mass_kg": f"{lot.mass(q):.3f}",
        }
        return ev, new

    def _esf(self, seller: str, year: int) -> dict[str, str]:
        return {"kind": "ESF", "number": f"ESF-{seller}-{year % 100}-{self.number('esf'):09d}"}

    def transform(
        self,
        t: int,
        holder: str,
        inputs: list[tuple[Lot, int]],
        outputs: list[tuple[Item, int, float]],
    ) -> tuple[Event, list[Lot]]:
        """Inputs consumed, new batches made (a production lot numbered by its maker)."""
        made: list[Lot] = []
        for item, q, price in outputs:
            batch = f"LOT-{holder}-{self.number('lot'):07d}"
            made.append(Lot(batch, holder, q, item, price, item.hs, "KZ", t))
        for lot, q in inputs:
            lot.q -= q
        ev: Event = {
            "type": "transform",
            "id": self.eid(),
            "time": stamp(t),
            "holder": holder,
            "inputs": [
                {"batch": lot.batch, "quantity": qty_text(q, lot.scale)} for lot, q in inputs
            ],
            "outputs": [
                {
                    "batch": m.batch,
                    "quantity": qty_text(m.q, m.scale),
                    "goods": self.goods(m.item, "KZ"),
                }
                for m in made
            ],
        }
        return ev, made

    def leave(
        self, kind: str, t: int, lot: Lot, q: int, buyer: Company, post: str, price: float
    ) -> Event:
        """A dispatch (EAEU partner) or export (outside the union) of `q` of `lot`."""
        lot.q -= q
        value = lot.units(q) * price
        doc = (
            {"kind": "DT", "number": self.declaration(t, post)}
            if kind == "export"
            else {"kind": "SNT", "number": f"KZ-SNT-{self.number('snt'):010d}"}
        )
        self.tally[(*year_month(t), kind, buyer.country)] += value
        self.posts.add(post)
        return {
            "type": kind,
            "id": self.eid(),
            "time": stamp(t, self.zone(post)),
            "batch": lot.batch,
            "holder": lot.holder,
            "quantity": qty_text(q, lot.scale),
            "value": money(value),
            "buyer": buyer.party(),
            "post": post,
            "document": doc,
            "mass_kg": f"{lot.mass(q):.3f}",
        }

    def write_off(self, t: int, lot: Lot, q: int, reason: str) -> Event:
        lot.q -= q
        return {
            "type": "write_off",
            "id": self.eid(),
            "time": stamp(t),
            "batch": lot.batch,
            "holder": lot.holder,
            "quantity": qty_text(q, lot.scale),
            "reason": reason,
        }

    def adjust(self, t: int, lot: Lot, dq: int, reason: str) -> Event:
        lot.q += dq
        return {
            "type": "adjust",
            "id": self.eid(),
            "time": stamp(t),
            "batch": lot.batch,
            "holder": lot.holder,
            "quantity": qty_text(dq, lot.scale),
            "reason": reason,
        }

    def receipt(
        self,
        t: int,
        ref: str,
        country: str,
        lot: Lot | None,
        q: int,
        value: float,
        mass: float | None = None,
    ) -> Event:
        """The partner's confirmation of what arrived (quantity for goods, mass for transit)."""
        ev: Event = {
            "type": "receipt",
            "id": self.eid(),
            "time": stamp(t, 3 if country == "RU" else EAST),
            "ref": ref,
            "country": country,
            "document": {
                "kind": "ZVT" if lot else "CMR",
                "number": f"{country}-{self.number('rcpt'):010d}",
            },
        }
        if lot is not None:
            ev["quantity"] = qty_text(q, lot.scale)
        if mass is not None:
            ev["mass_kg"] = f"{mass:.3f}"
        ev["value"] = money(value)
        return ev

    def cancel(self, t: int, target: str, reason: str) -> Event:
        return {
            "type": "cancel",
            "id": self.eid(),
            "time": stamp(t),
            "target": target,
            "reason": reason,
        }

    # --- places ---------------------------------------------------------------------------

    def zone(self, post: str) -> int:
        return _zone(post)


@cache
def _office(post: str) -> str:
    p = home.posts()[post]
    return f"{_OFFICE_PREFIX.get(p.neighbour, '501')}{sum(map(ord, post)) % 90 + 10:02d}"


@cache
def _zone(post: str) -> int:
    return zone_of(home.posts()[post].lon)

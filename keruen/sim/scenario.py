"""Scenarios for tests: small, targeted event lists built with the simulator's own parts.

    s = Scenario(seed=1, start="2022-06-01")
    lot = s.import_("854231", 500, seller="HK")          # CHPL processors, imported
    with s.scheme("shell_chain"):                          # recorded as ground truth
        lot = s.chain(lot, s.shells(3), days=1)           # through 3 new shell companies
        d = s.dispatch(lot, s.buyer("RU"))                # to a Russian buyer
        s.receipt(d)
    s.transit("china-uzbekistan", exit_at="KZKR1-ROAD")  # declared to UZ, leaves to Russia
    s.plant("layering", hops=6)                            # a whole planted scheme
    lines = s.lines()                                      # JSON Lines, in time order

Every call advances the scenario's clock (by `days`, default 1) and writes events that
`keruen ingest` accepts. Whole processes (`plant`, `bait`, `trade`) run the same code as
`keruen simulate` and may run ahead of the clock; `lines()` orders everything by time.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Any

import msgspec
from sqlalchemy.engine import Engine as DbEngine

from keruen.ingest import Report, ingest_lines
from keruen.sim import bait as bait_mod
from keruen.sim import clock, flows, routes, schemes, transits
from keruen.sim.economy import Economy, Event, Line, Lot, scale_of
from keruen.sim.engine import Engine, Process
from keruen.sim.listed import buyers, kazakh, listed_buyer, listed_holder
from keruen.sim.names import short_core
from keruen.sim.tables import catalog
from keruen.sim.truth import Record
from keruen.sim.world import Company, World

_encoder = msgspec.json.Encoder()


class Scenario:
    """A hand-built slice of the economy (see the module docstring)."""

    def __init__(
        self, seed: int = 1, start: str | date = "2022-06-01", companies: int = 60
    ) -> None:
        day = start if isinstance(start, date) else date.fromisoformat(start)
        self.rng = random.Random(seed)
        self.world = World(self.rng, companies, 3, day)
        self.eco = Economy(self.world, self.rng, 1.0, seed * 7919, scheme_lot=0.05)
        self.engine = Engine()
        self.eco.start = self.engine.start
        self.t = clock.epoch(day) + 3 * clock.HOUR  # 09:00 in Astana
        self._steps: list[tuple[int, int, Event | Line]] = []
        self._record: Record | None = None

    # --- the clock and the output -------------------------------------------------------

    def after(self, days: float = 0.0, hours: float = 0.0) -> int:
        """Advance the clock; returns the new time (seconds since the epoch)."""
        self.t += int(days * clock.DAY + hours * clock.HOUR)
        return self.t

    def _emit(self, ev: Event, t: int | None = None) -> Event:
        t = self.t if t is None else t
        self._steps.append((t, len(self._steps), ev))
        if self._record is not None:
            self._record.take(t, ev)
        return ev

    @property
    def events(self) -> list[Event]:
        """Every event so far, in time order (as dicts)."""
        return [ev if isinstance(ev, dict) else msgspec.json.decode(ev) for ev in self._ordered()]

    def lines(self) -> list[bytes]:
        return [_encoder.encode(ev) for ev in self._ordered()]

    def _ordered(self) -> list[Event | Line]:
        return [ev for _, _, ev in sorted(self._steps, key=lambda s: (s[0], s[1]))]

    @property
    def truth(self) -> list[dict[str, Any]]:
        """Ground-truth records of the schemes built so far (truth.jsonl lines)."""
        return [r.public() for r in self.eco.schemes]

    def ingest(self, engine: DbEngine) -> Report:
        """Ingest the scenario into a ledger (via `keruen.ingest.ingest_lines`)."""
        return ingest_lines(engine, self.lines(), source="scenario")

    @contextmanager
    def scheme(self, kind: str, variant: str = "") -> Iterator[Record]:
        """Record the events made inside the block as one planted scheme; every dispatch or
        export inside counts as diverted."""
        rec = self.eco.record(kind, variant)
        self._record = rec
        try:
            yield rec
        finally:
            self._record = None

    # --- parties --------------------------------------------------------------------------

    def company(self, role: str = "importer", registered: str | date | None = None) -> Company:
        """A Kazakh company: an established one from the world, or a new one if `registered`."""
        if registered is None:
            return self.world.pick(role)
        when = registered if isinstance(registered, date) else date.fromisoformat(registered)
        return self.world.new_kz(role, when)

    def shells(self, n: int, months_old: tuple[int, int] = (1, 4)) -> list[Company]:
        """`n` companies registered a few months ago (their BINs say so)."""
        return [schemes.new_company(self.eco, self.t, "trader", months_old) for _ in range(n)]

    def buyer(
        self,
        country: str = "RU",
        name: str = "",
        tax_id: str = "",
        registered: str | date | None = None,
    ) -> Company:
        """A company abroad (Russian and Kyrgyz names in Cyrillic unless `name` is given)."""
        if not (name or tax_id or registered):
            return self.world.partner(country, "buyer")
        when = (
            registered
            if isinstance(registered, date)
            else date.fromisoformat(registered)
            if registered
            else date(2015, 5, 5)
        )
        c = self.world.new_foreign(country, "buyer", when, name, tax_id)
        self.world.extra.append(c)
        return c

    def listed_buyer(
        self, style: str = "translit", index: int = 0, keep_id: bool = False
    ) -> Company:
        """A buyer that is an OFAC-listed entity spelled another way: `translit` (Cyrillic),
        `abbrev`, `case` or `alias`; with its listed tax number if `keep_id`."""
        pool = [e for e in buyers() if short_core(e.name)]
        return listed_buyer(self.world, pool[index % len(pool)], style, keep_id)

    def listed_holder(self, index: int = 0) -> Company:
        """A Kazakh company whose BIN is on the OFAC list."""
        return listed_holder(self.world, kazakh()[index % len(kazakh())])

    # --- goods ----------------------------------------------------------------------------

    def _qty(self, lot_or_hs: Lot | str, quantity: float | None) -> int:
        unit = lot_or_hs.item.unit if isinstance(lot_or_hs, Lot) else catalog()[lot_or_hs].unit
        if quantity is None:
            assert isinstance(lot_or_hs, Lot)
            return lot_or_hs.q
        return max(1, round(quantity * scale_of(unit)))

    def import_(
        self,
        hs: str,
        quantity: float,
        holder: Company | None = None,
        seller: str = "CN",
        price: float | None = None,
        origin: str | None = None,
        days: float = 0.0,
        declared_hs: str | None = None,
    ) -> Lot:
        """Goods of a catalogue HS code imported (or arrived, from an EAEU partner) by
        `holder`; `declared_hs` declares them under another code (misdeclaration)."""
        self.after(days)
        item = catalog()[hs]
        q = self._qty(hs, quantity)
        price = price if price is not None else item.mean_price
        goods = flows.branded(self.eco, item, seller)
        if origin:
            goods["origin"] = origin
        if declared_hs:
            goods.update(hs=declared_hs, description=catalog()[declared_hs].description)
        ev, lot = flows.enter(
            self.eco,
            self.t,
            holder or self.world.pick("importer"),
            seller,
            item,
            q,
            price,
            goods=goods,
        )
        self._emit(ev)
        return lot

    def transfer(
        self,
        lot: Lot,
        to: Company,
        quantity: float | None = None,
        days: float = 1.0,
        markup: float = 1.1,
    ) -> Lot:
        """`quantity` (default all) of `lot` invoiced to `to`; returns `to`'s lot."""
        self.after(days)
        ev, new = self.eco.transfer(self.t, lot, to, self._qty(lot, quantity), markup)
        if self._record is not None:
            self._record.party(lot.holder, to.tax_id)
        self._emit(ev)
        return new

    def chain(self, lot: Lot, holders: list[Company], days: float = 1.0) -> Lot:
        """The whole lot passed along `holders`, one transfer every `days`."""
        for h in holders:
            lot = self.transfer(lot, h, days=days)
        return lot

    def dispatch(
        self,
        lot: Lot,
        buyer: Company,
        quantity: float | None = None,
        price: float | None = None,
        days: float = 1.0,
        post: str | None = None,
    ) -> Event:
        """A dispatch (EAEU buyer) or export (other buyer) of `lot` (default: all of it)."""
        self.after(days)
        q = self._qty(lot, quantity)
        kind = "dispatch" if buyer.country in flows.EAEU_PARTNERS else "export"
        price = price if price is not None else lot.price * 1.2
        post = post or routes.exit_post(buyer.country, lot.item, self.rng)
        ev = self.eco.leave(kind, self.t, lot, q, buyer, post, price)
        if self._record is not None:
            self._record.divert(q / lot.scale, lot.item.unit, q / lot.scale * price, lot.item.hs)
            self._record.party(lot.holder, buyer.tax_id)
        return self._emit(ev)

    def receipt(
        self, ev: Event, days: float = 5.0, quantity: str | None = None, country: str | None = None
    ) -> Event:
        """The partner's confirmation of a dispatch or export (as dispatched by default)."""
        self.after(days)
        country = country or ev["buyer"]["country"]
        r = {
            "type": "receipt",
            "id": self.eco.eid(),
            "time": clock.stamp(self.t),
            "ref": ev["id"],
            "country": country,
            "quantity": quantity or ev["quantity"],
            "value": ev["value"],
            "document": {"kind": "ZVT", "number": f"{country}-{self.t}"},
        }
        return self._emit(r)

    def write_off(
        self, lot: Lot, quantity: float | None = None, reason: str = "retail", days: float = 1.0
    ) -> Event:
        self.after(days)
        return self._emit(self.eco.write_off(self.t, lot, self._qty(lot, quantity), reason))

    def adjust(
        self, lot: Lot, quantity: float, reason: str = "stocktake surplus", days: float = 1.0
    ) -> Event:
        """A stocktake correction (positive: stock appears; negative: stock is lost)."""
        self.after(days)
        dq = round(quantity * lot.scale)
        return self._emit(self.eco.adjust(self.t, lot, dq, reason))

    def transform(self, lots: list[Lot], hs: str, quantity: float, days: float = 1.0) -> Lot:
        """One holder makes `quantity` of `hs` from all of `lots` (new batch, origin KZ)."""
        self.after(days)
        item = catalog()[hs]
        price = sum(lot.value() for lot in lots) * 1.3 / quantity
        ev, (made,) = self.eco.transform(
            self.t,
            lots[0].holder,
            [(lot, lot.q) for lot in lots],
            [(item, self._qty(hs, quantity), price)],
        )
        self._emit(ev)
        return made

    def cancel(self, ev: Event, days: float = 0.1, reason: str = "document annulled") -> Event:
        self.after(days)
        return self._emit(self.eco.cancel(self.t, ev["id"], reason))

    # --- transit --------------------------------------------------------------------------

    def transit(
        self,
        corridor: str = "china-uzbekistan",
        exit_at: str | None = None,
        stop_at: float | None = None,
        unload: float = 0.0,
        delay: float = 0.0,
        breakdown: bool = False,
        hs: list[str] | None = None,
        days: float = 0.0,
    ) -> transits.Movement:
        """A transit on a named corridor (routes.corridors()): legitimate by default; with
        `exit_at` it leaves by that post instead of the declared exit, with `stop_at` (a
        fraction of the way) it never exits, with `unload` (a fraction of the mass) its seal
        is opened on the way and it exits lighter. Returns the declared movement."""
        self.after(days)
        c = next(x for x in routes.corridors() if x.name == corridor)
        items = [catalog()[h] for h in hs] if hs else None
        m = transits.open_at(self.eco, self.t, c, items)
        turn = stop_at if stop_at is not None else 0.4
        plan = transits.Plan(exit_at, turn, stop_at is not None, unload, delay, breakdown)
        self._run(transits.journey(self.eco, self.t, m, plan, self._record))
        return m

    # --- whole processes ------------------------------------------------------------------

    def _run(self, process: Process) -> None:
        """Run a process (and any it starts) to its end; its events join the scenario's."""
        self.engine.now = self.t
        self.engine.start(process)
        for ev in self.engine.drain():
            self._steps.append((self.engine.now, len(self._steps), ev))

    def plant(self, kind: str, days: float = 0.0, **params: Any) -> dict[str, Any]:
        """A whole planted scheme as `keruen simulate` plants it; returns its truth record.
        Kinds and their parameters: schemes.PLANTS."""
        self.after(days)
        rec = self.eco.record(kind)
        self._run(schemes.PLANTS[kind](self.eco, self.t, rec, **params))
        return rec.public()

    def bait(self, kind: str, days: float = 0.0, **params: Any) -> dict[str, Any]:
        """Legitimate trade that looks suspicious (bait_mod.BAITS); returns its record."""
        self.after(days)
        rec = self.eco.record(kind, bait=True)
        self._run(bait_mod.BAITS[kind](self.eco, self.t, rec, **params))
        return rec.public()

    def trade(self, hs: str, quantity: float, seller: str = "CN", days: float = 0.0) -> None:
        """An ordinary import for the home market, sold on and used up (many events)."""
        self.after(days)
        item = catalog()[hs]
        self._run(
            flows.domestic(self.eco, self.t, seller, item, self._qty(hs, quantity), item.mean_price)
        )

    def when(self, text: str | datetime) -> int:
        """Set the clock to an RFC 3339 time (Astana time if none is given); never backwards."""
        when = text if isinstance(text, datetime) else datetime.fromisoformat(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone(timedelta(hours=clock.EAST)))
        self.t = max(self.t, int(when.timestamp()))
        return self.t

"""The monitor: routes transit events to their movement, seal pings through seal bindings.

Feed events in time order (`feed`, or `ping` on the hot path), then ask `findings(now)`.
A seal belongs to the latest declaration that listed it (or an incident that applied it);
a ping from a seal that belongs to no movement is itself a finding, unless a declaration
binding that seal follows within `bind_grace_hours` (seals are armed just before).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, assert_never, cast

import msgspec

from keruen.ledger.rules import micros
from keruen.model import events as ev
from keruen.transit.corridor import Corridors
from keruen.transit.model import (
    AUTHORITY_INCIDENTS,
    Config,
    Episode,
    Finding,
    Limits,
    difference,
    iso,
    make,
)
from keruen.transit.movement import RUSSIA, Movement
from keruen.transit.places import Places, default_places


class PingRow(msgspec.Struct):
    """What a replay reads of a stored seal_ping: validated at ingest, its time in a column."""

    id: str
    seal: str
    lat: float
    lon: float
    state: str = "intact"
    code: str | None = None


_ping_row = msgspec.json.Decoder(PingRow)


@dataclass(frozen=True, slots=True)
class Shipment:
    """A dispatch or export that a partner receipt may refer to by event id."""

    type: str
    quantity: Decimal
    mass_kg: Decimal | None
    country: str


@dataclass(slots=True)
class Orphan:
    first_us: int
    types: list[str]


class Tracker:
    """Every movement, every seal binding, and the findings that belong to no movement."""

    def __init__(
        self,
        places: Places | None = None,
        config: Config | None = None,
        timeline_for: Collection[str] = (),
    ) -> None:
        self.places = places or default_places()
        self.limits = Limits(config or Config())
        self.corridors = Corridors(self.places, self.limits.config)
        self.timeline_for = timeline_for
        self.movements: dict[str, Movement] = {}
        self.bound: dict[str, Movement] = {}
        self.unbound: dict[str, Episode] = {}
        self.cancelled_seals: dict[str, str] = {}
        self.open_ids: dict[str, Movement] = {}
        self.shipments: dict[str, Shipment] = {}
        self.orphans: dict[str, Orphan] = {}
        self.found: list[Finding] = []

    def feed(self, e: ev.Event, extra: Mapping[str, Any] | None = None) -> None:
        """One event (in time order); `extra` is its raw object, for fields beyond the contract."""
        e = cast(ev.AnyEvent, e)  # every event is one of the contract's types
        match e:
            case ev.SealPing():
                self.ping(e.seal, micros(e.time), e.lat, e.lon, e.state, e.code, e.id)
            case ev.TransitOpen():
                self.declare(e)
            case ev.Checkpoint() | ev.TransitClose() | ev.Incident():
                self._passage(e, extra)
            case ev.Receipt():
                self.receipt(e)
            case ev.Dispatch():  # and Export
                self.shipments[e.id] = Shipment(tag(e), e.quantity, e.mass_kg, e.buyer.country)
            case ev.Cancel():
                self.cancel(e.target, micros(e.time), e.id)
            case ev.Import() | ev.Transfer() | ev.Transform() | ev.WriteOff() | ev.Adjust():
                pass  # stock inside the country: no transit, no shipment to receive
            case _:
                assert_never(e)

    # --- seals -------------------------------------------------------------------------------

    def ping(
        self,
        seal: str,
        t: int,
        lat: float,
        lon: float,
        state: str = "intact",
        code: str | None = None,
        event_id: str = "",
    ) -> None:
        m = self.bound.get(seal)
        if m is not None:
            m.ping(seal, t, lat, lon, state, code, event_id)
            return
        u = self.unbound.get(seal)
        if u is None:
            self.unbound[seal] = Episode(seal, t, t, 1, 0.0, lat, lon)
        else:
            u.add(t, lat, lon, 0.0)
            u.lat, u.lon = lat, lon

    def ping_json(self, t: int, raw: bytes | str) -> None:
        """A stored seal_ping (its canonical JSON) at time `t` (microseconds): the fast path."""
        p = _ping_row.decode(raw)
        self.ping(p.seal, t, p.lat, p.lon, p.state, p.code, p.id)

    def _bind(self, seal: str, m: Movement, t: int) -> None:
        held = self.bound.get(seal)
        if held is not None and held is not m and held.is_open:
            m.found.append(
                make(m.mrn, "seal_reused", t, "medium", {"seal": seal, "other_mrn": held.mrn})
            )
        self.bound[seal] = m
        self.cancelled_seals.pop(seal, None)
        m.last_seen.setdefault(seal, t)
        u = self.unbound.pop(seal, None)
        if u is not None and u.first_us < t - self.limits.bind_grace_us:
            self.found.append(self._unbound(u))  # pings long before the declaration stay

    def _unbound(self, u: Episode) -> Finding:
        cancelled = self.cancelled_seals.get(u.seal)
        return make(
            cancelled or "",
            "ping_unbound",
            u.first_us,
            "medium",
            {**u.facts(), "cancelled_mrn": cancelled},
            subject="seal",
        )

    # --- declarations, passages, receipts, cancels ---------------------------------------------

    def declare(self, e: ev.TransitOpen) -> None:
        t = micros(e.time)
        first = self.movements.get(e.mrn)
        if first is not None and first.cancelled_us is None:
            first.found.append(
                make(
                    e.mrn,
                    "duplicate_mrn",
                    t,
                    "low",
                    {"first_id": first.declaration.id, "second_id": e.id},
                )
            )
            return
        m = Movement(e, self.places, self.limits, self.corridors, e.mrn in self.timeline_for)
        self.movements[e.mrn] = m
        self.open_ids[e.id] = m
        for seal in e.seals:
            self._bind(seal, m, t)

    def _passage(
        self, e: ev.Checkpoint | ev.TransitClose | ev.Incident, extra: Mapping[str, Any] | None
    ) -> None:
        m = self.movements.get(e.mrn)
        if m is None:
            self._orphan(e.mrn, micros(e.time), tag(e))
        elif isinstance(e, ev.Checkpoint):
            m.checkpoint(e)
        elif isinstance(e, ev.TransitClose):
            m.close_at(e)
        else:
            m.incident(e)
            seals = new_seals(extra)
            if e.kind in AUTHORITY_INCIDENTS and m.is_open and seals:
                self._reseal(m, seals, micros(e.time))

    def _reseal(self, m: Movement, seals: list[str], t: int) -> None:
        """An authority replaced the seals: `seals` are the ones in place from now on."""
        for old in [s for s in m.last_seen if s not in seals]:
            del m.last_seen[old]
            if self.bound.get(old) is m:
                del self.bound[old]
        for seal in seals:
            self._bind(seal, m, t)
        m.seals = list(seals)

    def _orphan(self, mrn: str, t: int, type_: str) -> None:
        o = self.orphans.setdefault(mrn, Orphan(t, []))
        o.types.append(type_)

    def receipt(self, e: ev.Receipt) -> None:
        m = self.movements.get(e.ref)
        if m is not None:
            m.receipt(e)
            return
        shipment = self.shipments.get(e.ref)
        if shipment is not None:
            self._shipment_receipt(e, shipment)

    def _shipment_receipt(self, e: ev.Receipt, s: Shipment) -> None:
        """A partner's receipt for a dispatch or export: its country, mass and quantity."""
        t = micros(e.time)
        if e.country != s.country:
            facts = {"receipt": e.id, "receipt_country": e.country, "destination": s.country}
            severity = "high" if e.country == RUSSIA else "medium"
            self.found.append(make(e.ref, "destination_mismatch", t, severity, facts, s.type))
        pairs = (
            ("mass_difference", "kg", s.mass_kg, e.mass_kg, None),
            ("quantity_difference", "units", s.quantity, e.quantity, Decimal(0)),
        )
        for kind, unit, sent, got, floor in pairs:
            if sent is not None and got is not None:
                self._shipment_difference(
                    e, s, kind, unit, difference(self.limits, sent, got, floor)
                )

    def _shipment_difference(
        self, e: ev.Receipt, s: Shipment, kind: str, unit: str, facts: dict[str, Any] | None
    ) -> None:
        if facts is None:
            return
        severity = "high" if abs(facts["difference_pct"]) > 10 else "medium"
        more = {"stage": "receipt", "unit": unit, "against": f"in the {s.type}", "receipt": e.id}
        self.found.append(make(e.ref, kind, micros(e.time), severity, {**facts, **more}, s.type))

    def cancel(self, target: str, t: int, event_id: str) -> None:
        """A cancelled declaration: the movement is withdrawn and its seals are free again."""
        m = self.open_ids.get(target)
        if m is None or m.cancelled_us is not None:
            return
        m.cancel(t, event_id)
        for seal, holder in list(self.bound.items()):
            if holder is m:
                del self.bound[seal]
                self.cancelled_seals[seal] = m.mrn

    # --- results -----------------------------------------------------------------------------

    def findings(self, now_us: int) -> list[Finding]:
        """Every finding as of `now_us`, in time order."""
        out = list(self.found)
        for m in self.movements.values():
            out.extend(m.findings(now_us))
        grace = self.limits.bind_grace_us  # a seal never bound may be declared any moment
        out.extend(
            self._unbound(u)
            for u in self.unbound.values()
            if u.first_us < now_us - grace or u.seal in self.cancelled_seals
        )
        out.extend(self._orphan_findings())
        out.sort(key=lambda f: (f.time_us, f.mrn, f.kind))
        return out

    def _orphan_findings(self) -> list[Finding]:
        out = []
        for mrn, o in self.orphans.items():
            m = self.movements.get(mrn)
            out.append(
                make(
                    mrn,
                    "undeclared",
                    o.first_us,
                    "medium",
                    {
                        "events": len(o.types),
                        "types": sorted(set(o.types)),
                        "first": iso(o.first_us),
                        "declared_at": iso(m.opened_us) if m else None,
                    },
                )
            )
        return out


def tag(e: ev.Event) -> str:
    """The event's type name, as in the contract."""
    return str(e.__struct_config__.tag)


def new_seals(extra: Mapping[str, Any] | None) -> list[str]:
    """The seals in place after an authority's incident (`seals`: a field beyond the contract)."""
    if not extra:
        return []
    seals = extra.get("seals")
    if isinstance(seals, str):
        return [seals]
    return [s for s in seals if isinstance(s, str)] if isinstance(seals, list) else []

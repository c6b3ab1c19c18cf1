"""One transit movement (one MRN): its state machine and the findings its events raise.

declared -> in_transit -> exited | diverted   (closed at the declared / another post)
                       -> overdue             (still open after its deadline, at "now")
any open state -> cancelled                   (the declaration was withdrawn)

Events arrive in time order through the `Tracker`. Findings that need no clock (a breach,
an exit elsewhere) are made when their episode ends; those that depend on "now" (overdue,
still silent, still stopped) are made by `findings(now)` without changing the movement.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from keruen.ledger.rules import micros
from keruen.model import events as ev
from keruen.transit.corridor import Corridors
from keruen.transit.geo import km, to_vec
from keruen.transit.model import (
    AUTHORITY_INCIDENTS,
    US_PER_HOUR,
    Finding,
    Limits,
    difference,
    iso,
    make,
)
from keruen.transit.places import Places
from keruen.transit.watch import Watch, micros_of
from keruen.watch import PRINCIPAL

RUSSIA = PRINCIPAL  # the watched destination whose border raises "high"


class Movement(Watch):
    """The state of one MRN, updated event by event."""

    __slots__ = (
        "cancelled_us",
        "close",
        "deadline_us",
        "declaration",
        "declared_kg",
        "opened_us",
        "receipts",
        "seals",
    )

    def __init__(
        self,
        e: ev.TransitOpen,
        places: Places,
        limits: Limits,
        corridors: Corridors,
        keep_timeline: bool = False,
    ) -> None:
        self.declaration = e
        self.opened_us, self.deadline_us = micros(e.time), micros(e.deadline)
        self.seals = list(e.seals)
        self.declared_kg = sum((g.mass_kg for g in e.goods), Decimal(0))
        corridor, unresolved = corridors.get(e.entry_post, e.exit_post, e.route)
        super().__init__(e.mrn, places, limits, corridor, self.opened_us, self.seals, keep_timeline)
        for u in unresolved:
            self._add(
                "route_unresolved",
                self.opened_us,
                "low",
                {"waypoint": u.waypoint, "index": u.index},
            )
        self.close: ev.TransitClose | None = None
        self.cancelled_us: int | None = None
        self.receipts: list[ev.Receipt] = []
        self._log(
            self.opened_us,
            "transit_open",
            e.id,
            entry_post=e.entry_post,
            exit_post=e.exit_post,
            destination=e.destination,
            deadline=iso(self.deadline_us),
            seals=self.seals,
            mass_kg=self.declared_kg,
        )

    # --- state -----------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.closed_us is None and self.cancelled_us is None

    def state(self, now_us: int) -> str:
        if self.cancelled_us is not None:
            return "cancelled"
        if self.close is not None:
            diverted = self.close.post != self.declaration.exit_post or any(
                r.country != self.declaration.destination for r in self.receipts
            )
            return "diverted" if diverted else "exited"
        if now_us > self.deadline_us:
            return "overdue"
        return "in_transit" if self.started_us is not None else "declared"

    # --- the other events of a movement ------------------------------------------------------

    def checkpoint(self, e: ev.Checkpoint) -> None:
        t = micros(e.time)
        self._log(t, "checkpoint", e.id, post=e.post, mass_kg=e.mass_kg)
        if self._after_exit(t, "checkpoint", e.id, e.post):
            return
        if self.started_us is None:
            self.started_us = t
        self._mass(t, "checkpoint", e.mass_kg, self.declared_kg, "declared at entry", post=e.post)
        if e.post not in (self.declaration.entry_post, self.declaration.exit_post):
            self._off_route_post(t, e.post)

    def _after_exit(self, t: int, type_: str, event_id: str, post: str) -> bool:
        if self.closed_us is None or self.close is None or t < self.closed_us:
            return False
        self._add(
            "event_after_close",
            t,
            "medium",
            {"type": type_, "id": event_id, "post": post, "closed": iso(self.closed_us)},
        )
        return True

    def _off_route_post(self, t: int, code: str) -> None:
        post = self.places.post(code)
        if post is None:
            return
        v = to_vec(post.lat, post.lon)
        if self.corridor.leg_holding(v) >= 0:
            return
        self._add(
            "checkpoint_off_route",
            t,
            "high" if post.neighbour == RUSSIA else "medium",
            {
                "post": code,
                "post_name": post.name,
                "neighbour": post.neighbour or None,
                "km_from_corridor": round(self.corridor.distance_km(v), 1),
                "threshold_km": self.corridor.width_km,
            },
        )

    def _mass(
        self, t: int, stage: str, measured: Decimal, reference: Decimal, against: str, **where: Any
    ) -> None:
        facts = difference(self.limits, reference, measured)
        if facts:
            severity = "high" if abs(facts["difference_pct"]) > 10 else "medium"
            self._add(
                "mass_difference",
                t,
                severity,
                {**facts, "stage": stage, "unit": "kg", "against": against, **where},
            )

    def close_at(self, e: ev.TransitClose) -> None:
        t = micros(e.time)
        self._log(
            t, "transit_close", e.id, post=e.post, mass_kg=e.mass_kg, seals_intact=e.seals_intact
        )
        if self._after_exit(t, "transit_close", e.id, e.post) or self.cancelled_us is not None:
            return
        self.finish()
        for seal, last in self.last_seen.items():
            if t - last > self.limits.silent_us:
                self._silent(seal, last, t, ongoing=False)
        self.closed_us, self.close, self.close_post = t, e, e.post
        self._exit_post(t, e.post)
        if t > self.deadline_us:
            hours = (t - self.deadline_us) / US_PER_HOUR
            self._add(
                "late_exit",
                t,
                "medium" if hours > 24 else "low",
                {
                    "post": e.post,
                    "closed": iso(t),
                    "deadline": iso(self.deadline_us),
                    "hours_late": round(hours, 1),
                },
            )
        self._mass(t, "exit", e.mass_kg, self.declared_kg, "declared at entry", post=e.post)
        if not e.seals_intact:
            self._add(
                "seal_breach",
                t,
                "high",
                {"source": "close", "post": e.post, "seal": None, "first": iso(t)},
            )

    def _exit_post(self, t: int, code: str) -> None:
        declared = self.declaration.exit_post
        if code == declared:
            return
        actual, planned = self.places.post(code), self.places.post(declared)
        toward = bool(
            actual
            and actual.neighbour == RUSSIA
            and self.declaration.destination != RUSSIA
            and (planned is None or planned.neighbour != RUSSIA)
        )
        apart = (
            km(to_vec(actual.lat, actual.lon), to_vec(planned.lat, planned.lon))
            if actual and planned
            else 0.0
        )
        self._add(
            "exit_other_post",
            t,
            "high" if toward else "medium",
            {
                "post": code,
                "post_name": actual.name if actual else None,
                "post_neighbour": actual.neighbour if actual else None,
                "declared_post": declared,
                "declared_post_name": planned.name if planned else None,
                "declared_neighbour": planned.neighbour if planned else None,
                "destination": self.declaration.destination,
                "toward_russia": toward,
                "km_between": round(apart, 1),
            },
        )

    def finish(self) -> None:
        """End the episodes in progress (at exit or cancellation)."""
        if self.off is not None:
            self._end_off()
        self._end_stop()

    def receipt(self, e: ev.Receipt) -> None:
        t = micros(e.time)
        self.receipts.append(e)
        self._log(t, "receipt", e.id, country=e.country, mass_kg=e.mass_kg, quantity=e.quantity)
        if e.country != self.declaration.destination:
            self._add(
                "destination_mismatch",
                t,
                "high" if e.country == RUSSIA else "medium",
                {
                    "receipt": e.id,
                    "receipt_country": e.country,
                    "destination": self.declaration.destination,
                },
            )
        if e.mass_kg is not None:
            closed = self.close is not None
            reference = self.close.mass_kg if self.close is not None else self.declared_kg
            self._mass(
                t,
                "receipt",
                e.mass_kg,
                reference,
                "measured at exit" if closed else "declared at entry",
                receipt=e.id,
            )

    def incident(self, e: ev.Incident) -> None:
        t = micros(e.time)
        self.incidents.append((t, to_vec(e.lat, e.lon), e.id, e.kind))
        self._log(t, "incident", e.id, kind=e.kind, lat=e.lat, lon=e.lon, note=e.note)

    def cancel(self, t: int, event_id: str) -> None:
        self._log(t, "cancel", event_id)
        if self.is_open:
            self.finish()
        self.cancelled_us = t

    # --- what "now" adds -----------------------------------------------------------------------

    def findings(self, now_us: int) -> list[Finding]:
        """The movement's findings as of `now_us` (the movement itself is not changed)."""
        out = [self._explained(f) for f in self.found]
        if self.off is not None:
            out.append(self._deviation(self.off))
        if self.after is not None:
            out.append(
                make(
                    self.mrn,
                    "ping_after_close",
                    self.after.first_us,
                    "high",
                    {
                        **self.after.facts(),
                        "closed": iso(self.closed_us or 0),
                        "exit_post": self.close.post if self.close else None,
                        "max_km_from_exit": round(self.after.max_km, 1),
                    },
                )
            )
        if self.is_open:
            out.extend(self._open_findings(now_us))
        return out

    def _explained(self, f: Finding) -> Finding:
        """A breach or stop that an incident reported later explains, with its severity lowered."""
        if (
            f.kind not in ("seal_breach", "long_stop")
            or f.facts.get("explained_by")
            or f.facts.get("lat") is None
        ):
            return f
        p = to_vec(f.facts["lat"], f.facts["lon"])
        end = micros_of(f.facts.get("end")) or f.time_us
        kinds = AUTHORITY_INCIDENTS if f.kind == "seal_breach" else None
        by = self._incident_near(p, f.time_us, end, kinds)
        return (
            make(self.mrn, f.kind, f.time_us, "low", {**f.facts, "explained_by": by}) if by else f
        )

    def _open_findings(self, now_us: int) -> list[Finding]:
        out = []
        if self.stop is not None and (f := self._long_stop(self.stop, ongoing=True)):
            out.append(f)
        for seal, last in self.last_seen.items():
            if now_us - last > self.limits.silent_us:
                out.append(self._silent(seal, last, now_us, ongoing=True))
        if now_us > self.deadline_us:
            out.append(make(self.mrn, "overdue", self.deadline_us, "high", self._overdue(now_us)))
        return out

    def _overdue(self, now_us: int) -> dict[str, Any]:
        facts: dict[str, Any] = {
            "deadline": iso(self.deadline_us),
            "now": iso(now_us),
            "hours_over": round((now_us - self.deadline_us) / US_PER_HOUR, 1),
            "exit_post": self.declaration.exit_post,
            "last_seen": None,
            "lat": None,
            "lon": None,
            "km_to_exit": None,
        }
        exit_post = self.places.post(self.declaration.exit_post)
        if self.stop and exit_post:  # where the last positions cluster, within stop_radius_km
            lat, lon, t = self.stop.lat, self.stop.lon, self.stop.last_us
            facts.update(
                last_seen=iso(t),
                lat=lat,
                lon=lon,
                km_to_exit=round(km(to_vec(lat, lon), to_vec(exit_post.lat, exit_post.lon)), 1),
            )
        return facts

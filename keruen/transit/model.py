"""The values transit monitoring deals in: settings, findings, timeline entries, seal codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from math import cos
from typing import Any

from keruen.ledger.rules import iso as iso
from keruen.transit.explain import explain
from keruen.transit.geo import EARTH_KM, Vec

KINDS = {
    "overdue": "not exited by its deadline",
    "late_exit": "exited after its deadline",
    "exit_other_post": "exited at another post than declared",
    "destination_mismatch": "the receipt comes from another country than the declared destination",
    "route_deviation": "a seal reported farther from the corridor than allowed",
    "checkpoint_off_route": "passed a border post off its corridor",
    "long_stop": "stood still in one place for long",
    "seal_breach": "a seal reported opened, broken or tampered",
    "seal_silent": "a seal stopped reporting",
    "seal_alarm": "a seal reported a fault or a low battery",
    "seal_reused": "a seal was bound to a new movement while still bound to an open one",
    "mass_difference": "measured mass differs from the declared or exited mass",
    "quantity_difference": "the quantity received differs from the quantity dispatched",
    "ping_after_close": "a seal kept reporting after the movement exited",
    "ping_unbound": "a seal bound to no open movement reported",
    "event_after_close": "a checkpoint or close arrived after the movement exited",
    "undeclared": "events for an MRN that was never declared",
    "duplicate_mrn": "a second declaration reused an MRN",
    "route_unresolved": "a declared route waypoint could not be located",
}

# EAEU navigation-seal event codes: (meaning, the finding kind each one raises)
SEAL_CODES: dict[str, tuple[str, str]] = {
    "01": ("seal broken", "seal_breach"),
    "02": ("case broken", "seal_breach"),
    "03": ("road deviation over 50 km", "route_deviation"),
    "04": ("fault", "seal_alarm"),
    "05": ("battery below 15%", "seal_alarm"),
    "06": ("no data for two periods", "seal_silent"),
    "07": ("unauthorised action", "seal_breach"),
}

# incident kinds that say an authority opened or replaced a seal on purpose
AUTHORITY_INCIDENTS = frozenset(
    {
        "seal_replaced",
        "seal_replacement",
        "inspection",
        "customs_inspection",
        "customs_check",
    }
)


@dataclass(frozen=True, slots=True)
class Config:
    """Thresholds of the checks; every one is a documented default that can be changed."""

    corridor_km: float = 50.0  # EAEU navigation-seal rule: deviation over 50 km
    detour_ratio: float = 1.3  # no declared route: allowed road/rail circuity entry -> exit
    leg_detour_ratio: float = 1.15  # between declared waypoints
    stop_hours: float = 24.0
    stop_radius_km: float = 5.0
    post_radius_km: float = 20.0  # a stop this close to a border post is a queue
    silent_hours: float = 24.0  # a day without a report (code 06 flags shorter ones)
    mass_tolerance_pct: float = 2.0
    mass_tolerance_kg: float = 20.0
    close_grace_hours: float = 2.0  # pings near the exit post just after exit: seal removal
    close_grace_km: float = 25.0
    bind_grace_hours: float = 1.0  # pings from a seal just before its declaration
    incident_hours: float = 6.0  # an incident explains a seal opening or stop this close
    incident_km: float = 25.0


US_PER_HOUR = 3_600_000_000


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a transit did that an officer should look at, with the facts that show it."""

    mrn: str  # the MRN; for a dispatch/export receipt check, the dispatch event id
    kind: str
    time_us: int
    severity: str  # high | medium | low
    facts: dict[str, Any]
    explanation: str
    subject: str = "transit"  # transit | dispatch | export | seal

    @property
    def time(self) -> datetime:
        return from_us(self.time_us)

    def public(self) -> dict[str, Any]:
        return {
            "mrn": self.mrn,
            "kind": self.kind,
            "time": iso(self.time_us),
            "severity": self.severity,
            "subject": self.subject,
            "facts": self.facts,
            "explanation": self.explanation,
        }


@dataclass(slots=True)
class Entry:
    """One line of a movement's timeline."""

    time_us: int
    type: str
    id: str
    data: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {"time": iso(self.time_us), "type": self.type, "id": self.id, **self.data}


class Limits:
    """A `Config` turned into the units the hot path compares against (computed once)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.silent_us = int(config.silent_hours * US_PER_HOUR)
        self.stop_us = int(config.stop_hours * US_PER_HOUR)
        self.stop_cos = cos(config.stop_radius_km / EARTH_KM)
        self.close_grace_us = int(config.close_grace_hours * US_PER_HOUR)
        self.incident_us = int(config.incident_hours * US_PER_HOUR)
        self.bind_grace_us = int(config.bind_grace_hours * US_PER_HOUR)


@dataclass(slots=True)
class Episode:
    """Consecutive positions sharing a problem (off the corridor, after exit, unbound)."""

    seal: str
    first_us: int
    last_us: int
    pings: int
    max_km: float
    lat: float
    lon: float

    def add(self, t: int, lat: float, lon: float, d: float) -> None:
        self.last_us, self.pings = t, self.pings + 1
        if d >= self.max_km:
            self.max_km, self.lat, self.lon = d, lat, lon

    def facts(self) -> dict[str, Any]:
        return {
            "seal": self.seal,
            "first": iso(self.first_us),
            "last": iso(self.last_us),
            "pings": self.pings,
            "lat": self.lat,
            "lon": self.lon,
        }


@dataclass(slots=True)
class Stop:
    """Positions within `stop_radius_km` of the first one: the load standing still."""

    ax: float
    ay: float
    az: float
    lat: float
    lon: float
    start_us: int
    last_us: int
    pings: int

    @property
    def anchor(self) -> Vec:
        return (self.ax, self.ay, self.az)


def make(
    mrn: str, kind: str, t: int, severity: str, facts: dict[str, Any], subject: str = "transit"
) -> Finding:
    return Finding(mrn, kind, t, severity, facts, explain(kind, mrn, facts), subject)


def difference(
    limits: Limits, reference: Decimal, measured: Decimal, floor: Decimal | None = None
) -> dict[str, Any] | None:
    """The facts of a difference beyond tolerance (percent, with a floor), or None within it."""
    cfg = limits.config
    floor = Decimal(str(cfg.mass_tolerance_kg)) if floor is None else floor
    tolerance = max(floor, reference * Decimal(str(cfg.mass_tolerance_pct)) / 100)
    diff = measured - reference
    if abs(diff) <= tolerance:
        return None
    pct = float(diff / reference * 100) if reference else 100.0
    return {
        "reference": reference,
        "measured": measured,
        "difference": diff,
        "difference_pct": round(pct, 2),
        "tolerance": tolerance.quantize(Decimal("0.001")),
    }

"""One-line factories for transit events, and trips along a polyline of places."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from keruen.transit.geo import Leg, destination, to_latlon, to_vec
from keruen.transit.places import default_places

T0 = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
ALMATY = timezone(timedelta(hours=5))
_ids = itertools.count(1)
CARRIER = {"tax_id": "CN77", "name": "CR Express", "country": "CN"}
CONSIGNEE = {"tax_id": "DE12", "name": "Bauer GmbH", "country": "DE"}


def at(hours: float) -> str:
    """RFC 3339 time `hours` after T0, with Almaty's offset as producers send it."""
    return (T0 + timedelta(hours=hours)).astimezone(ALMATY).isoformat()


def nid(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def open_(
    mrn: str,
    entry: str,
    exit_: str,
    *,
    h: float = 0,
    days: float = 8,
    seals: Sequence[str] = ("S1",),
    route: list[Any] | None = None,
    destination_: str = "DE",
    mass: str = "20000",
    **extra: Any,
) -> dict[str, Any]:
    e = {
        "type": "transit_open",
        "id": extra.pop("id", nid("open")),
        "time": at(h),
        "mrn": mrn,
        "entry_post": entry,
        "exit_post": exit_,
        "destination": destination_,
        "deadline": at(h + days * 24),
        "carrier": CARRIER,
        "consignee": CONSIGNEE,
        "seals": list(seals),
        "goods": [
            {
                "hs": "847130",
                "description": "laptops",
                "quantity": "4000",
                "unit": "PCE",
                "mass_kg": mass,
                "value": {"amount": "2000000", "currency": "USD"},
            }
        ],
        **extra,
    }
    if route is not None:
        e["route"] = route
    return e


def ping(
    seal: str, h: float, lat: float, lon: float, state: str = "intact", code: str | None = None
) -> dict[str, Any]:
    e = {
        "type": "seal_ping",
        "id": nid("ping"),
        "time": at(h),
        "seal": seal,
        "lat": lat,
        "lon": lon,
        "state": state,
    }
    if code:
        e["code"] = code
    return e


def checkpoint(mrn: str, h: float, post: str, mass: str = "20000") -> dict[str, Any]:
    return {
        "type": "checkpoint",
        "id": nid("cp"),
        "time": at(h),
        "mrn": mrn,
        "post": post,
        "mass_kg": mass,
    }


def close(
    mrn: str, h: float, post: str, mass: str = "20000", intact: bool = True
) -> dict[str, Any]:
    return {
        "type": "transit_close",
        "id": nid("close"),
        "time": at(h),
        "mrn": mrn,
        "post": post,
        "mass_kg": mass,
        "seals_intact": intact,
    }


def incident(mrn: str, h: float, kind: str, lat: float, lon: float, **extra: Any) -> dict[str, Any]:
    return {
        "type": "incident",
        "id": nid("inc"),
        "time": at(h),
        "mrn": mrn,
        "kind": kind,
        "lat": lat,
        "lon": lon,
        "note": "reported by the carrier",
        **extra,
    }


def receipt(
    ref: str, h: float, country: str, mass: str | None = None, quantity: str | None = None
) -> dict[str, Any]:
    e: dict[str, Any] = {
        "type": "receipt",
        "id": nid("rcpt"),
        "time": at(h),
        "ref": ref,
        "country": country,
        "document": {"kind": "CMR", "number": "R-1"},
    }
    if mass:
        e["mass_kg"] = mass
    if quantity:
        e["quantity"] = quantity
    return e


def cancel(target: str, h: float) -> dict[str, Any]:
    return {
        "type": "cancel",
        "id": nid("cancel"),
        "time": at(h),
        "target": target,
        "reason": "declaration withdrawn",
    }


def point(name: str) -> tuple[float, float]:
    """A post code (`KZDOS-RAIL`) or UN/LOCODE (`KZKGF`) as (lat, lon)."""
    places = default_places()
    post = places.post(name)
    if post:
        return post.lat, post.lon
    place = places.waypoint(name)
    assert place, name
    return place.lat, place.lon


def trip(
    seal: str,
    stops: Sequence[str | tuple[float, float]],
    *,
    h0: float = 1,
    every_h: float = 2,
    step_km: float = 60,
    wiggle_km: float = 15,
) -> list[dict[str, Any]]:
    """Pings along the polyline through `stops`, weaving up to `wiggle_km` to either side."""
    pts = [s if isinstance(s, tuple) else point(s) for s in stops]
    out, h, i = [], h0, 0
    for a, b in itertools.pairwise(pts):
        leg = Leg(to_vec(*a), to_vec(*b))
        n = max(1, int(leg.length * 6371 / step_km))
        for k in range(n):
            side = wiggle_km * (1 if i % 2 else -1) * (0.5 + 0.5 * ((i * 7) % 3) / 2)
            lat, lon = to_latlon(destination(leg.point(k / n), 90 + 45 * (i % 2), abs(side)))
            out.append(ping(seal, h, round(lat, 5), round(lon, 5)))
            h, i = h + every_h, i + 1
    lat, lon = pts[-1]
    out.append(ping(seal, h, lat, lon))
    return out


def hours_of(events: list[dict[str, Any]]) -> float:
    """The time of the last event, in hours after T0."""
    last = max(datetime.fromisoformat(e["time"]) for e in events)
    return (last - T0).total_seconds() / 3600


def lines(events: Sequence[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(e).encode() for e in events]


def renamed(events: Sequence[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    """The events with every id, MRN and seal prefixed by `tag`: scenarios share one ledger."""

    def name(value: str) -> str:
        return f"{tag}-{value}"

    out = []
    for e in events:
        e = json.loads(json.dumps(e))
        for key in ("id", "mrn", "seal", "ref", "target"):
            if key in e:
                e[key] = name(e[key])
        if "seals" in e:
            e["seals"] = [name(s) for s in e["seals"]]
        out.append(e)
    return out

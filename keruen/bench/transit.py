"""`keruen bench transit`: seal pings per second with many open movements, against baselines.

Setup (not timed): `movements` open transits between random pairs of land posts, a third
of them with a declared route through a UN/LOCODE place; `pings` JSON lines for their
seals, round by round along each corridor, about 1 % of them far off it and 0.1 % with the
seal opened. Timed: decoding alone (the ceiling), decoding plus the tracker (the figure),
the tracker alone, and the naive way on a sample -- find the movement by scanning all of
them and measure the corridor with haversine trigonometry, no index, nothing precomputed.
"""

from __future__ import annotations

import gc
import random
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from math import asin, atan2, cos, radians, sin
from typing import Any

import msgspec

from keruen.ledger.rules import micros
from keruen.model import events as ev
from keruen.transit.geo import EARTH_KM, destination, haversine_km, to_latlon
from keruen.transit.movement import Movement
from keruen.transit.places import default_places
from keruen.transit.tracker import PingRow, Tracker

T0 = datetime(2024, 3, 1, tzinfo=UTC)
WAYPOINTS = ["KZALA", "KZKGF", "KZAGY", "KZTAR", "KZAKX", "KZPWQ", "KZPLX", "KZBAH", "KZZAA"]
_encode = msgspec.json.Encoder()
Progress = Callable[[int], None]


def _declaration(i: int, rng: random.Random, land: list[str]) -> ev.TransitOpen:
    entry, exit_ = rng.sample(land, 2)
    route: list[str | ev.LatLon] | None = [rng.choice(WAYPOINTS)] if i % 3 == 0 else None
    party = ev.Party(tax_id="X1", name="Carrier", country="CN")
    goods = ev.TransitGoods(
        hs="847130",
        description="laptops",
        quantity=Decimal(100),
        unit="PCE",
        mass_kg=Decimal(1000),
        value=ev.Money(amount=Decimal(1), currency="USD"),
    )
    return ev.TransitOpen(
        id=f"o{i}",
        time=T0,
        mrn=f"M{i}",
        entry_post=entry,
        exit_post=exit_,
        destination="DE",
        deadline=T0 + timedelta(days=30),
        carrier=party,
        consignee=party,
        seals=[f"S{i}"],
        goods=[goods],
        route=route,
    )


def build(movements: int, seed: int, progress: Progress) -> Tracker:
    rng = random.Random(seed)
    land = sorted(c for c, p in default_places().posts.items() if p.mode in ("road", "rail"))
    tracker = Tracker()
    for i in range(movements):
        tracker.declare(_declaration(i, rng, land))
        if i % 10_000 == 9_999:
            progress(10_000)
    return tracker


Row = tuple[int, bytes]  # (time in microseconds, canonical JSON), as the ledger stores a ping


def ping_rows(tracker: Tracker, pings: int, seed: int) -> list[Row]:
    """Pings round by round: each movement moves a step along its corridor per round."""
    rng = random.Random(seed + 1)
    ms = list(tracker.movements.values())
    rounds = max(1, pings // len(ms) + 1)
    out: list[Row] = []
    for r in range(rounds):
        for k, m in enumerate(rng.sample(ms, min(len(ms), pings - len(out)))):
            out.append(_ping_row(m, r, rounds, k, rng))
    return out


def _ping_row(m: Movement, r: int, rounds: int, k: int, rng: random.Random) -> Row:
    legs = m.corridor.legs
    leg = legs[min(len(legs) - 1, r * len(legs) // rounds)]
    p = leg.point(rng.random())
    off = 150.0 if rng.random() < 0.01 else rng.uniform(0, 30)
    lat, lon = to_latlon(destination(p, rng.uniform(0, 360), off))
    when = T0 + timedelta(hours=r + 1, seconds=k % 3600)
    state = "opened" if rng.random() < 0.001 else "intact"
    raw = _encode.encode(
        {
            "type": "seal_ping",
            "id": f"p{r}-{k}",
            "time": when.isoformat(),
            "seal": m.seals[0],
            "lat": round(lat, 5),
            "lon": round(lon, 5),
            "state": state,
        }
    )
    return micros(when), raw


@dataclass(frozen=True, slots=True)
class Timing:
    wall_s: float
    cpu_s: float


def _timed(fn: Callable[[], Any]) -> Timing:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def decode_all(rows: list[Row]) -> list[PingRow]:
    decode = msgspec.json.Decoder(PingRow).decode
    return [decode(raw) for _, raw in rows]


def track_rows(tracker: Tracker, rows: list[Row]) -> None:
    ping_json = tracker.ping_json
    for t, raw in rows:
        ping_json(t, raw)


def track_decoded(tracker: Tracker, rows: list[Row], pings: list[PingRow]) -> None:
    ping = tracker.ping
    for (t, _), p in zip(rows, pings, strict=True):
        ping(p.seal, t, p.lat, p.lon, p.state, p.code, p.id)


def naive(movements: list[Movement], pings: list[PingRow], width_km: float) -> int:
    """The baseline: scan every movement for the seal, then trigonometry leg by leg."""
    off = 0
    for e in pings:
        m = next(m for m in movements if e.seal in m.seals)
        pts = [(p.lat, p.lon) for p in m.corridor.places]
        d = min(_cross_track_km(e.lat, e.lon, a, b) for a, b in pairwise(pts + pts[-1:]))
        off += d > width_km
    return off


def _cross_track_km(
    lat: float, lon: float, a: tuple[float, float], b: tuple[float, float]
) -> float:
    """Textbook haversine cross-track distance to the segment a-b (clamped to its ends)."""
    d13 = haversine_km(a[0], a[1], lat, lon) / EARTH_KM
    t13, t12 = _bearing(a, (lat, lon)), _bearing(a, b)
    xt = asin(max(-1.0, min(1.0, sin(d13) * sin(t13 - t12))))
    along = atan2(sin(d13) * cos(t13 - t12), cos(d13)) if d13 else 0.0
    if along < 0 or along * EARTH_KM > haversine_km(*a, *b):
        return min(d13 * EARTH_KM, haversine_km(b[0], b[1], lat, lon))
    return abs(xt) * EARTH_KM


def _bearing(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, la2, dlo = radians(a[0]), radians(b[0]), radians(b[1] - a[1])
    return atan2(sin(dlo) * cos(la2), cos(la1) * sin(la2) - sin(la1) * cos(la2) * cos(dlo))


def _rates(n: int, t: Timing) -> tuple[int, int]:
    return round(n / t.wall_s), round(n / t.cpu_s) if t.cpu_s else 0


def run(
    movements: int, pings: int, seed: int, sample: int, progress: Callable[[str, int | None], Any]
) -> dict[str, Any]:
    """Build, then time each way of processing the same pings; rates per wall and CPU second."""
    with progress("open movements", movements) as advance:
        tracker = build(movements, seed, advance)
    rows = ping_rows(tracker, pings, seed)
    decoded = decode_all(rows)
    n = len(rows)
    decode = _timed(lambda: decode_all(rows))
    full = _timed(lambda: track_rows(tracker, rows))
    fresh = build(movements, seed, lambda _: None)
    track = _timed(lambda: track_decoded(fresh, rows, decoded))
    part = decoded[:sample]
    slow = _timed(
        lambda: naive(list(fresh.movements.values()), part, fresh.limits.config.corridor_km)
    )
    found = tracker.findings(rows[-1][0])
    (rate, cpu_rate), (naive_rate, _) = _rates(n, full), _rates(len(part), slow)
    return {
        "movements": movements,
        "pings": n,
        "pings_per_s": rate,
        "pings_per_cpu_s": cpu_rate,
        "track_only_pings_per_s": _rates(n, track)[0],
        "decode_pings_per_s": _rates(n, decode)[0],
        "naive_pings_per_s": naive_rate,
        "naive_sample": len(part),
        "speedup_vs_naive": round(rate / max(naive_rate, 1)),
        "findings": len(found),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }

"""The corridor a transit must keep to: entry post -> declared waypoints -> exit post.

A road or railway is not a straight line, and a corridor of 50 km around the straight line
from entry to exit flags most long, honest trips. So a point is inside the corridor when
it is within `corridor_km` of a great-circle leg (the EAEU 50 km rule) OR when the detour
via that point, a -> p -> b, is at most a ratio of the leg's direct length a -> b (an
ellipse with the leg's ends as foci: no road of that circuity can leave it). The ratio is
small between declared waypoints (`leg_detour_ratio`, 1.15: the declarant chose them) and
larger when no route is declared (`detour_ratio`, 1.3: only entry and exit are known, so
only gross diversions show). Declaring waypoints is what buys precision; every deviation
finding says which corridor applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from math import cos, sin

from keruen.transit.geo import EARTH_KM, Leg, Vec
from keruen.transit.model import Config
from keruen.transit.places import Place, Places, post_place


@dataclass(frozen=True, slots=True)
class Unresolved:
    index: int
    waypoint: str


class Corridor:
    """Great-circle legs through the corridor's places, with a width and an optional detour."""

    __slots__ = ("cos_r", "declared", "detour_ratio", "legs", "places", "sin_r", "width_km")

    def __init__(
        self, places: Sequence[Place], width_km: float, detour_ratio: float, declared: bool
    ) -> None:
        self.places = list(places)
        vecs = [p.vec for p in self.places]
        self.legs = [Leg(a, b) for a, b in pairwise(vecs)] or [Leg(vecs[0], vecs[0])]
        self.width_km = width_km
        self.detour_ratio, self.declared = detour_ratio, declared
        r = width_km / EARTH_KM
        self.sin_r, self.cos_r = sin(r), cos(r)

    @property
    def kind(self) -> str:
        what = "declared route" if self.declared else "entry-exit (no route declared)"
        return f"{what}, {self.width_km:g} km or a detour up to {self.detour_ratio:g}x"

    def leg_holding(self, p: Vec, hint: int = 0) -> int:
        """The index of a leg whose corridor holds `p` (trying `hint` first), or -1."""
        legs, s, c = self.legs, self.sin_r, self.cos_r
        if legs[hint].within(p, s, c):
            return hint
        for i, leg in enumerate(legs):
            if i != hint and leg.within(p, s, c):
                return i
        ratio = self.detour_ratio
        if legs[hint].detour(p) <= ratio:
            return hint
        for i, leg in enumerate(legs):
            if i != hint and leg.detour(p) <= ratio:
                return i
        return -1

    def distance_km(self, p: Vec) -> float:
        """Distance from `p` to the nearest leg (the centre line of the corridor)."""
        return EARTH_KM * min(leg.distance(p) for leg in self.legs)


def build(
    places: Places,
    entry: str,
    exit_: str,
    route: Sequence[object] | None,
    width_km: float,
    detour_ratio: float,
    leg_detour_ratio: float,
) -> tuple[Corridor, list[Unresolved]]:
    """The corridor of a declaration, and the waypoints that could not be located."""
    points: list[Place] = []
    unresolved: list[Unresolved] = []
    for i, wp in enumerate(route or ()):
        place = places.waypoint(wp)
        if place is None:
            unresolved.append(Unresolved(i, wp if isinstance(wp, str) else repr(wp)))
        else:
            points.append(place)
    ends = [places.post(code) for code in (entry, exit_)]
    if ends[0]:
        points.insert(0, post_place(ends[0]))
    if ends[1]:
        points.append(post_place(ends[1]))
    declared = bool(route) and len(points) > sum(1 for e in ends if e)
    if not points:
        raise ValueError(f"neither post {entry!r} nor {exit_!r} is known")
    ratio = leg_detour_ratio if declared else detour_ratio
    return Corridor(_distinct(points), width_km, ratio, declared), unresolved


class Corridors:
    """Corridors by declaration: movements on the same route share one (it never changes)."""

    MAX = 200_000  # distinct routes kept; beyond that the cache starts again

    def __init__(self, places: Places, config: Config) -> None:
        self.places, self.config = places, config
        self._cache: dict[tuple[object, ...], tuple[Corridor, list[Unresolved]]] = {}

    def get(
        self, entry: str, exit_: str, route: Sequence[object] | None
    ) -> tuple[Corridor, list[Unresolved]]:
        key = (entry, exit_, *(_key(wp) for wp in route or ()))
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) >= self.MAX:
                self._cache.clear()
            c = self.config
            hit = build(
                self.places, entry, exit_, route, c.corridor_km, c.detour_ratio, c.leg_detour_ratio
            )
            self._cache[key] = hit
        return hit


def _key(wp: object) -> object:
    return wp if isinstance(wp, str) else (getattr(wp, "lat", None), getattr(wp, "lon", None))


def _distinct(points: list[Place]) -> list[Place]:
    """Drop a point equal to the one before it (a waypoint at the post itself)."""
    out = [points[0]]
    for p in points[1:]:
        if (p.lat, p.lon) != (out[-1].lat, out[-1].lon):
            out.append(p)
    return out

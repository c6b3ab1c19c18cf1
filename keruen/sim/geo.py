"""Corridors between border posts: distances and positions along the great circle.

A seal reports where the truck or train is; a legitimate movement stays within a few km of
the line between its entry and exit posts. Positions are interpolated on the great circle
(slerp) with a small noise; a diverted movement bends toward another post.
"""

from __future__ import annotations

import math
import random
from itertools import pairwise

from keruen.geo import EARTH_KM, to_vec

_DEG = 180.0 / math.pi

LatLon = tuple[float, float]


class Leg:
    """A great-circle segment, with what interpolation needs computed once."""

    __slots__ = ("a", "b", "end_km", "omega", "sin_omega", "va", "vb")

    def __init__(self, a: LatLon, b: LatLon, end_km: float) -> None:
        self.a, self.b, self.end_km = a, b, end_km
        self.va, self.vb = _vec(a), _vec(b)
        dot = max(-1.0, min(1.0, sum(p * q for p, q in zip(self.va, self.vb, strict=True))))
        self.omega = math.acos(dot)
        self.sin_omega = math.sin(self.omega)

    def at(self, f: float) -> LatLon:
        """The point about a fraction `f` of the way along the segment.

        Normalised linear interpolation of the end vectors: the point lies exactly on the
        great circle (atan2 needs no normalisation); only its spacing along the arc differs
        from slerp, by far less than a seal's GPS noise on Kazakh distances."""
        (x1, y1, z1), (x2, y2, z2) = self.va, self.vb
        x, y, z = x1 + f * (x2 - x1), y1 + f * (y2 - y1), z1 + f * (z2 - z1)
        return _DEG * math.atan2(z, math.hypot(x, y)), _DEG * math.atan2(y, x)


def _vec(p: LatLon) -> tuple[float, float, float]:
    return to_vec(p[0], p[1])


def distance_km(a: LatLon, b: LatLon) -> float:
    """Great-circle distance."""
    (x1, y1, z1), (x2, y2, z2) = _vec(a), _vec(b)
    dot = max(-1.0, min(1.0, x1 * x2 + y1 * y2 + z1 * z2))
    return EARTH_KM * math.acos(dot)


def along(a: LatLon, b: LatLon, f: float) -> LatLon:
    """The point a fraction `f` of the way from `a` to `b` on the great circle."""
    return Leg(a, b, 0.0).at(f)


def jitter(p: LatLon, rng: random.Random, km: float = 2.0) -> LatLon:
    """`p` moved by up to about `km` kilometres, as GPS and the road's bends do."""
    r = rng.random
    dlat = (2 * r() - 1) * km / 111.0
    dlon = (2 * r() - 1) * km / (111.0 * max(0.2, math.cos(math.radians(p[0]))))
    return round(p[0] + dlat, 5), round(p[1] + dlon, 5)


def path(points: list[LatLon]) -> list[Leg]:
    """Legs (start, end, cumulative km at end) of a polyline."""
    legs: list[Leg] = []
    total = 0.0
    for a, b in pairwise(points):
        total += distance_km(a, b)
        legs.append(Leg(a, b, total))
    return legs


def at_km(legs: list[Leg], km: float) -> LatLon:
    """The position `km` along a polyline (clamped to its ends)."""
    start = 0.0
    for leg in legs:
        if km <= leg.end_km or leg is legs[-1]:
            span = leg.end_km - start
            return leg.at(1.0 if span <= 0 else min(1.0, max(0.0, (km - start) / span)))
        start = leg.end_km
    return (0.0, 0.0)

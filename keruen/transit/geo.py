"""Geodesic geometry on a spherical Earth: distances in kilometres, never in degrees.

Points are unit vectors ("n-vectors"): a great-circle arc is then a plane through the
centre, and the distance from a point to an arc is a few dot products and one `asin` --
cheap enough to test every seal ping against its corridor. The sphere's error against the
WGS84 ellipsoid is below 0.5 %, far inside a 50 km corridor.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise
from math import acos, asin, atan2, cos, degrees, radians, sin

# the primitives live in keruen.geo (one Earth for the product), re-exported for this area
from keruen.geo import (
    EARTH_KM as EARTH_KM,
)
from keruen.geo import (
    Vec as Vec,
)
from keruen.geo import (
    angle as angle,
)
from keruen.geo import (
    cross as cross,
)
from keruen.geo import (
    dot as dot,
)
from keruen.geo import (
    haversine_km as haversine_km,
)
from keruen.geo import (
    km as km,
)
from keruen.geo import (
    norm as norm,
)
from keruen.geo import (
    to_latlon as to_latlon,
)
from keruen.geo import (
    to_vec as to_vec,
)
from keruen.geo import (
    unit as unit,
)


class Leg:
    """A great-circle arc from `a` to `b`, with what the point tests need precomputed."""

    __slots__ = ("a", "b", "cos_len", "length", "m", "n", "sin_len")

    def __init__(self, a: Vec, b: Vec) -> None:
        self.a, self.b = a, b
        self.length = angle(a, b)
        c = cross(a, b)
        # n: the arc's pole; m: the direction of travel at `a` (so a, m span the arc's plane)
        self.n = unit(c) if norm(c) > 1e-12 else (0.0, 0.0, 0.0)
        self.m = cross(self.n, a)
        self.cos_len, self.sin_len = cos(self.length), sin(self.length)

    def beside(self, p: Vec) -> bool:
        """Whether the foot of the perpendicular from `p` falls on the arc (not beyond an end)."""
        u, v = dot(p, self.a), dot(p, self.m)
        return v >= 0.0 and u * self.sin_len - v * self.cos_len >= 0.0

    def distance(self, p: Vec) -> float:
        """Angular distance from `p` to the nearest point of the arc."""
        if self.length > 1e-12 and self.beside(p):
            return asin(min(1.0, abs(dot(p, self.n))))
        return min(angle(p, self.a), angle(p, self.b))

    def within(self, p: Vec, sin_r: float, cos_r: float) -> bool:
        """Whether `p` is within the angle r of the arc, given sin r and cos r (no trigonometry).

        The dot products are written out: this runs for every seal ping.
        """
        x, y, z = p
        a, m = self.a, self.m
        u = x * a[0] + y * a[1] + z * a[2]
        v = x * m[0] + y * m[1] + z * m[2]
        if v >= 0.0 and u * self.sin_len - v * self.cos_len >= 0.0 and self.length > 1e-12:
            n = self.n
            return abs(x * n[0] + y * n[1] + z * n[2]) <= sin_r
        b = self.b
        return u >= cos_r or x * b[0] + y * b[1] + z * b[2] >= cos_r

    def detour(self, p: Vec) -> float:
        """How much longer the way a -> p -> b is than a -> b, as a ratio (1.0 on the arc)."""
        if self.length < 1e-9:
            return float("inf") if angle(p, self.a) > 1e-9 else 1.0
        x, y, z = p
        a, b = self.a, self.b
        # acos is exact enough here (1e-8 rad, under a metre) and twice as fast as atan2
        pa = acos(max(-1.0, min(1.0, x * a[0] + y * a[1] + z * a[2])))
        pb = acos(max(-1.0, min(1.0, x * b[0] + y * b[1] + z * b[2])))
        return (pa + pb) / self.length

    def point(self, f: float) -> Vec:
        """The point a fraction `f` of the way along the arc."""
        t = f * self.length
        ct, st = cos(t), sin(t)
        return (
            ct * self.a[0] + st * self.m[0],
            ct * self.a[1] + st * self.m[1],
            ct * self.a[2] + st * self.m[2],
        )


def destination(p: Vec, bearing_deg: float, dist_km: float) -> Vec:
    """The point `dist_km` from `p` along the initial bearing (degrees from north)."""
    lat, lon = to_latlon(p)
    la, lo, b, d = radians(lat), radians(lon), radians(bearing_deg), dist_km / EARTH_KM
    la2 = asin(sin(la) * cos(d) + cos(la) * sin(d) * cos(b))
    lo2 = lo + atan2(sin(b) * sin(d) * cos(la), cos(d) - sin(la) * sin(la2))
    return to_vec(degrees(la2), degrees(lo2))


def densify(points: Sequence[Vec], step_km: float = 25.0) -> Iterator[Vec]:
    """The polyline through `points` with great-circle points every `step_km` (for drawing)."""
    for a, b in pairwise(points):
        leg = Leg(a, b)
        steps = max(1, int(leg.length * EARTH_KM / step_km))
        for i in range(steps):
            yield leg.point(i / steps) if leg.length > 1e-12 else a
    if points:
        yield points[-1]


def detour_outline(leg: Leg, ratio: float, n: int = 72) -> list[Vec]:
    """The closed curve where the detour a -> p -> b is exactly `ratio` times a -> b (for
    drawing: 24 bisection steps place each point within far_km / 2**24, under a metre on a
    10,000 km leg)."""
    mid = leg.point(0.5)
    far_km = EARTH_KM * leg.length * ratio
    outline = []
    for i in range(n):
        lo, hi = 0.0, far_km
        for _ in range(24):  # bisection: the detour grows monotonically away from the middle
            d = (lo + hi) / 2
            lo, hi = (d, hi) if leg.detour(destination(mid, 360 * i / n, d)) < ratio else (lo, d)
        outline.append(destination(mid, 360 * i / n, lo))
    return outline

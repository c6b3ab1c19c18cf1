"""One geometry for the whole product: a spherical Earth, points as unit vectors ("n-vectors"),
distances in kilometres (never in degrees). The simulator lays out seal positions with it
and transit monitoring measures them with it, so both use the same Earth.

The sphere's error against the WGS84 ellipsoid is below 0.5 %, far inside a 50 km corridor.
"""

from __future__ import annotations

from math import asin, atan2, cos, degrees, radians, sin, sqrt

EARTH_KM = 6371.0088  # mean Earth radius (IUGG)

Vec = tuple[float, float, float]


def to_vec(lat: float, lon: float) -> Vec:
    la, lo = radians(lat), radians(lon)
    c = cos(la)
    return (c * cos(lo), c * sin(lo), sin(la))


def to_latlon(v: Vec) -> tuple[float, float]:
    x, y, z = v
    return degrees(atan2(z, sqrt(x * x + y * y))), degrees(atan2(y, x))


def dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def cross(a: Vec, b: Vec) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def norm(v: Vec) -> float:
    return sqrt(dot(v, v))


def unit(v: Vec) -> Vec:
    n = norm(v)
    return (v[0] / n, v[1] / n, v[2] / n)


def angle(a: Vec, b: Vec) -> float:
    """Central angle between two unit vectors, in radians (stable for tiny and huge angles)."""
    return atan2(norm(cross(a, b)), dot(a, b))


def km(a: Vec, b: Vec) -> float:
    return EARTH_KM * angle(a, b)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points given in degrees."""
    p1, p2 = radians(lat1), radians(lat2)
    h = sin((p2 - p1) / 2) ** 2 + cos(p1) * cos(p2) * sin(radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * asin(min(1.0, sqrt(h)))

"""Corridor geometry: distances, great-circle interpolation, GPS noise."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keruen.sim import geo

ALMATY, ASTANA = (43.2567, 76.9286), (51.1694, 71.4491)


def test_distance_almaty_astana() -> None:
    assert geo.distance_km(ALMATY, ASTANA) == pytest.approx(970, abs=15)


def _cross_track_km(a: geo.LatLon, b: geo.LatLon, p: geo.LatLon) -> float:
    """Distance of p from the great circle through a and b."""
    va, vb, vp = geo._vec(a), geo._vec(b), geo._vec(p)
    n = (
        va[1] * vb[2] - va[2] * vb[1],
        va[2] * vb[0] - va[0] * vb[2],
        va[0] * vb[1] - va[1] * vb[0],
    )
    norm = math.sqrt(sum(x * x for x in n))
    return abs(math.asin(sum(x * y for x, y in zip(n, vp, strict=True)) / norm)) * geo.EARTH_KM


@given(st.floats(min_value=0.0, max_value=1.0))
def test_points_along_a_leg_stay_on_the_great_circle(f: float) -> None:
    p = geo.along(ALMATY, ASTANA, f)
    assert _cross_track_km(ALMATY, ASTANA, p) < 0.01
    done = geo.distance_km(ALMATY, p) / geo.distance_km(ALMATY, ASTANA)
    assert done == pytest.approx(f, abs=0.02)


def test_polyline_ends_and_middle() -> None:
    legs = geo.path([ALMATY, (47.0, 75.0), ASTANA])
    assert geo.at_km(legs, 0) == pytest.approx(ALMATY)
    assert geo.at_km(legs, legs[-1].end_km) == pytest.approx(ASTANA)
    assert geo.at_km(legs, legs[0].end_km) == pytest.approx((47.0, 75.0))


@given(st.integers(min_value=0, max_value=10**6))
def test_jitter_stays_within_a_few_km(seed: int) -> None:
    p = geo.jitter(ASTANA, random.Random(seed), 2.0)
    assert geo.distance_km(ASTANA, p) < 3.0


@given(st.floats(-89, 89), st.floats(-180, 180), st.floats(-89, 89), st.floats(-180, 180))
def test_the_simulator_and_transit_monitoring_measure_on_one_earth(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    """Seal positions laid out by the simulator are measured by transit monitoring: one radius
    (they used 6371.0 and 6371.0088 km before keruen.geo)."""
    from keruen.transit.geo import haversine_km

    assert pytest.approx(haversine_km(0, 0, 0, 180) / math.pi, rel=1e-12) == geo.EARTH_KM
    sim_km = geo.distance_km((lat1, lon1), (lat2, lon2))
    assert sim_km == pytest.approx(haversine_km(lat1, lon1, lat2, lon2), abs=1e-3)

"""Geometry invariants (Hypothesis) and known distances: kilometres on the sphere, not degrees."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keruen.transit.corridor import Corridor, build
from keruen.transit.geo import (
    EARTH_KM,
    Leg,
    destination,
    haversine_km,
    km,
    to_latlon,
    to_vec,
)
from keruen.transit.places import default_places

lats = st.floats(min_value=35, max_value=60)  # the region, where the corridors are
lons = st.floats(min_value=40, max_value=95)
points = st.tuples(lats, lons)
Pt = tuple[float, float]


@pytest.mark.parametrize(
    ("a", "b", "expected_km", "tolerance"),
    [
        ((43.25, 76.95), (51.03, 71.46), 970, 15),  # Almaty - Astana, quoted as ~970 km by air
        ((0.0, 0.0), (0.0, 1.0), 111.2, 0.1),  # one degree of the equator
        ((60.0, 0.0), (60.0, 1.0), 55.6, 0.1),  # a degree of longitude shrinks with latitude
    ],
)
def test_known_distances(
    a: tuple[float, float], b: tuple[float, float], expected_km: float, tolerance: float
) -> None:
    assert abs(haversine_km(*a, *b) - expected_km) < tolerance
    assert abs(km(to_vec(*a), to_vec(*b)) - haversine_km(*a, *b)) < 1e-6


@given(points, points, points)
def test_distance_to_a_leg_is_at_most_to_its_ends(a: Pt, b: Pt, p: Pt) -> None:
    leg, v = Leg(to_vec(*a), to_vec(*b)), to_vec(*p)
    d = leg.distance(v) * EARTH_KM
    assert d <= min(km(v, leg.a), km(v, leg.b)) + 1e-6
    assert d >= 0


@given(points, points, st.floats(min_value=0, max_value=1))
def test_points_on_a_leg_are_at_distance_zero(a: Pt, b: Pt, f: float) -> None:
    leg = Leg(to_vec(*a), to_vec(*b))
    assert leg.distance(leg.point(f)) * EARTH_KM < 1e-3
    if leg.length > 1e-9:  # the extra way via the point, in km: under a metre
        assert (leg.detour(leg.point(f)) - 1) * leg.length * EARTH_KM < 1e-3


@settings(max_examples=300)
@given(points, points, points, st.floats(min_value=1, max_value=200))
def test_fast_test_agrees_with_the_distance(a: Pt, b: Pt, p: Pt, r_km: float) -> None:
    """`within` (no trigonometry, run per ping) says what the true distance says."""
    from math import cos, sin

    leg, v = Leg(to_vec(*a), to_vec(*b)), to_vec(*p)
    d = leg.distance(v) * EARTH_KM
    if abs(d - r_km) > 1e-3:  # away from the boundary, where rounding could go either way
        assert leg.within(v, sin(r_km / EARTH_KM), cos(r_km / EARTH_KM)) == (d <= r_km)


@given(points, st.floats(min_value=0, max_value=360), st.floats(min_value=0, max_value=2000))
def test_destination_is_that_far(p: Pt, bearing: float, dist: float) -> None:
    q = destination(to_vec(*p), bearing, dist)
    assert abs(km(to_vec(*p), q) - dist) < 1e-6 * max(1.0, dist)
    assert -90 <= to_latlon(q)[0] <= 90


@settings(max_examples=200)
@given(st.floats(min_value=0.05, max_value=0.95), st.floats(min_value=-45, max_value=45))
def test_corridor_holds_what_is_within_its_width(f: float, offset_km: float) -> None:
    """Any point up to 45 km beside the Dostyk-Petropavl line is inside a 50 km corridor."""
    corridor, _ = build(default_places(), "KZDOS-RAIL", "KZPPK-RAIL", None, 50, 1.0, 1.0)
    leg = corridor.legs[0]
    p = destination(leg.point(f), 90 if offset_km > 0 else 270, abs(offset_km))
    assert corridor.leg_holding(p) == 0


def test_corridor_flags_what_is_beyond_its_width_and_detour() -> None:
    corridor: Corridor
    corridor, _ = build(default_places(), "KZDOS-RAIL", "KZPPK-RAIL", None, 50, 1.3, 1.15)
    assert corridor.leg_holding(to_vec(49.83, 73.17)) == 0  # Karaganda: inside the detour
    assert corridor.leg_holding(to_vec(42.3, 69.6)) == -1  # Shymkent: far outside
    assert 950 < corridor.distance_km(to_vec(42.3, 69.6)) < 1050

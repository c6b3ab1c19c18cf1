"""Where things are: border posts and UN/LOCODE places, resolved for corridors and maps.

The lookups are built once from packaged reference data (`keruen/data`, sources in
SOURCES.md) and handed to the pure core as a `Places` value, so tests can pass their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec

from keruen import reference
from keruen.reference import Post
from keruen.transit.geo import Vec, km, to_vec


@dataclass(frozen=True, slots=True)
class Place:
    """A resolved point: a post, a UN/LOCODE location or a declared coordinate."""

    code: str
    name: str
    lat: float
    lon: float
    approximate: bool = False  # machine-geocoded or a placeholder: metres to tens of km off

    @property
    def vec(self) -> Vec:
        return to_vec(self.lat, self.lon)

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "lat": self.lat,
            "lon": self.lon,
        }
        if self.approximate:
            out["approximate"] = True
        return out


def post_place(post: Post) -> Place:
    return Place(post.code, post.name, post.lat, post.lon, post.check.startswith("flagged"))


class Places:
    """Posts by code and UN/LOCODE places by their five-character code."""

    def __init__(self, posts: Mapping[str, Post], locodes: Mapping[str, Place]) -> None:
        self.posts = posts
        self.locodes = locodes
        # a post's own location code (`KZZS1` of `KZZS1-RAIL`) names it as a waypoint too
        self._by_loc = {code.split("-")[0]: p for code, p in sorted(posts.items())}
        self._post_vecs = [(p, to_vec(p.lat, p.lon)) for p in posts.values()]

    def post(self, code: str) -> Post | None:
        return self.posts.get(code)

    def waypoint(self, wp: object) -> Place | None:
        """A declared route waypoint (UN/LOCODE string or {lat, lon}) as a place, or None."""
        if isinstance(wp, str):
            if wp in self.locodes:
                return self.locodes[wp]
            post = self._by_loc.get(wp)
            return post_place(post) if post else None
        lat, lon = getattr(wp, "lat", None), getattr(wp, "lon", None)
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            return Place(f"{lat:.4f},{lon:.4f}", "declared point", float(lat), float(lon))
        return None

    def nearest_post(self, p: Vec) -> tuple[Post, float]:
        """The closest border post to `p` and its distance in km."""
        return min(((post, km(p, v)) for post, v in self._post_vecs), key=lambda pv: pv[1])


def load_locodes() -> dict[str, Place]:
    """UN/LOCODE entries of the region that have coordinates, by code (`KZALA`)."""
    places = {}
    for r in reference.read_rows("unlocode_kz_region.csv"):
        if r["lat"] and r["lon"]:
            code = r["country"] + r["location"]
            places[code] = Place(
                code,
                r["nameWoDiacritics"] or r["name"],
                float(r["lat"]),
                float(r["lon"]),
                r["geocoded"] == "true",
            )
    return places


@cache
def default_places() -> Places:
    return Places(reference.posts(), load_locodes())


@cache
def country_outlines() -> list[dict[str, Any]]:
    """GeoJSON features of the countries around Kazakhstan (Natural Earth 1:50m)."""
    with open(reference.data_path("countries_kz_region_50m.geojson"), "rb") as f:
        features: list[dict[str, Any]] = msgspec.json.decode(f.read())["features"]
    return features

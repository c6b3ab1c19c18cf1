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
from keruen.jurisdiction import Jurisdiction
from keruen.reference import Post
from keruen.settings import get_settings
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
        # a post's own location code (`XXAB1` of `XXAB1-RAIL`) names it as a waypoint too
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
    """UN/LOCODE entries of the region with plausible coordinates, by code (`KZALA`).

    A few source rows place a location outside its own country (`KZAKS` Aksay at 36°N in
    Afghanistan; some with a latitude of 92° or no longitude); they are left out, so such
    a waypoint falls back to the border post of that code, or is reported as unresolved.
    """
    boxes = country_boxes()
    places = {}
    for r in reference.read_rows(get_settings().jurisdiction.locodes_file):
        if not (r["lat"] and r["lon"]):
            continue
        code, lat, lon = r["country"] + r["location"], float(r["lat"]), float(r["lon"])
        if _plausible(lat, lon, boxes.get(r["country"])):
            places[code] = Place(
                code, r["nameWoDiacritics"] or r["name"], lat, lon, r["geocoded"] == "true"
            )
    return places


Box = tuple[float, float, float, float]  # south, north, west, east


def _plausible(lat: float, lon: float, box: Box | None, margin: float = 0.5) -> bool:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also False for NaN
        return False
    s, n, w, e = box or (-90.0, 90.0, -180.0, 180.0)
    return s - margin <= lat <= n + margin and w - margin <= lon <= e + margin


def country_boxes() -> dict[str, Box]:
    """The bounding box of each country outline, by ISO alpha-2 code."""
    boxes = {}
    for feat in country_outlines():
        g = feat["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        pts = [p for poly in polys for ring in poly for p in ring]
        lons, lats = [p[0] for p in pts], [p[1] for p in pts]
        boxes[feat["properties"]["iso_a2"]] = (min(lats), max(lats), min(lons), max(lons))
    return boxes


def default_places() -> Places:
    """The home country's posts and the region's UN/LOCODE places."""
    return _places(get_settings().jurisdiction)


@cache
def _places(home: Jurisdiction) -> Places:
    return Places(home.posts, load_locodes())


def country_outlines() -> list[dict[str, Any]]:
    """GeoJSON features of the countries around the home country (Natural Earth 1:50m)."""
    return _outlines(get_settings().jurisdiction.outlines_file)


@cache
def _outlines(name: str) -> list[dict[str, Any]]:
    with open(reference.data_path(name), "rb") as f:
        features: list[dict[str, Any]] = msgspec.json.decode(f.read())["features"]
    return features

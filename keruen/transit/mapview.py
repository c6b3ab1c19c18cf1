"""A self-contained HTML map of one movement: inline SVG, no tiles, no scripts, no network.

Drawn in a Lambert conformal conic projection (standard parallels 42°N and 54°N, chosen for
the 40-55°N of Central Asia's largest country), so the corridor band, drawn as a stroke
`2 x corridor_km` wide, keeps its true width within about 1 % (0.7 % as far south as 39°N).
Country outlines are Natural Earth 1:50m.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from math import cos, log, pi, pow, radians, sin, tan
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from keruen.settings import get_settings
from keruen.transit.corridor import Corridor
from keruen.transit.geo import EARTH_KM, densify, detour_outline, to_latlon
from keruen.transit.model import Entry, Finding
from keruen.transit.places import Places, country_outlines, default_places

if TYPE_CHECKING:
    from keruen.transit.service import MovementDetail

MAX_W, MAX_H = 960, 760  # the map fits this box, keeping the projection's proportions
SEVERITY_COLOURS = {"high": "#c62828", "medium": "#ef6c00", "low": "#607d8b"}


class Lambert:
    """Lambert conformal conic projection to kilometres (y grows northward)."""

    def __init__(self, lat0: float, lon0: float, lat1: float = 42.0, lat2: float = 54.0) -> None:
        p1, p2 = radians(lat1), radians(lat2)
        self.n = log(cos(p1) / cos(p2)) / log(tan(pi / 4 + p2 / 2) / tan(pi / 4 + p1 / 2))
        self.f = cos(p1) * pow(tan(pi / 4 + p1 / 2), self.n) / self.n
        self.rho0 = self._rho(lat0)
        self.lon0 = lon0

    def _rho(self, lat: float) -> float:
        lat = max(-89.5, min(89.5, lat))
        return EARTH_KM * self.f / pow(tan(pi / 4 + radians(lat) / 2), self.n)

    def __call__(self, lat: float, lon: float) -> tuple[float, float]:
        dlon = (lon - self.lon0 + 180) % 360 - 180
        theta = self.n * radians(dlon)
        rho = self._rho(lat)
        return rho * sin(theta), self.rho0 - rho * cos(theta)

    def box(self, south: float, west: float, north: float, east: float) -> tuple[float, ...]:
        """The projected bounds (x0, y0, x1, y1) of a latitude/longitude box: meridians are
        straight and parallels arcs about the central meridian, so its corners and the arcs'
        points on that meridian bound it."""
        mid = min(max(self.lon0, west), east)
        pts = [self(lat, lon) for lat in (south, north) for lon in (west, east, mid)]
        xs, ys = [x for x, _ in pts], [y for _, y in pts]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True, slots=True)
class Frame:
    """The projection plus the pixel window that holds every point of interest."""

    proj: Lambert
    x0: float
    y1: float
    px_per_km: float
    width: int
    height: int

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        x, y = self.proj(lat, lon)
        return (x - self.x0) * self.px_per_km, (self.y1 - y) * self.px_per_km

    def may_show(self, bounds: Bounds, margin: float = 50) -> bool:
        """Whether anything within these latitude/longitude bounds can fall on the map."""
        x0, y0, x1, y1 = self.proj.box(*bounds)
        pad = margin / self.px_per_km
        top = self.y1 - (self.height / self.px_per_km)
        right = self.x0 + self.width / self.px_per_km
        return x1 > self.x0 - pad and x0 < right + pad and y1 > top - pad and y0 < self.y1 + pad

    def visible(self, pts: Sequence[tuple[float, float]], margin: float = 50) -> bool:
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return (
            max(xs) > -margin
            and min(xs) < self.width + margin
            and max(ys) > -margin
            and min(ys) < self.height + margin
        )


def frame_for(points: Sequence[tuple[float, float]], pad_km: float = 150) -> Frame:
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    proj = Lambert((min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2)
    xy = [proj(lat, lon) for lat, lon in points]
    x0, x1 = min(x for x, _ in xy) - pad_km, max(x for x, _ in xy) + pad_km
    y0, y1 = min(y for _, y in xy) - pad_km, max(y for _, y in xy) + pad_km
    scale = min(MAX_W / (x1 - x0), MAX_H / (y1 - y0))
    return Frame(proj, x0, y1, scale, round((x1 - x0) * scale), round((y1 - y0) * scale))


def _path(pts: Iterable[tuple[float, float]], close: bool = False) -> str:
    out, last = [], None
    for x, y in pts:
        if last is None or abs(x - last[0]) + abs(y - last[1]) >= 0.8:  # drop sub-pixel steps
            out.append(f"{'M' if last is None else 'L'}{x:.1f},{y:.1f}")
            last = (x, y)
    return "".join(out) + ("Z" if close and out else "")


Bounds = tuple[float, float, float, float]  # south, west, north, east in degrees


@dataclass(frozen=True, slots=True)
class Ring:
    """One outline ring as arrays (projected all at once) and its bounds (to skip the rings
    off the map without projecting them)."""

    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    bounds: Bounds


def _ring_of(points: Sequence[Sequence[float]]) -> Ring:
    a = np.asarray(points, dtype=np.float64)
    lon, lat = a[:, 0], a[:, 1]
    return Ring(lat, lon, (float(lat.min()), float(lon.min()), float(lat.max()), float(lon.max())))


def _outlines(
    features: Sequence[dict[str, Any]],
) -> tuple[tuple[dict[str, Any], tuple[Ring, ...]], ...]:
    out = []
    for feat in features:
        g = feat["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        out.append((feat["properties"], tuple(_ring_of(r) for poly in polys for r in poly if r)))
    return tuple(out)


def _shipped() -> tuple[tuple[dict[str, Any], tuple[Ring, ...]], ...]:
    """The shipped country outlines around the home country (Natural Earth 1:50m)."""
    return _shipped_from(get_settings().jurisdiction.outlines_file)


@cache
def _shipped_from(name: str) -> tuple[tuple[dict[str, Any], tuple[Ring, ...]], ...]:
    """Read and turned into arrays once per process and outlines file (`name` is what the
    home country's settings name: `country_outlines` reads that file)."""
    return _outlines(country_outlines())


def _countries(fr: Frame, outlines: Sequence[tuple[dict[str, Any], Sequence[Ring]]]) -> str:
    parts = []
    for props, rings in outlines:
        d = "".join(_ring(fr, ring) for ring in rings if fr.may_show(ring.bounds))
        if d:
            home = " home" if props.get("iso_a2") == get_settings().jurisdiction.home else ""
            parts.append(
                f'<path class="country{home}" d="{d}"><title>{escape(props["name"])}</title></path>'
            )
    return f'<g id="countries">{"".join(parts)}</g>'


def _ring(fr: Frame, ring: Ring, close: bool = True) -> str:
    """A ring as a path, projected at once (Lambert.__call__ and Frame.xy on arrays); of
    consecutive points in the same 0.8-pixel cell only the first is kept."""
    p, k = fr.proj, fr.px_per_km
    theta = p.n * np.radians((ring.lon - p.lon0 + 180) % 360 - 180)
    rho = (
        EARTH_KM
        * p.f
        / np.power(np.tan(pi / 4 + np.radians(np.clip(ring.lat, -89.5, 89.5)) / 2), p.n)
    )
    x = (rho * np.sin(theta) - fr.x0) * k
    y = (fr.y1 - p.rho0 + rho * np.cos(theta)) * k
    margin = 50
    if x.max() < -margin or x.min() > fr.width + margin:
        return ""
    if y.max() < -margin or y.min() > fr.height + margin:
        return ""
    cx, cy = np.floor(x / 0.8), np.floor(y / 0.8)
    keep = np.ones(len(x), dtype=bool)
    keep[1:] = (cx[1:] != cx[:-1]) | (cy[1:] != cy[:-1])
    xs, ys = x[keep].tolist(), y[keep].tolist()
    head = f"M{xs[0]:.1f},{ys[0]:.1f}"
    rest = "".join([f"L{a:.1f},{b:.1f}" for a, b in zip(xs[1:], ys[1:], strict=True)])
    return head + rest + ("Z" if close else "")


def _labels(fr: Frame, outlines: Sequence[tuple[dict[str, Any], Sequence[Ring]]]) -> str:
    """Each country's code at the first of its inland points that falls well inside the map."""
    out = []
    for props, _ in outlines:
        code = props.get("iso_a2", "")
        for lat, lon in LABEL_AT.get(code, ()):
            x, y = fr.xy(lat, lon)
            if 30 < x < fr.width - 30 and 30 < y < fr.height - 30:
                out.append(f'<text class="cc" x="{x:.0f}" y="{y:.0f}">{code}</text>')
                break
    return "".join(out)


LABEL_AT: dict[str, list[tuple[float, float]]] = {
    "KZ": [  # label positions of every country on the map (not the home)
        (48.5, 67.0),
        (47.0, 75.0),
        (50.0, 80.0),
        (45.0, 60.0),
        (51.5, 71.0),
        (44.5, 70.0),
    ],
    "RU": [
        (55.0, 60.0),
        (56.0, 70.0),
        (55.5, 80.0),
        (53.5, 50.0),
        (56.0, 48.0),
        (52.5, 86.0),
        (46.0, 45.0),
    ],
    "CN": [(42.0, 86.0), (45.5, 87.0), (40.0, 80.0), (44.0, 84.0)],
    "UZ": [(41.5, 63.5), (42.5, 60.0), (40.8, 71.5), (43.0, 58.5)],
    "KG": [(41.5, 74.5), (42.3, 73.0), (41.0, 77.0)],
    "TM": [(39.0, 59.0), (40.5, 56.0)],
    "MN": [(47.0, 98.0), (48.0, 92.0)],
    "TJ": [(38.7, 71.0)],
    "AF": [(34.0, 66.0)],
    "IR": [(33.0, 54.0)],
    "AZ": [(40.3, 47.7)],
    "GE": [(42.2, 43.5)],
}


def _text(fr: Frame, x: float, y: float, cls: str, text: str) -> str:
    """A label right of its point, or left of it near the map's right edge."""
    if x > fr.width - 180:
        return f'<text class="{cls}" x="{x - 8:.0f}" y="{y:.0f}" text-anchor="end">{text}</text>'
    return f'<text class="{cls}" x="{x + 8:.0f}" y="{y:.0f}">{text}</text>'


@cache
def _graticule_lines() -> tuple[Ring, ...]:
    """Parallels every 5 degrees from 30 to 70 N over 20-130 E, and meridians between them."""
    lines = [[(lon, lat) for lon in range(20, 131)] for lat in range(30, 71, 5)]
    lines += [[(lon, lat) for lat in range(30, 71)] for lon in range(20, 131, 5)]
    return tuple(_ring_of(line) for line in lines)


def _graticule(fr: Frame) -> str:
    d = "".join(_ring(fr, line, close=False) for line in _graticule_lines())
    return f'<path id="graticule" d="{d}"/>'


def _corridor(fr: Frame, c: Corridor) -> str:
    vecs = [p.vec for p in c.places]
    line = _path(fr.xy(*to_latlon(v)) for v in densify(vecs))
    band = (
        f'<path id="corridor" d="{line}" stroke-width="{2 * c.width_km * fr.px_per_km:.1f}">'
        f"<title>corridor: {escape(c.kind)}</title></path>"
    )
    detours = "".join(
        _path((fr.xy(*to_latlon(v)) for v in detour_outline(leg, c.detour_ratio)), close=True)
        for leg in c.legs
        if leg.length > 0 and c.detour_ratio > 1
    )
    marks = "".join(_waypoint(fr, p.code, p.lat, p.lon) for p in c.places[1:-1])
    return (
        f'<path id="detour" d="{detours}"/>{band}<path id="centre" d="{line}"/>'
        f'<g id="waypoints">{marks}</g>'
    )


def _waypoint(fr: Frame, code: str, lat: float, lon: float) -> str:
    x, y = fr.xy(lat, lon)
    return f'<circle class="wp" cx="{x:.1f}" cy="{y:.1f}" r="4"/>' + _text(
        fr, x, y - 6, "wpl", escape(code)
    )


def _posts(fr: Frame, places: Places, roles: dict[str, str]) -> str:
    out = []
    for code, post in places.posts.items():
        x, y = fr.xy(post.lat, post.lon)
        if not (0 <= x <= fr.width and 0 <= y <= fr.height):
            continue
        role = roles.get(code, "")
        size = 9 if role else 5
        tip = f"{code} {post.name} ({post.neighbour or post.mode}) {role}"
        out.append(
            f'<rect class="post {role}" x="{x - size / 2:.1f}" y="{y - size / 2:.1f}" '
            f'width="{size}" height="{size}"><title>{escape(tip)}</title></rect>'
        )
        if role:
            out.append(_text(fr, x, y + 4, "pl", f"{escape(post.name)} · {escape(role)}"))
    return f'<g id="posts">{"".join(out)}</g>'


def _track(fr: Frame, timeline: Sequence[Entry]) -> str:
    pings = [e for e in timeline if e.type == "seal_ping"]
    path = _path(fr.xy(e.data["lat"], e.data["lon"]) for e in pings)
    dots = "".join(_ping(fr, e) for e in pings)
    return f'<path id="track" d="{path}"/><g id="pings">{dots}</g>'


def _ping(fr: Frame, e: Entry) -> str:
    d = e.data
    x, y = fr.xy(d["lat"], d["lon"])
    cls = "after" if d.get("after_close") else "off" if d.get("on_corridor") is False else "on"
    if d.get("state", "intact") != "intact" or d.get("code"):
        cls += " alarm"
    tip = (
        f"{d['seal']} {e.public()['time']} {d.get('state', '')} {d.get('code') or ''} "
        f"{d.get('corridor_km', d.get('exit_km', ''))} km"
    )
    return (
        f'<circle class="ping {cls}" cx="{x:.1f}" cy="{y:.1f}" r="3.5">'
        f"<title>{escape(tip)}</title></circle>"
    )


def finding_point(f: Finding, places: Places) -> tuple[float, float] | None:
    """Where a finding happened, when its facts say."""
    if isinstance(f.facts.get("lat"), float | int) and isinstance(f.facts.get("lon"), float | int):
        return float(f.facts["lat"]), float(f.facts["lon"])
    post = places.post(str(f.facts.get("post", "")))
    return (post.lat, post.lon) if post else None


def _findings(fr: Frame, found: Sequence[Finding], places: Places) -> str:
    """Numbered markers (as in the list beside the map), nudged apart where they would overlap."""
    out: list[str] = []
    placed: list[tuple[float, float]] = []
    for i, f in enumerate(found, 1):
        where = finding_point(f, places)
        if where is None:
            continue
        px, py = fr.xy(*where)
        x, y = px + 16, py - 16  # beside the spot, with a leader, so the ping stays visible
        while any(abs(x - qx) < 18 and abs(y - qy) < 18 for qx, qy in placed):
            x += 20
        placed.append((x, y))
        colour = SEVERITY_COLOURS.get(f.severity, "#333")
        out.append(
            f'<g class="finding"><line x1="{px:.1f}" y1="{py:.1f}" x2="{x:.1f}" y2="{y:.1f}"/>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="10" fill="{colour}"/>'
            f'<text x="{x:.1f}" y="{y + 4:.1f}">{i}</text>'
            f"<title>{escape(f.kind)}: {escape(f.explanation)}</title></g>"
        )
    return f'<g id="findings">{"".join(out)}</g>'


def _scale_bar(fr: Frame) -> str:
    km = next(k for k in (1000, 500, 200, 100, 50) if k * fr.px_per_km <= fr.width / 4)
    w, y = km * fr.px_per_km, fr.height - 20
    return (
        f'<g id="scale"><rect x="20" y="{y - 4}" width="{w:.1f}" height="6"/>'
        f'<text x="20" y="{y - 10}">{km} km</text></g>'
    )


def _roles(view: dict[str, Any], timeline: Sequence[Entry]) -> dict[str, str]:
    roles = {e.data["post"]: "checkpoint" for e in timeline if e.type == "checkpoint"}
    roles[view["entry_post"]] = "entry"
    roles[view["exit_post"]] = "declared exit"
    if view["exited_at"] and view["exited_at"] != view["exit_post"]:
        roles[view["exited_at"]] = "actual exit"
    return roles


def _interesting(
    c: Corridor,
    timeline: Sequence[Entry],
    found: Sequence[Finding],
    places: Places,
    roles: dict[str, str],
) -> list[tuple[float, float]]:
    pts = [(p.lat, p.lon) for p in c.places]
    pts += [(e.data["lat"], e.data["lon"]) for e in timeline if "lat" in e.data]
    pts += [(p.lat, p.lon) for code in roles if (p := places.post(code))]
    pts += [pt for f in found if (pt := finding_point(f, places))]
    return pts


def svg(
    view: dict[str, Any],
    corridor: Corridor,
    timeline: Sequence[Entry],
    found: Sequence[Finding],
    places: Places,
    features: Sequence[dict[str, Any]] | None = None,
    style: str = "",
) -> str:
    """The map of one movement as an SVG element (with its own `<style>` when given); the
    country outlines are the shipped ones unless `features` are given."""
    roles = _roles(view, timeline)
    fr = frame_for(_interesting(corridor, timeline, found, places, roles))
    outlines = _shipped() if features is None else _outlines(features)
    body = "".join(
        (
            _graticule(fr),
            _countries(fr, outlines),
            _labels(fr, outlines),
            _corridor(fr, corridor),
            _posts(fr, places, roles),
            _track(fr, timeline),
            _findings(fr, found, places),
            _scale_bar(fr),
        )
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {fr.width} {fr.height}" '
        f'width="{fr.width}" height="{fr.height}" role="img" '
        f'aria-label="map of transit {escape(view["mrn"])}">'
        f"{f'<style>{style}</style>' if style else ''}"
        f'<rect id="sea" width="{fr.width}" height="{fr.height}"/>{body}</svg>'
    )


# the map's own rules: the standalone page and the dashboard's transit screen both use them
MAP_STYLE = """
#sea{fill:#eef3f7}
.country{fill:#f4f1ea;stroke:#9e9e9e;stroke-width:.7}.country.home{fill:#fffbe6;stroke:#6d6d6d}
#graticule{fill:none;stroke:#d5dde3;stroke-width:.5}.cc{font-size:13px;fill:#9e9e9e;
text-anchor:middle;font-weight:600;letter-spacing:1px}
#corridor{fill:none;stroke:#1e88e5;stroke-opacity:.16;stroke-linecap:round;stroke-linejoin:round}
#detour{fill:#1e88e5;fill-opacity:.04;stroke:#1e88e5;stroke-opacity:.35;stroke-dasharray:4 4}
#centre{fill:none;stroke:#1e88e5;stroke-width:1.2;stroke-dasharray:6 4}
.wp{fill:#fff;stroke:#1e88e5;stroke-width:2}.wpl,.pl{font-size:11px;fill:#37474f}
.post{fill:#9e9e9e}.post.entry{fill:#2e7d32}.post.declared.exit,.post.declared{fill:#1565c0}
.post.actual{fill:#c62828}.post.checkpoint{fill:#6a1b9a}
#track{fill:none;stroke:#546e7a;stroke-width:1}.ping.on{fill:#1e88e5}.ping.off{fill:#e53935}
.ping.after{fill:#ff9800}.ping.alarm{stroke:#000;stroke-width:2}
.finding text{fill:#fff;font-size:11px;font-weight:700;text-anchor:middle}
.finding circle{stroke:#fff;stroke-width:1.5}.finding line{stroke:#333;stroke-width:1}
#scale rect{fill:#37474f}#scale text{font-size:11px}
"""

STYLE = (
    """
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}.state{padding:2px 8px;border-radius:10px;color:#fff;
background:#455a64;font-size:13px}.state.diverted,.state.overdue{background:#c62828}
.state.exited{background:#2e7d32}.wrap{display:flex;gap:16px;align-items:flex-start}
svg{border:1px solid #bbb;background:#fff;flex:none}"""
    + MAP_STYLE
    + """
aside{min-width:300px;max-width:420px}table{border-collapse:collapse}td{padding:1px 8px 1px 0;
vertical-align:top}td:first-child{color:#666}ol{padding-left:20px}li{margin-bottom:8px}
.sev{font-size:11px;padding:0 6px;border-radius:8px;color:#fff}
.legend span{display:inline-block;margin-right:10px}.dot{display:inline-block;width:10px;
height:10px;border-radius:5px;margin-right:4px;vertical-align:middle}
"""
)


def _facts_table(view: dict[str, Any]) -> str:
    rows = [
        ("declared", view["declared"]),
        ("deadline", view["deadline"]),
        ("entry", view["entry_post"]),
        ("declared exit", view["exit_post"]),
        ("exited at", view["exited_at"] or "—"),
        ("destination", view["destination"]),
        ("seals", ", ".join(view["seals"]) or "—"),
        ("mass", f"{view['mass_kg']} kg"),
        ("pings", view["pings"]),
        ("corridor", view["corridor"]),
    ]
    return (
        "<table>"
        + "".join(f"<tr><td>{k}</td><td>{escape(str(v))}</td></tr>" for k, v in rows)
        + "</table>"
    )


def _finding_list(found: Sequence[Finding]) -> str:
    if not found:
        return "<p>No findings.</p>"
    items = "".join(
        f'<li><span class="sev" style="background:{SEVERITY_COLOURS.get(f.severity, "#333")}">'
        f"{f.severity}</span> <b>{escape(f.kind)}</b><br>{escape(f.explanation)}</li>"
        for f in found
    )
    return f'<ol id="finding-list">{items}</ol>'


LEGEND = (
    '<p class="legend"><span><i class="dot" style="background:#1e88e5"></i>ping in '
    'corridor</span><span><i class="dot" style="background:#e53935"></i>off corridor</span>'
    '<span><i class="dot" style="background:#ff9800"></i>after exit</span><span>■ post'
    "</span><span>dashed: detour limit</span></p>"
)


def page(view: dict[str, Any], map_svg: str, found: Sequence[Finding]) -> str:
    """The whole HTML document: map, movement facts and findings (numbered as on the map)."""
    state = escape(view["state"])
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Transit {escape(view['mrn'])}</title><style>{STYLE}</style></head><body>"
        f'<h1>Transit {escape(view["mrn"])} <span class="state {state}">{state}</span></h1>'
        f'{LEGEND}<div class="wrap">{map_svg}<aside>{_facts_table(view)}'
        f"<h2>Findings</h2>{_finding_list(found)}</aside></div>"
        f"<p><small>Outlines: Natural Earth 1:50m. Posts: keruen/data/"
        f"{get_settings().jurisdiction.posts_file}. Generated by Keruen.</small></p></body></html>"
    )


def render(detail: MovementDetail, places: Places | None = None) -> str:
    """The self-contained HTML map of a movement (what `keruen transit map` writes)."""
    places = places or default_places()
    view = detail.view.public()
    found = detail.findings
    map_svg = svg(view, detail.corridor, detail.timeline, found, places)
    return page(view, map_svg, found)


def figure(detail: MovementDetail, places: Places | None = None) -> str:
    """The map of a movement as one SVG element carrying its own style: for the dashboard's
    transit screen, which shows the facts, timeline and findings in its own language."""
    places = places or default_places()
    view = detail.view.public()
    return svg(
        view,
        detail.corridor,
        detail.timeline,
        detail.findings,
        places,
        None,
        MAP_STYLE,
    )

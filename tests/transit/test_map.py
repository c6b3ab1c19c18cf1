"""The map: what the HTML holds, and what headless Chromium actually draws from it.

The Chromium test runs when Debian's chromium (/usr/bin/chromium) and the Python
`playwright` package are installed, and is skipped otherwise; CI installs both.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

from keruen.ledger.rules import micros
from keruen.model.validate import parse
from keruen.transit import mapview
from keruen.transit.service import MovementDetail, view
from keruen.transit.tracker import Tracker
from tests.transit.scenarios import CASES

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
HAVE_PLAYWRIGHT = importlib.util.find_spec("playwright") is not None
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def detail_of(name: str) -> MovementDetail:
    case = next(c for c in CASES if c.name.startswith(name))
    tracker = Tracker(timeline_for=("M1",))
    events = sorted((parse(json.dumps(e)).event for e in case.events), key=lambda e: e.time)
    for e in events:
        tracker.feed(e)
    now = micros(events[-1].time)
    m = tracker.movements["M1"]
    found = tracker.findings(now)
    return MovementDetail(view(m, now, len(found)), {}, m.corridor, m.timeline or [], found)


@pytest.fixture(scope="module")
def diverted_html() -> str:
    return mapview.render(detail_of("declared to Uzbekistan"))


def test_html_holds_outlines_corridor_pings_posts_findings(diverted_html: str) -> None:
    html = diverted_html
    assert len(re.findall(r'<path class="country', html)) >= 4  # KZ, RU, KG, UZ, CN in view
    assert 'class="country home"' in html  # Kazakhstan
    assert re.search(r'<path id="corridor" d="M[\d.]+,[\d.]+L', html)
    assert html.count('class="ping on') > 0 and html.count('class="ping off') > 0
    assert "Kyzyl Zhar · actual exit" in html and "Zhibek Zholy · declared exit" in html
    assert html.count('<g class="finding">') == 2
    assert "<script" not in html and "https://" not in html


def test_points_land_where_they_belong() -> None:
    """Projection sanity: north is up, east is right, the corridor band is 100 km wide."""
    fr = mapview.frame_for([(43.0, 70.0), (55.0, 80.0)])
    (x1, y1), (x2, y2) = fr.xy(45.0, 75.0), fr.xy(50.0, 75.0)
    assert y2 < y1 and abs(x2 - x1) < 1  # north is up on the central meridian
    assert fr.xy(45.0, 76.0)[0] > x1  # east is right
    km_per_degree_lat = (y1 - y2) / fr.px_per_km / 5
    assert 110 < km_per_degree_lat < 112.5


@pytest.mark.skipif(not (CHROMIUM and HAVE_PLAYWRIGHT), reason="needs chromium + playwright")
def test_chromium_draws_the_map(diverted_html: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "map.html"
    page_file.write_text(diverted_html, encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(page_file.as_uri())
        box = page.locator("svg").bounding_box()
        corridor = page.locator("#corridor").bounding_box()
        pings = page.locator("circle.ping").count()
        shot = page.locator("svg").screenshot()
        colours = _distinct_colours(page, shot)
        browser.close()
    assert box and box["width"] > 300 and box["height"] > 300
    assert corridor and corridor["width"] > 100  # the band spans the route, not a dot
    assert pings == sum(1 for e in DIVERTED_EVENTS if e["type"] == "seal_ping")
    assert colours > 20  # outlines, fills, band, pings, markers: not a blank image


DIVERTED_EVENTS = next(c for c in CASES if c.name.startswith("declared to Uzbekistan")).events


def _distinct_colours(page: object, png: bytes) -> int:
    """Count colours in a PNG by decoding it in the browser's own canvas (no image library)."""
    script = """async (src) => {
        const img = new Image(); img.src = src; await img.decode();
        const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data; const seen = new Set();
        for (let i = 0; i < d.length; i += 16) seen.add((d[i] << 16) | (d[i+1] << 8) | d[i+2]);
        return seen.size; }"""
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    return int(page.evaluate(script, uri))  # type: ignore[attr-defined]

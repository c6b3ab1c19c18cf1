"""The report: what the files hold, and what headless Chromium draws from the page."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from keruen.cli import app
from tests.analytics.conftest import fill, ledger_events

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
HAVE_PLAYWRIGHT = importlib.util.find_spec("playwright") is not None
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SECTIONS = ("headline", "flows_by_year", "outflows_by_partner", "monthly", "diversion",
            "unit_value_markup", "mirror_KZ_EU27", "roundabout")  # fmt: skip


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from keruen.store import db

    out = tmp_path_factory.mktemp("report")
    rates = out / "rates.csv"
    rates.write_text("currency,date,units_per_usd\nKZT,2024-03,460\n")
    with db.scratch(None) as eng:
        fill(eng, ledger_events())
        r = CliRunner().invoke(app, ["report", "--out", str(out / "r"), "--db", str(eng.url),
                                     "--data", str(out / "x"), "--rates", str(rates)])  # fmt: skip
    assert r.exit_code == 0, r.output
    return out / "r"


def test_the_report_is_one_page_and_every_table_as_csv_and_parquet(report: Path) -> None:
    html = (report / "index.html").read_text()
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert html.count("<svg") == 7  # a chart beside every table but the roundabout one
    for name in SECTIONS:
        assert f"id='{name}'" in html
        assert (report / "tables" / f"{name}.csv").read_text().count("\n") >= 2
        assert pq.read_table(report / "tables" / f"{name}.parquet").num_rows >= 1
    assert "2,720,213,396.48" in html  # the EU → KZ gap of 2022 in the mirror table
    assert "ledger seq 9 hash" in html


@pytest.mark.skipif(not (CHROMIUM and HAVE_PLAYWRIGHT), reason="needs chromium + playwright")
def test_chromium_draws_charts_beside_tables(report: Path, sqlite_engine: Engine) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto((report / "index.html").as_uri())
        charts = page.locator("svg.chart")
        boxes = [charts.nth(i).bounding_box() for i in range(charts.count())]
        bars = page.locator("svg.chart rect[height]").count()
        table = page.locator("#flows_by_year table").bounding_box()
        page.screenshot(path=str(report / "screenshot.png"), full_page=True)
        browser.close()
    assert not errors
    assert len(boxes) == 7 and all(b and b["width"] > 400 and b["height"] > 150 for b in boxes)
    assert bars > 20
    first = boxes[1]
    assert table and first and table["x"] > first["x"] + first["width"] - 1  # beside, not below

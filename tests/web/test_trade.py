"""The trade page's period: the monthly chart (brushed with the vendored-free brush.js, or a
month clicked, or the period form) filters the table and the CSV to the months chosen, and the
figures are the analytics' own, summed over those months."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from keruen.analytics import service
from keruen.analytics.export import export_parquet
from keruen.ingest import ingest_lines
from tests.factory import A, import_, line
from tests.web.conftest import Web

MAY = "55501/010524/0000009/001"


@pytest.fixture
def two_months(web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Web:
    """The seeded March story and one more import in May."""
    monkeypatch.setenv("KERUEN_EXPORT", str(tmp_path / "export"))
    may = {**import_("may1", MAY, holder=A), "time": "2024-05-14T10:00:00+05:00"}
    may["value"] = {"amount": "4321.00", "currency": "USD"}
    assert ingest_lines(web.engine, [line(may)]).rejected == 0
    return web


def expected(web: Web, tmp_path: Path, months: set[str]) -> dict[str, Decimal]:
    """Import value per partner over `months`, from the analytics directly."""
    with web.engine.connect() as conn:
        export_parquet(conn, tmp_path / "check")
    rows = service.trade_figures(
        service.open_source(tmp_path / "check"), ["import"], ["partner", "year", "month"]
    )
    out: dict[str, Decimal] = {}
    for r in rows:
        if f"{r['year']:04d}-{r['month']:02d}" in months:
            out[r["partner"]] = out.get(r["partner"], Decimal(0)) + r["value_usd"]
    return out


def csv_values(text: str) -> dict[str, Decimal]:
    lines = text.strip().splitlines()
    head = lines[0].split(",")
    out = {}
    for row in lines[1:]:
        cells = dict(zip(head, row.split(","), strict=False))
        out[cells["partner"]] = Decimal(cells["value_usd"])
    return out


def test_the_monthly_chart_and_the_period_filter(two_months: Web, tmp_path: Path) -> None:
    web = two_months
    whole = web.get("ana", "/ui/trade?flow=import&by=partner,year")
    assert whole.status_code == 200, whole.text
    periods = re.findall(r'data-period="([^"]+)"', whole.text)
    assert periods == ["2024-03", "2024-05"]
    assert 'src="/ui/static/brush.js"' in whole.text
    for months, query in (
        ({"2024-05"}, "&from=2024-05&to=2024-05"),
        ({"2024-03"}, "&to=2024-04"),
        ({"2024-03", "2024-05"}, ""),
        ({"2024-03", "2024-05"}, "&from=2024-05&to=2024-01"),  # reversed: the same span
    ):
        want = expected(web, tmp_path, months)
        base = f"/ui/trade?flow=import&by=partner,year{query}"
        csv = web.get("ana", base + "&format=csv")
        assert csv.status_code == 200 and csv_values(csv.text) == want, query
        page = web.get("ana", base).text
        assert len(re.findall(r"<tr><td>", page)) == len(want)
    may = web.get("ana", "/ui/trade?flow=import&by=partner,year&from=2024-05&to=2024-05").text
    assert re.search(r'data-period="2024-03"[^>]*class="bar out"', may)
    assert re.search(r'data-period="2024-05"[^>]*class="bar"', may)
    assert "4,321" in may


@pytest.mark.parametrize("bad", ["2024-13", "24-05", "2024-5", "2024-05-01", "<script>"])
def test_a_wrong_period_is_named(two_months: Web, bad: str) -> None:
    r = two_months.get("ana", f"/ui/trade?flow=import&by=partner,year&from={bad}")
    assert r.status_code == 422 and "from" in r.text and "Traceback" not in r.text

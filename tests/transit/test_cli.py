"""The commands, run as a user runs them: JSON out, clear errors, files written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keruen.cli import app
from keruen.ingest import ingest_lines
from keruen.store import db
from tests.transit import factory as f
from tests.transit.scenarios import CASES

runner = CliRunner()
DIVERTED = next(c for c in CASES if c.name.startswith("declared to Uzbekistan"))


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    url = str(tmp_path / "keruen.db")
    report = ingest_lines(db.ready(url), f.lines(DIVERTED.events))
    assert report.rejected == 0
    return url


def keruen(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_posts_json() -> None:
    code, out = keruen("posts", "--json", "--neighbour", "cn")
    posts = json.loads(out)
    assert code == 0 and {p["neighbour"] for p in posts} == {"CN"}
    assert {"KZDOS-RAIL", "KZHOR-ROAD"} <= {p["code"] for p in posts}
    assert all(-90 <= p["lat"] <= 90 and -180 <= p["lon"] <= 180 for p in posts)


def test_check_json(ledger: str) -> None:
    code, out = keruen("transit", "check", "--db", ledger, "--json")
    found = json.loads(out)
    assert code == 0
    assert {x["kind"] for x in found} == {"exit_other_post", "route_deviation"}
    assert all({"mrn", "kind", "time", "facts", "explanation"} <= set(x) for x in found)
    exit_ = next(x for x in found if x["kind"] == "exit_other_post")
    assert exit_["facts"]["toward_russia"] is True and exit_["mrn"] == "M1"


def test_check_as_of_an_earlier_time(ledger: str) -> None:
    code, out = keruen(
        "transit", "check", "--db", ledger, "--json", "--now", "2024-03-01T12:00:00+05:00"
    )
    assert code == 0 and json.loads(out) == []


def test_show_json_and_text(ledger: str) -> None:
    code, out = keruen("transit", "show", "M1", "--db", ledger, "--json")
    detail = json.loads(out)
    assert code == 0 and detail["state"] == "diverted"
    assert detail["timeline"][0]["type"] == "transit_open"
    code, out = keruen("transit", "show", "M1", "--db", ledger)
    assert code == 0 and "diverted" in out and "exit_other_post" in out


def test_list(ledger: str) -> None:
    code, out = keruen("transit", "list", "--db", ledger, "--json")
    assert code == 0 and [(v["mrn"], v["state"], v["findings"]) for v in json.loads(out)] == [
        ("M1", "diverted", 2)
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("transit", "show", "NOPE"), "no transit declaration with MRN 'NOPE'"),
        (("transit", "check", "--now", "tomorrow"), "now: 'tomorrow' is not an RFC 3339 time"),
        (("transit", "check", "--corridor-km", "0"), "corridor-km"),
    ],
)
def test_user_mistakes_are_clear(ledger: str, args: tuple[str, ...], message: str) -> None:
    code, out = keruen(*args, "--db", ledger)
    assert code != 0 and message in out.replace("\n", " ")
    assert "Traceback" not in out


def test_map_writes_a_self_contained_file(ledger: str, tmp_path: Path) -> None:
    target = tmp_path / "m1.html"
    code, out = keruen("transit", "map", "M1", "--db", ledger, "--out", str(target))
    assert "wrote" in out
    html = target.read_text(encoding="utf-8")
    assert code == 0 and "<svg" in html and 'id="corridor"' in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html and "<script" not in html


def test_bench_transit_small() -> None:
    code, out = keruen(
        "bench", "transit", "--movements", "300", "--pings", "2000", "--sample", "20", "--json"
    )
    r = json.loads(out)
    assert code == 0 and r["pings"] == 2000 and r["movements"] == 300
    assert r["pings_per_s"] > 0 and r["naive_pings_per_s"] > 0

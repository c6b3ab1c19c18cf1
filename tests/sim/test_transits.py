"""Transit flows: legitimate movements stay on their corridor and close in time; planted
ones leave by a Russian post, never close, or arrive light."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from keruen.sim import geo, home
from tests.sim.conftest import read_jsonl
from tests.sim.test_geo import _cross_track_km

Events = list[dict[str, Any]]


def _by_mrn(events: Events) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"pings": []})
    seal_of: dict[str, str] = {}
    for e in events:
        if e["type"] == "transit_open":
            out[e["mrn"]]["open"] = e
            seal_of.update(dict.fromkeys(e["seals"], e["mrn"]))
        elif e["type"] in ("transit_close", "checkpoint"):
            out[e["mrn"]][e["type"]] = e
        elif e["type"] == "seal_ping":
            out[seal_of[e["seal"]]]["pings"].append(e)
    return out


def _post(code: str) -> geo.LatLon:
    p = home.posts()[code]
    return p.lat, p.lon


def test_legitimate_transits_stay_on_the_corridor(small: Path, small_events: Events) -> None:
    truth = read_jsonl(small / "truth.jsonl")
    planted = {m for r in truth for m in r["mrns"]}
    movements = _by_mrn(small_events)
    legit = {m: t for m, t in movements.items() if m not in planted}
    assert len(legit) > 20
    for t in legit.values():
        a, b = _post(t["open"]["entry_post"]), _post(t["open"]["exit_post"])
        for p in t["pings"]:
            assert _cross_track_km(a, b, (p["lat"], p["lon"])) < 5, t["open"]["mrn"]
            assert p["state"] == "intact"
        close = t["transit_close"]
        assert close["post"] == t["open"]["exit_post"] and close["seals_intact"]
        assert datetime.fromisoformat(close["time"]) < datetime.fromisoformat(t["open"]["deadline"])
        weighed_in = float(t["checkpoint"]["mass_kg"])
        assert abs(float(close["mass_kg"]) / weighed_in - 1) < 0.005


def test_planted_transits_go_astray(small: Path, small_events: Events) -> None:
    truth = [r for r in read_jsonl(small / "truth.jsonl") if r["kind"] == "transit_diversion"]
    movements = _by_mrn(small_events)
    assert truth
    for r in truth:
        t = movements[r["mrns"][0]]
        close = t.get("transit_close")
        if r["variant"] == "exit_russia":
            assert close and close["post"] != t["open"]["exit_post"]
            assert home.posts()[close["post"]].neighbour == "RU"
        elif r["variant"] == "no_exit":
            assert close is None
        else:
            assert close and not close["seals_intact"]
            assert float(close["mass_kg"]) < 0.85 * float(t["checkpoint"]["mass_kg"])

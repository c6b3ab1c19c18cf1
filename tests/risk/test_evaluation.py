"""The evaluation: recall by value, precision, burden, time to detect, per kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keruen.risk.context import DAY_US
from keruen.risk.errors import BadInput
from keruen.risk.evaluation import Flag, Movement, Scheme, evaluate
from keruen.risk.truth import read

SCHEMES = [
    Scheme("S1", "chpl_direct", 900.0, events=frozenset({"d1"}), batches=frozenset({"B1"})),
    Scheme("S2", "transit_diversion", 100.0, mrns=frozenset({"M1"})),
    Scheme("S3", "sanctioned_buyer", 1000.0, events=frozenset({"d3"}), parties=frozenset({"RU1"})),
]
MOVES = [
    Movement("event", "d1", 0, "red"),
    Movement("transit", "M1", 0, "green"),
    Movement("event", "d3", 0, "green"),
] + [Movement("event", f"ok{n}", 0, "yellow" if n == 0 else "green") for n in range(100)]
TIMES = {"d1": 0, "M1": 0, "d3": 0}


def test_figures() -> None:
    flags = [
        Flag("high_priority_goods", "event", "d1", 2 * DAY_US),
        Flag("unit_value", "batch", "B1", 0),
        Flag("layering", "event", "ok5", 0),
        Flag("sanctioned_party", "party", "RU1", DAY_US),
    ]
    r = evaluate(SCHEMES, flags, MOVES, TIMES)
    waited = evaluate(SCHEMES, flags, MOVES, TIMES, {"yellow": 4.0, "red": 24.0})
    assert waited["burden_detail"]["mean_wait_hours"] == 0.04  # one yellow in 100
    assert r["recall"] == pytest.approx(1900 / 2000)
    assert r["precision"] == pytest.approx(3 / 4)
    assert r["burden"] == pytest.approx(2 / 100)  # ok0 by lane, ok5 by alert
    assert r["burden_detail"] == {
        "share": 0.02,
        "share_outside_random": 0.02,
        "legitimate": 100,
        "flagged": 2,
        "by_alert": 1,
        "by_lane": 1,
        "by_random_selection": 0,
        "mean_wait_hours": 0.0,
    }
    assert r["per_kind"]["chpl_direct"]["days_to_detect"] == {"median": 0.0, "max": 0.0}
    randomly = [Movement("event", "ok0", 0, "yellow", random=True), *MOVES[4:]]
    planned = evaluate(SCHEMES, flags, [*MOVES[:3], *randomly], TIMES)
    assert planned["burden"] == 0.02 and planned["burden_outside_random"] == 0.01  # ok5 only
    assert r["per_kind"]["sanctioned_buyer"]["days_to_detect"]["median"] == 1.0
    assert r["per_kind"]["transit_diversion"]["recall"] == 0.0
    assert r["per_rule"]["layering"] == {"alerts": 1, "tied": 0, "precision": 0.0}


def test_an_alert_ties_only_through_its_subject_kind() -> None:
    r = evaluate(SCHEMES, [Flag("x", "party", "d1", 0)], MOVES, TIMES)
    assert r["precision"] == 0.0 and r["recall"] == 0.0


def test_truth_file_is_read_and_bad_lines_are_named(tmp_path: Path) -> None:
    good = {
        "id": "S1",
        "kind": "k",
        "events": ["e"],
        "batches": [],
        "parties": ["p"],
        "mrns": [],
        "value_usd": "12.50",
    }
    path = tmp_path / "truth.jsonl"
    path.write_text(json.dumps(good) + "\n\n")
    [s] = read(path)
    assert (s.id, s.value_usd, s.events, s.parties) == ("S1", 12.5, {"e"}, {"p"})
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "events": "e"}) + "\n")
    with pytest.raises(BadInput, match="line 2: 'events' must be a list"):
        read(path)
    with pytest.raises(BadInput, match="truth"):
        read(tmp_path / "missing.jsonl")

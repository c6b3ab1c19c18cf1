"""A simulated economy end to end: simulate, ingest, screen, detect, evaluate.

The simulator plants schemes and bait; this checks the detectors find the schemes and leave
the bait alone, on the `small` preset (a few thousand events, seconds).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keruen.bench.detect import simulate
from keruen.ingest import ingest_lines
from keruen.risk import queries, service
from keruen.screening import screen_ledger
from keruen.screening.loaders import ofac_demo
from keruen.screening.store import ensure_builtin, save
from keruen.store import db

KINDS = (
    "chpl_direct",
    "shell_chain",
    "front_reexport",
    "transit_diversion",
    "phantom_stock",
    "sanctioned_buyer",
    "layering",
    "ghost_trade",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any], Path]:
    where = tmp_path_factory.mktemp("sim")
    events = simulate(1, "small", where)
    eng = db.ready(str(where / "k.db"))
    with events.open("rb") as f:
        assert ingest_lines(eng, f).rejected == 0
    with eng.begin() as conn:
        ensure_builtin(conn)
        save(conn, ofac_demo())
    screen_ledger(eng)
    service.detect(eng)
    return eng, service.evaluate(eng, where / "truth.jsonl"), where


def test_detection_on_a_simulated_economy(run: tuple[Any, dict[str, Any], Path]) -> None:
    _, result, _ = run
    assert result["precision"] >= 0.9
    assert result["recall"] >= 0.75
    load = result["burden_detail"]
    assert load["flagged"] - load["by_random_selection"] <= 0.01 * load["legitimate"]
    for kind in KINDS:
        assert result["per_kind"][kind]["detected"] >= 1, kind


def test_every_alert_explains_itself_with_its_identifiers(
    run: tuple[Any, dict[str, Any], Path],
) -> None:
    eng, _, _ = run
    with eng.connect() as conn:
        alerts = queries.alerts(conn, level="all")
    assert alerts
    for a in alerts:
        assert a["explanation"] and 0 < a["score"] <= 1
        cited = a["event_ids"] + a["batches"] + a["tax_ids"] + a["mrns"]
        assert a["subject"] in cited or (a["subject_kind"] == "transit" and a["mrns"]), a


def test_a_rerun_adds_nothing(run: tuple[Any, dict[str, Any], Path]) -> None:
    eng, _, _ = run
    again = service.detect(eng)
    assert (again.alerts_added, again.signals_added) == (0, 0)

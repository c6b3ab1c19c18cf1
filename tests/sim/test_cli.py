"""`keruen simulate` and `keruen bench simulate` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from keruen.cli import app

runner = CliRunner()


def test_simulate_writes_the_four_files_and_a_json_summary(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["events"] > 1000 and summary["scheme_count"] >= 9
    assert {f["figure"] for f in summary["figures"]} >= {"exports to Russia 2022"}
    for name in ("events.jsonl", "truth.jsonl", "bait.jsonl", "world.json"):
        assert (tmp_path / name).stat().st_size > 0


def test_simulate_prints_figures_beside_public_ones(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "exports to Russia 2022" in result.output and "8.780 bn" in result.output


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--preset", "huge"])
    assert result.exit_code == 1
    assert "--preset" in result.output and "unknown preset" in result.output
    assert all(name in result.output for name in ("small", "demo", "year", "national"))
    (tmp_path / "file").write_text("x")
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "file")])
    assert result.exit_code == 1 and "not a directory" in result.output


def test_bench_simulate_prints_a_rate_and_a_baseline() -> None:
    result = runner.invoke(
        app, ["bench", "simulate", "--events", "1500", "--preset", "small", "--json"]
    )
    assert result.exit_code == 0, result.output
    r = json.loads(result.stdout)
    assert r["events"] == 1500 and r["events_per_s"] > 0 and r["baseline_events_per_s"] > 0

"""The screening bench on the real shared material: it runs, it compares like with like, and
it reads nothing from the repository's tests."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import keruen.bench.screening as bench
from keruen.cli import app
from keruen.screening.features import get_algorithm


def test_bench_reads_no_tests_folder() -> None:
    source = Path(bench.__file__).read_text(encoding="utf-8")
    assert '"tests"' not in source and "tests/" not in source


def test_find_shared_beside_the_checkout(shared: Path, tmp_path: Path) -> None:
    assert bench.find_shared(shared.parent / "main") == shared
    assert bench.find_shared(tmp_path) is None or bench.find_shared(tmp_path) != tmp_path


def test_name_bench_compares_like_with_like(shared: Path) -> None:
    alg = get_algorithm()
    row = bench.name_bench(shared / "conformance" / "names" / "nomenklatura", alg, None)
    assert row["pairs"] == 826
    frozen = row["keruen_on_peer_pairs"]["n"]
    assert frozen == row["peer"]["n"] < 826  # the frozen scores cover fewer pairs: said, and
    assert f"on those {frozen}" in row["peer_source"]  # both scored on the same ones
    assert row["keruen"]["precision"] > row["peer"]["precision"]


def test_cli_bench_without_speed(shared: Path) -> None:
    args = ["bench", "screening", "--shared", str(shared), "--skip-speed", "--burden", "300"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    r = json.loads(result.output)
    assert r["algorithm"] == "keruen-v2" and "speed" not in r
    assert r["second_set"]["positives"] == 683 and r["second_set"]["negatives"] == 2000
    assert r["burden"]["names"] > 200 and r["burden"]["rate"] < 0.05
    assert r["transliteration"]["recall"] > 0.9


def test_cli_bench_names_a_missing_shared_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "screening", "--shared", str(tmp_path)])
    assert result.exit_code == 1 and "--shared" in result.output


def test_speed_measures_the_previous_code_beside_the_current_on_one_index(shared: Path) -> None:
    """No synthetic names (the OFAC list alone): the three runs answer the same queries, the
    current and the previous code find the same listed entries, and the ratio is printed."""
    s = bench.speed(1, shared / "data" / "ofac_sdn.csv", brute_sample=2)
    assert [s[k]["exact"] for k in ("current", "previous", "keruen_v1")] == [False, True, True]
    assert s["current"]["algorithm"] == s["previous"]["algorithm"] == "keruen-v2"
    assert s["keruen_v1"]["algorithm"] == "keruen-v1"
    assert s["current"]["queries"] == s["previous"]["queries"] > 500
    assert abs(s["current"]["recall"] - s["previous"]["recall"]) <= 0.002
    assert s["current"]["recall"] >= 0.98 and s["current_vs_previous"] > 0
    assert s["brute_force_sample"]["queries"] == 2 and s["load_average"]

"""Shards: independent slices generated in parallel processes, merged by time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from keruen.ingest import ingest_lines
from keruen.sim.presets import PRESETS
from keruen.sim.run import write_all
from tests.sim.conftest import read_jsonl

NAME = "small-sharded"


@pytest.fixture(scope="module", autouse=True)
def sharded() -> Iterator[None]:
    PRESETS[NAME] = replace(PRESETS["small"], name=NAME, shards=2, kz_companies=160)
    yield
    del PRESETS[NAME]


def test_merged_shards_are_valid_ordered_and_deterministic(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    a = write_all(7, NAME, tmp_path / "a")
    write_all(7, NAME, tmp_path / "b")
    files = ("events.jsonl", "truth.jsonl", "world.json", "partner_exports.csv")
    for name in (*files, "partner_truth.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    events = read_jsonl(tmp_path / "a" / "events.jsonl")
    assert len(events) == a["events"]
    times = [datetime.fromisoformat(e["time"]).timestamp() for e in events]
    assert times == sorted(times)
    assert len({e["id"] for e in events}) == len(events)
    truth = read_jsonl(tmp_path / "a" / "truth.jsonl")
    assert len({r["id"] for r in truth}) == len(truth) == a["scheme_count"]
    with (tmp_path / "a" / "events.jsonl").open("rb") as f:
        assert ingest_lines(sqlite_engine, f).rejected == 0

"""Shared runs of the simulator: the `small` preset of seed 1, written once per session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keruen.sim.run import write_all


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small")
    write_all(1, "small", out)
    return out


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def small_events(small: Path) -> list[dict[str, Any]]:
    return read_jsonl(small / "events.jsonl")

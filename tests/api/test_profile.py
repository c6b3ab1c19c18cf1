"""Where a submit's time goes inside the server (`keruen.api.profile`)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from keruen.api import accounts, create_app
from keruen.api.profile import STAGES, Profile
from tests.api.conftest import SETTINGS
from tests.factory import A, import_


def test_the_slowest_percent_names_the_stage_that_made_it_slow() -> None:
    p = Profile()
    fast = (0.0001, 0.001, 0.0, 0.002, 0.0005, 0.001, 0.0002)
    for _ in range(980):
        p.add(fast)
    slow = (0.0001, 0.001, 0.0, 0.002, 0.0005, 0.040, 0.0002)  # a 40 ms commit
    for _ in range(20):
        p.add(slow)
    s = p.summary()
    assert s["requests"] == 1000
    assert s["slowest_1pct_requests"] == 20  # the slowest bucket holds more than 1 %
    assert abs(s["slowest_1pct_mean_ms"]["commit"] - 40.0) < 0.01
    assert abs(s["mean_ms"]["commit"] - (980 * 1 + 20 * 40) / 1000) < 0.01
    assert 40 < s["server_p99_ms"] * 1.05 < 50 and s["server_p50_ms"] < 6  # 5 % buckets
    assert set(s["mean_ms"]) == set(STAGES)


def test_a_server_with_a_profile_file_writes_it_when_it_stops(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "profile.json"
    settings = dataclasses.replace(SETTINGS, profile_path=str(out))
    with sqlite_engine.begin() as conn:
        accounts.add_user(conn, "olga", "officer")
        key = accounts.create_key(conn, "olga").key
    with TestClient(create_app(sqlite_engine, settings)) as client:
        for n in range(5):
            event = import_(f"P-{n}", f"55501/010124/{n:07d}/002", A)
            r = client.post("/v1/events", json=event, headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 201, r.text
    s = json.loads(out.read_text())
    assert s["requests"] == 5
    assert all(v >= 0 for v in s["mean_ms"].values())

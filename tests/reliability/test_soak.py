"""The 2-minute soak: the API at 200 submits/s on SQLite and on PostgreSQL (a real server on
loopback, an open-loop load). It asserts correctness only: every request answered and
accepted, 0 lost, 0 doubled, memory growth bounded (a generous bound: a leak of a few KiB per
request would pass 100 MiB over 24,000 requests only if it were larger than 4 KiB each).
Latency is printed, never asserted (`keruen bench soak` prints the same figures).

Runs when CI=true (or KERUEN_SOAK=1); `KERUEN_SOAK_SECONDS` shortens it for a local run."""

from __future__ import annotations

import json
import os

import pytest

from keruen.bench.soak import soak
from tests.conftest import BACKENDS, PG_URL

RATE = 200.0
SECONDS = float(os.environ.get("KERUEN_SOAK_SECONDS", "120"))
RSS_GROWTH_BOUND_MB = 100.0

pytestmark = pytest.mark.skipif(
    os.environ.get("CI") != "true" and os.environ.get("KERUEN_SOAK") != "1",
    reason="the 2-minute soak runs on CI (CI=true) or with KERUEN_SOAK=1",
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_soak_at_200_submits_per_second_loses_and_doubles_nothing(backend: str) -> None:
    r = soak(PG_URL if backend == "postgresql" else None, RATE, SECONDS, seed=3)
    shown = {k: v for k, v in r.items() if k != "server_profile"}
    print(json.dumps(shown), json.dumps(r["server_profile"]), sep="\n")
    assert r["requests"] == int(RATE * SECONDS)
    assert r["statuses"] == {"201": r["requests"]}  # every request answered, and accepted
    assert r["lost"] == r["doubled"] == 0
    assert r["stored"] == r["expected_stored"]
    assert r["rss_growth_mb"] < RSS_GROWTH_BOUND_MB, r["rss_growth_mb"]

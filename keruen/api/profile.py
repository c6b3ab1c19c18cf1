"""Where a submit's time goes inside the server, stage by stage, in constant memory.

The writer (`keruen.api.writer`) times each request it answers: `parse` (the route reading the
body, from its first line to handing the job over), `queue` (waiting for the writer),
`others` (the writer ingesting other submitters' groups first), `transaction` (the snapshot,
judging and writes of the group's transaction, up to its audit entries), `audit` (writing
them), `commit` (the commit, to `ingest_lines` returning) and `answer` (splitting the
outcomes and waking the request). Figures go into log-spaced histograms, so memory stays
the same however long a server runs; `summary` gives each stage's p50 and p99 and the mean
of each stage over the slowest 1 % of requests (what makes the p99).

Off unless `KERUEN_API_PROFILE` names a file: the server writes the summary there when it
stops (`keruen bench soak` reads it).
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any

STAGES = ("parse", "queue", "others", "transaction", "audit", "commit", "answer")
_STEP = math.log(1.05)  # buckets 5 % apart
_BUCKETS = 600  # 1 µs * 1.05**600: beyond any request's time


def _bucket(seconds: float) -> int:
    us = seconds * 1e6
    return 0 if us <= 1 else min(_BUCKETS - 1, int(math.log(us) / _STEP))


def _value_ms(bucket: int) -> float:
    return math.exp((bucket + 0.5) * _STEP) / 1000


class Profile:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.groups = 0
        self.stage = [[0] * _BUCKETS for _ in STAGES]  # per-stage histograms
        self.total = [0] * _BUCKETS  # histogram of the server-side total
        self.sums = [[0.0] * len(STAGES) for _ in range(_BUCKETS)]  # stage sums by total's bucket

    def add(self, stages: tuple[float, ...]) -> None:
        """One request's stage times (seconds, in `STAGES` order)."""
        with self._lock:
            self.requests += 1
            b = _bucket(sum(stages))
            self.total[b] += 1
            sums = self.sums[b]
            for i, value in enumerate(stages):
                self.stage[i][_bucket(value)] += 1
                sums[i] += value

    def group(self) -> None:
        with self._lock:
            self.groups += 1

    def summary(self) -> dict[str, Any]:
        with self._lock:
            n = self.requests
            if not n:
                return {"requests": 0}
            out: dict[str, Any] = {
                "requests": n,
                "groups": self.groups,
                "requests_per_group": round(n / max(1, self.groups), 2),
                "server_p50_ms": round(_percentile(self.total, 0.50), 2),
                "server_p99_ms": round(_percentile(self.total, 0.99), 2),
            }
            for name, hist in zip(STAGES, self.stage, strict=True):
                out[f"{name}_p50_ms"] = round(_percentile(hist, 0.50), 3)
                out[f"{name}_p99_ms"] = round(_percentile(hist, 0.99), 3)
            out["mean_ms"] = _means(self.sums, range(_BUCKETS), n)
            slow, count = [], 0
            for b in range(_BUCKETS - 1, -1, -1):  # the slowest buckets until they hold 1 %
                if self.total[b]:
                    slow.append(b)
                    count += self.total[b]
                    if count >= max(1, n // 100):
                        break
            out["slowest_1pct_requests"] = count
            out["slowest_1pct_mean_ms"] = _means(self.sums, slow, count)
            return out

    def dump(self, path: str) -> None:
        Path(path).write_text(json.dumps(self.summary(), indent=1) + "\n", encoding="utf-8")


def _percentile(hist: list[int], p: float) -> float:
    want, seen = p * sum(hist), 0
    for b, count in enumerate(hist):
        seen += count
        if count and seen >= want:
            return _value_ms(b)
    return 0.0


def _means(sums: list[list[float]], buckets: Any, count: int) -> dict[str, float]:
    totals = [0.0] * len(STAGES)
    for b in buckets:
        for i, value in enumerate(sums[b]):
            totals[i] += value
    pairs = zip(STAGES, totals, strict=True)
    return {name: round(v * 1000 / max(1, count), 3) for name, v in pairs}

"""`keruen bench ui`: the server's time per dashboard screen, and the inbox paging through
100,000 alerts. Requests go through the ASGI app in-process (no network, no browser): what is
measured is the server's work for a page, as the access log's `ms` would show it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from sqlalchemy.engine import Connection

from keruen.risk import store as risk_store
from keruen.risk.model import Alert, refs

RULES = ("high_priority_goods", "fast_reexport", "sanctioned_party", "layering", "unit_value")


def synthetic_alerts(
    n: int, seed: int = 7, start_us: int = 1_700_000_000_000_000
) -> Iterator[Alert]:
    """`n` alerts with many tied scores (the worst case for keyset paging), cited parties and
    batches, spread over a year: volume for the inbox, not detections of anything."""
    rng = random.Random(seed)
    for i in range(n):
        party = f"{100000000000 + rng.randrange(5000):012d}"
        batch = f"55501/010324/{i:07d}/001"
        yield Alert(
            rule=rng.choice(RULES),
            subject_kind="event",
            subject=f"synthetic-{seed}-{i}",
            score=rng.choice((0.55, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 1.0)),
            time_us=start_us + rng.randrange(365 * 86400) * 1_000_000,
            explanation=f"synthetic alert {i} citing batch {batch} via KZHOR-ROAD",
            refs=refs(events=[f"synthetic-{seed}-{i}"], batches=[batch], tax_ids=[party]),
            facts={"hs": ["854231"], "post": "KZHOR-ROAD"},
        )


def add_synthetic_alerts(conn: Connection, n: int, seed: int = 7) -> int:
    """Store `n` synthetic alerts in one detection run; returns how many were added."""
    run = risk_store.start_run(conn, 0, 0)
    added, _ = risk_store.add_alerts(conn, run, list(synthetic_alerts(n, seed)), 0.5)
    return added

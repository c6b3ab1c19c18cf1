"""Outcome summaries kept between requests (SPEC C5): the figures of the outcomes page, computed
once from the stored risks, decisions and passages, and computed again only when those change.

Each summary is stored in `risk_summaries` with the inputs it was computed from: the last
detection run (lanes and stored scores), the last alert (movements alerts name), the last case
action (decisions: precision, confirmed diversions left out of the waits) and the passages at
posts (their last seq, its chain hash and their count: a cancel removes one). A read compares
those with the database's current ones, a handful of primary-key lookups; when any differs,
the summary is computed again and kept. So new decisions, new risks and new passages show at
once, and an unchanged database answers from the kept figures.

- `passage_waits`: every measured wait (`keruen.risk.waits.measured`), from the passages only;
- `waits`: the measured waits of legitimate movements by lane and post (`keruen.risk.waits`);
- `stored`: what the policy view's scenarios are computed from (`keruen.risk.policy.read`);
- `figures`: precision and decisions (`keruen.risk.queries.outcomes`) and the lane counts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from keruen.risk import policy, queries, waits
from keruen.risk import tables as rt
from keruen.risk.store import lane_counts, wall_us
from keruen.store.db import upsert
from keruen.store.port import LedgerReader

log = logging.getLogger("keruen.risk.summaries")

NEEDS = {  # which inputs each summary is computed from
    "passage_waits": ("passages",),
    "waits": ("passages", "run", "actions"),
    "stored": ("run", "alerts", "actions"),
    "figures": ("run", "alerts", "actions"),
}


def inputs(conn: Connection) -> dict[str, Any]:
    """The current state of everything a summary is computed from."""
    p = rt.risk_passages.c
    last, count = conn.execute(sa.select(sa.func.max(p.seq), sa.func.count())).one()
    return {
        "run": conn.scalar(sa.select(sa.func.max(rt.risk_runs.c.id))),
        "alerts": conn.scalar(sa.select(sa.func.max(rt.risk_alerts.c.id))),
        "actions": conn.scalar(sa.select(sa.func.max(rt.risk_case_actions.c.id))),
        "passages": [last, count, LedgerReader(conn).hash_at(last) if last else None],
    }


def _lookup(eng: Engine, name: str) -> tuple[str, Any]:
    """The key of the current inputs of `name`, and the summary kept for them (None: none)."""
    s = rt.risk_summaries.c
    with eng.connect() as conn:
        now = inputs(conn)
        key = json.dumps({k: now[k] for k in NEEDS[name]})
        row = conn.execute(sa.select(s.inputs, s.body).where(s.name == name)).first()
    return key, json.loads(row.body) if row is not None and row.inputs == key else None


def _keep(eng: Engine, name: str, key: str, body: Any) -> None:
    """Keep `body` as the summary `name` for the inputs `key` (read before it was computed,
    so a change that landed meanwhile makes the next read compute it again)."""
    made = {"name": name, "inputs": key, "body": json.dumps(body), "made_us": wall_us()}
    try:
        with eng.begin() as conn:
            upsert(conn, rt.risk_summaries, [made], ("name",))
    except OperationalError as e:  # a writer holds the database: keep it next time
        log.warning("summary %s not kept: %s", name, e)


def _kept(eng: Engine, name: str, compute: Callable[[Connection], Any]) -> Any:
    """The summary `name`, from `risk_summaries` when its inputs are unchanged, else computed
    (and kept for the next read)."""
    key, found = _lookup(eng, name)
    if found is None:
        with eng.connect() as conn:
            found = compute(conn)
        _keep(eng, name, key, found)
    return found


def measured_waits(eng: Engine) -> dict[str, Any]:
    """`keruen.risk.waits.by_lane_and_post`, kept (bring the passages up to date first). The
    waits themselves are kept too, computed again only when the passages change: a decision
    or a detection run regroups them without pairing every passage again."""
    key, found = _lookup(eng, "waits")
    if found is None:
        pairs = _kept(eng, "passage_waits", _pairs)
        with eng.connect() as conn:
            found = waits.by_lane_and_post(conn, [waits.Wait(*w) for w in pairs])
        _keep(eng, "waits", key, found)
    return dict(found)


def _pairs(conn: Connection) -> list[list[Any]]:
    return [[w.mrn, w.post, w.where, w.arrived_us, w.released_us] for w in waits.measured(conn)]


def stored_risks(eng: Engine) -> policy.Stored:
    """`keruen.risk.policy.read`, kept."""
    return policy.Stored.decode(_kept(eng, "stored", lambda c: policy.read(c).encode()))


def figures(eng: Engine) -> dict[str, Any]:
    """Precision, false-positive rate and decisions (`queries.outcomes`), and the lane counts
    of the last detection run, kept."""

    def compute(conn: Connection) -> dict[str, Any]:
        return {"outcomes": queries.outcomes(conn), "lane_counts": lane_counts(conn)}

    found = _kept(eng, "figures", compute)
    counts = [((str(lane), bool(r)), int(n)) for (lane, r), n in found["lane_counts"]]
    return {"outcomes": found["outcomes"], "lane_counts": counts}

"""The risk services every interface calls: detect, assess, pre-check, evaluate.

Each reads what it needs through the adapters (`store`, `sources`), runs the pure core and
writes the outcome in one transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from keruen.errors import NotFound
from keruen.ledger.rules import iso
from keruen.model import events as ev
from keruen.risk import engine as core
from keruen.risk import evaluation, scope, store, truth
from keruen.risk.config import RiskConfig, load
from keruen.risk.context import Context
from keruen.risk.errors import BadInput
from keruen.risk.facts import Facts
from keruen.risk.lanes import Rates, counted, rates
from keruen.risk.precheck import PLANNED, Known, Plan, Verdict, holdings, judge
from keruen.risk.sources import (
    buyer_hits,
    goods_rules,
    load_facts,
    refresh_transit,
    screener,
    screening_warning,
)


@dataclass(frozen=True, slots=True)
class RunReport:
    run_id: int
    now_us: int
    since_us: int
    alerts_added: int
    signals_added: int
    findings: int
    lanes: Rates
    seconds: float
    warning: str | None = None

    def public(self) -> dict[str, object]:
        from keruen.risk.model import iso

        return {
            "run": self.run_id,
            "now": iso(self.now_us),
            "since": iso(self.since_us) if self.since_us else None,
            "alerts_added": self.alerts_added,
            "signals_added": self.signals_added,
            "findings": self.findings,
            "lanes": self.lanes.public(),
            "seconds": round(self.seconds, 2),
            "warning": self.warning,
        }


def detect(
    eng: Engine,
    now_us: int | None = None,
    since_us: int | None = None,
    config: RiskConfig | None = None,
) -> RunReport:
    """Judge the ledger as of `now` (default: its latest event); store new alerts, risks, lanes.

    Reads only what was appended since the last run: the events detection read and transit
    monitoring's tracker are kept in the database between runs (`store.read`,
    `sources.refresh_transit`); the detectors then judge the whole ledger in memory."""
    start = time.perf_counter()
    config = config or load()
    transit = refresh_transit(eng)
    with eng.connect() as conn:
        reading = store.read(conn)
        now = now_us if now_us is not None else reading.latest_us
        ledger = store.load_ledger(conn, now, reading)
        facts = load_facts(conn, now, ledger, transit)
        warning = screening_warning(conn)
    ctx = Context(ledger, facts, config, now, since_us or 0)
    found = core.detect(ctx)
    with eng.begin() as conn:
        run = store.start_run(conn, now, since_us or 0)
        added, signals = store.add_alerts(conn, run, found, config.scoring.alert_min)
        assessment = core.assess(ledger, store.all_alerts(conn), facts, config)
        store.save_assessment(conn, run, assessment)
        store.save_reading(conn, reading)
    return RunReport(
        run,
        now,
        since_us or 0,
        added,
        signals,
        len(found),
        rates(((d.lane, d.random) for d in assessment.lanes.values()), config.lanes),
        time.perf_counter() - start,
        warning,
    )


def precheck(
    eng: Engine,
    batch: str,
    quantity: Decimal,
    buyer: ev.Party,
    holder: str | None = None,
    at_us: int | None = None,
    export: bool = False,
    config: RiskConfig | None = None,
) -> tuple[Plan, Verdict]:
    """The lane and reasons a planned dispatch of `quantity` of `batch` to `buyer` would get,
    as of `at_us` (default: the latest event), by `holder` (default: the largest holder then).

    Reads the batch's lineage and the few facts about its holder and buyer the judgement
    needs (`keruen.risk.scope`), not the whole ledger: the same answer, in milliseconds."""
    config = config or load()
    with eng.connect() as conn:
        now = at_us if at_us is not None else store.latest_us(conn)
        ledger = scope.lineage(conn, batch, now)
        held = holdings(ledger, batch)
        holder = holder or _holder(batch, held, batch in ledger.created_by, now)
        if held.get(holder, 0.0) < float(quantity):
            raise BadInput(
                "quantity",
                f"holder {holder} holds {held.get(holder, 0.0):g} of batch {batch!r}; "
                f"cannot dispatch {quantity}",
            )
        plan = Plan(batch, quantity, holder, buyer, max(now, ledger.latest_us), export)
        subjects = [("batch", b) for b in ledger.ancestors(batch)]
        standing = scope.alerts_about(conn, [*subjects, ("party", holder), ("party", buyer.key)])
        watch = config.watch
        conduit = buyer.country not in watch.destinations and buyer.country in watch.conduits
        known = Known(
            scope.clean_outflows(conn, holder, now),
            conduit and scope.bought_before(conn, buyer, now),
        )
        s = screener(conn)
        hits = buyer_hits(conn, buyer, PLANNED, s)
    facts = Facts(goods_rules(s))
    return plan, judge(ledger, plan, facts, config, standing, hits, known)


def _holder(batch: str, held: dict[str, float], exists: bool, now: int) -> str:
    """The largest holder of the batch; a batch nobody holds any more is not a missing one."""
    if not exists:
        raise NotFound(f"batch {batch!r} does not exist (as of {iso(now)})")
    if not held:
        raise BadInput(
            "batch",
            f"nobody holds any of batch {batch!r} as of {iso(now)}: all of it was dispatched, "
            "exported, processed or written off",
        )
    return max(held, key=lambda h: held[h])


def evaluate(eng: Engine, truth_path: Path, config: RiskConfig | None = None) -> dict[str, Any]:
    """The stored alerts and lanes measured against a simulator's ground truth."""
    config = config or load()
    schemes = truth.read(truth_path)
    with eng.connect() as conn:
        if not store.runs(conn):
            raise BadInput("db", "no detection has run on this database: run `keruen detect`")
        flags = store.flags(conn)
        moves, times = store.movements(conn)
    waits = {str(k): v for k, v in config.lanes.wait_hours.items()}
    result = evaluation.evaluate(schemes, flags, moves, times, waits)
    result["lanes"] = lane_rates(eng, config).public()
    return result


def outcomes(eng: Engine, config: RiskConfig | None = None) -> dict[str, Any]:
    """The outcome figures a dashboard publishes: officers' precision and false-positive rate
    (from case decisions), lane rates and the planned waiting time."""
    from keruen.risk import queries

    with eng.connect() as conn:
        found = queries.outcomes(conn)
    return {**found, "lanes": lane_rates(eng, config).public()}


def lane_rates(eng: Engine, config: RiskConfig | None = None) -> Rates:
    """Lane shares of the movements as of the last detection run, beside the planned ones."""
    config = config or load()
    with eng.connect() as conn:
        return counted(store.lane_counts(conn), config.lanes)

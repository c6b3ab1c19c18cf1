"""Pre-check for declarants: the lane a planned dispatch would get, and why. Pure.

The planned dispatch is judged as if it were the ledger's next event: its goods' provenance
(origin-aware: where and by whom they were made, how they came), the buyer, the parties' and
batches' standing risks. Detectors that need the future (a missing receipt) do not apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from keruen.model import events as ev
from keruen.risk import engine
from keruen.risk.config import RiskConfig
from keruen.risk.context import Context
from keruen.risk.explain import PLANNED
from keruen.risk.facts import Facts, PartyHit
from keruen.risk.lanes import by_risk
from keruen.risk.model import Alert
from keruen.risk.provenance import EPS, trace
from keruen.risk.scoring import History, Risk, by_subject, movement_risk, movement_subjects
from keruen.risk.state import Ledger, build

__all__ = ["PLANNED", "Known", "Plan", "Verdict", "holdings", "judge"]
DETECTORS = ("chpl", "sanctions", "reexport", "origin", "phantom", "layering")


@dataclass(frozen=True, slots=True)
class Plan:
    batch: str
    quantity: Decimal
    holder: str
    buyer: ev.Party
    at_us: int
    export: bool = False  # an export outside the customs union rather than a dispatch


@dataclass(frozen=True, slots=True)
class Known:
    """What the judgement needs from beyond the batch's lineage, when it is given only that
    (`keruen.risk.scope`): the holder's earlier movements received and clean, and whether the
    buyer bought before."""

    clean: int
    buyer_seen: bool


@dataclass(frozen=True, slots=True)
class Verdict:
    lane: str
    risk: float
    alerts: list[Alert]
    reasons: list[str]
    evidence: list[str]


def holdings(ledger: Ledger, batch: str) -> dict[str, float]:
    """Who holds how much of a batch at the ledger's end (replayed, so as of any "now")."""
    stock = trace(ledger).stock
    held = {h: sum(lot.quantity for lot in lots) for (h, b), lots in stock.items() if b == batch}
    return {h: q for h, q in held.items() if q > EPS}


def planned_event(plan: Plan) -> ev.Dispatch:
    cls = ev.Export if plan.export else ev.Dispatch
    return cls(
        id=PLANNED,
        time=datetime.fromtimestamp(plan.at_us / 1_000_000, UTC),
        batch=plan.batch,
        holder=plan.holder,
        quantity=plan.quantity,
        value=ev.Money(amount=Decimal(0), currency="USD"),
        buyer=plan.buyer,
        post="planned",
        document=ev.Document(kind="PRECHECK", number=PLANNED),
    )


def judge(
    ledger: Ledger,
    plan: Plan,
    facts: Facts,
    config: RiskConfig,
    standing: list[Alert],
    buyer_hits: list[PartyHit],
    known: Known | None = None,
) -> Verdict:
    """The lane and reasons of `plan`, given the ledger and the standing alerts. `known`: the
    ledger given is the batch's lineage only, and this is what it lacks (without it, the
    ledger is the whole ledger and the history and earlier buyers come from it)."""
    e = planned_event(plan)
    with_plan = build([*ledger.events, e])
    facts = Facts(facts.goods_rules, [*facts.party_hits, *buyer_hits], [], facts.seals_intact)
    seen = frozenset({plan.buyer.key}) if known is not None and known.buyer_seen else frozenset()
    ctx = Context(
        with_plan, facts, config, plan.at_us, plan.at_us, frozenset({PLANNED}), buyers_seen=seen
    )
    found = engine.detect(ctx, DETECTORS)
    risks = by_subject([*standing, *found])
    history = _history(with_plan, risks) if known is None else History()
    if known is not None:
        history.clean[plan.holder] = known.clean
    move = movement_risk(with_plan, e, risks, facts, config, history)
    return Verdict(
        lane=by_risk(move.score, config.lanes),
        risk=round(move.score, 4),
        alerts=found,
        reasons=_reasons(with_plan, e, risks, found),
        evidence=move.evidence,
    )


def _history(ledger: Ledger, risks: dict[tuple[str, str], Risk]) -> History:
    """Clean, received movements of each holder before the planned one."""
    h = History()
    for e in ledger.outflows:
        if e.id != PLANNED and ("event", e.id) not in risks and ledger.receipts.get(e.id):
            h.clean[e.holder] += 1
    return h


def _reasons(
    ledger: Ledger, e: ev.Dispatch, risks: dict[tuple[str, str], Risk], found: list[Alert]
) -> list[str]:
    """The new findings' explanations, then the standing risks the movement carries."""
    reasons = [a.explanation for a in found]
    for kind, subject in movement_subjects(ledger, e):
        r = risks.get((kind, subject))
        if r is not None and kind != "event":
            reasons.append(f"{kind} {subject} has standing findings: {', '.join(r.rules)}")
    return reasons

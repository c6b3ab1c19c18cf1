"""One risk per subject from its alerts, and per movement with its parties, batch and evidence.

Scores combine as independent evidence (noisy-or: 1 − Π(1 − s)), so two medium findings rank
above one, and a subject's risk never exceeds 1. A movement (dispatch, export, transit) also
carries the risk of its batch and its parties; positive evidence — a clean history of received
movements, intact seal telemetry, documents that agree — takes a share off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import assert_never, cast

from keruen.model import events as ev
from keruen.risk.config import RiskConfig
from keruen.risk.facts import Facts
from keruen.risk.model import Alert
from keruen.risk.state import Ledger

Subject = tuple[str, str]  # (subject kind, identifier)


@dataclass(slots=True)
class Risk:
    """The risk of one subject: its score, the rules behind it, the evidence that lowered it."""

    kind: str
    subject: str
    score: float
    rules: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    raw: float = 0.0  # before positive evidence


def combine(scores: Iterable[float]) -> float:
    keep = 1.0
    for s in scores:
        keep *= 1.0 - min(max(s, 0.0), 1.0)
    return 1.0 - keep


def by_subject(alerts: Iterable[Alert]) -> dict[Subject, Risk]:
    """Risk per subject from every alert and signal about it."""
    grouped: dict[Subject, list[Alert]] = defaultdict(list)
    for a in alerts:
        grouped[a.subject_kind, a.subject].append(a)
    out = {}
    for (kind, subject), found in grouped.items():
        score = combine(a.score for a in found)
        rules = sorted({a.rule for a in found})
        out[kind, subject] = Risk(kind, subject, score, rules, raw=score)
    return out


def movement_subjects(ledger: Ledger, e: ev.Event) -> list[Subject]:
    """The subjects whose risk a movement carries: itself, its batches, its parties."""
    e = cast(ev.AnyEvent, e)  # every event is one of the contract's types
    match e:
        case ev.Dispatch():
            batches = ledger.ancestors(e.batch)
            return [
                ("event", e.id),
                *(("batch", b) for b in batches),
                ("party", e.holder),
                ("party", e.buyer.key),
            ]
        case ev.TransitOpen():
            return [("transit", e.mrn), ("party", e.carrier.key), ("party", e.consignee.key)]
        case ev.Import() | ev.Transfer() | ev.Transform() | ev.WriteOff() | ev.Adjust():
            return []  # not a movement out of the country
        case (
            ev.SealPing()
            | ev.Checkpoint()
            | ev.TransitClose()
            | ev.Incident()
            | ev.Receipt()
            | ev.Cancel()
        ):
            return []
        case _:
            assert_never(e)


@dataclass(slots=True)
class History:
    """Per holder, how many of its earlier movements were received and raised nothing."""

    clean: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def movement_risks(
    ledger: Ledger, risks: dict[Subject, Risk], facts: Facts, config: RiskConfig
) -> dict[Subject, Risk]:
    """Risk of every movement as of the ledger's end, in ledger order (history accrues)."""
    out: dict[Subject, Risk] = {}
    history = History()
    for e in ledger.events:
        if isinstance(e, ev.Dispatch | ev.TransitOpen):
            r = movement_risk(ledger, e, risks, facts, config, history)
            out[r.kind, r.subject] = r
    return out


def movement_risk(
    ledger: Ledger,
    e: ev.Dispatch | ev.TransitOpen,
    risks: dict[Subject, Risk],
    facts: Facts,
    config: RiskConfig,
    history: History,
) -> Risk:
    """The risk of one movement: its own, its batches' and its parties', less the evidence."""
    parts = [risks[s] for s in movement_subjects(ledger, e) if s in risks]
    raw = combine(r.score for r in parts)
    rules = sorted({rule for r in parts for rule in r.rules})
    evidence = positive_evidence(ledger, e, facts, config, history)
    if config.scoring.hard_rules.intersection(rules):
        evidence = []
    off = min(0.9, sum(share for share, _ in evidence))
    if isinstance(e, ev.Dispatch) and not parts and ledger.receipts.get(e.id):
        history.clean[e.holder] += 1
    kind, subject = ("event", e.id) if isinstance(e, ev.Dispatch) else ("transit", e.mrn)
    return Risk(kind, subject, raw * (1 - off), rules, [why for _, why in evidence], raw)


def positive_evidence(
    ledger: Ledger,
    e: ev.Dispatch | ev.TransitOpen,
    facts: Facts,
    config: RiskConfig,
    history: History,
) -> list[tuple[float, str]]:
    """(share taken off, why) for each piece of positive evidence about the movement."""
    cfg = config.scoring
    found: list[tuple[float, str]] = []
    if isinstance(e, ev.Dispatch):
        n = history.clean[e.holder]
        if n:
            found.append(
                (
                    min(cfg.clean_cap, cfg.clean_step * n),
                    f"{n} earlier movement(s) of {e.holder} received and clean",
                )
            )
        if _consistent(ledger, e):
            found.append((cfg.consistent_documents, "the partner's receipt matches the quantity"))
    elif e.mrn in facts.seals_intact:
        found.append((cfg.intact_seals, "seal telemetry intact along the corridor"))
    return found


def _consistent(ledger: Ledger, e: ev.Dispatch) -> bool:
    receipts = ledger.receipts.get(e.id, [])
    return any(r.quantity == e.quantity for r in receipts)

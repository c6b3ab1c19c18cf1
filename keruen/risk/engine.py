"""One detection run, pure: every detector over a context, then risks and lanes.

`detect` returns each (rule, subject) once — the highest-scoring finding wins — so a run is
deterministic and its output can go straight into a table whose key forbids duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from keruen.risk.config import RiskConfig
from keruen.risk.context import Context
from keruen.risk.detectors import DETECTORS
from keruen.risk.facts import Facts
from keruen.risk.lanes import Decision, decide
from keruen.risk.model import Alert
from keruen.risk.scoring import Risk, Subject, by_subject, movement_risks
from keruen.risk.state import Ledger


def detect(ctx: Context, only: Iterable[str] | None = None) -> list[Alert]:
    """Every finding of every (or of the named) detector, one per key, in a stable order."""
    best: dict[tuple[str, str, str], Alert] = {}
    for name, detector in DETECTORS.items():
        if only is not None and name not in only:
            continue
        for a in detector(ctx):
            prev = best.get(a.key)
            if prev is None or a.score > prev.score:
                best[a.key] = a
    return sorted(best.values(), key=lambda a: (a.time_us, a.key))


@dataclass(slots=True)
class Assessment:
    risks: dict[Subject, Risk]
    lanes: dict[Subject, Decision]


def assess(ledger: Ledger, alerts: Iterable[Alert], facts: Facts, config: RiskConfig) -> Assessment:
    """One risk per subject, and a lane per movement (dispatch, export, transit)."""
    risks = by_subject(alerts)
    moves = movement_risks(ledger, risks, facts, config)
    lanes = {key: decide(r, config.lanes) for key, r in moves.items()}
    return Assessment({**risks, **moves}, lanes)

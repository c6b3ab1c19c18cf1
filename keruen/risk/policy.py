"""The policy view (SPEC C5): what other lane thresholds or another random rate would do,
computed from the stored risks of the last detection run, never guessed.

For a set of thresholds (`Lanes`), every assessed movement's stored score gives its lane
(`keruen.risk.lanes.by_risk`); the counts come from one aggregate over `risk_subjects`.
Random selection sends a green movement to the random lane when its reproducible draw falls
under the rate: exactly for the movements that matter to detection (those named by an alert,
those later confirmed diverted, those found legitimate), and as the expected count
(rate x green movements) for the load, which is what the rate plans.

- inspection load: movements sent to yellow or red (documents, physical inspection), by
  threshold and by random selection, and their share;
- detection: of the movements alerts name, and of those officers confirmed diverted, the
  share the lanes would send to a check (yellow or red) — what selectivity catches at the
  border, before any case;
- waiting time: the mean wait per movement, from each lane's planned hours, and from the
  waits measured at posts for that lane (`keruen.risk.waits`) where the ledger has some.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keruen.risk import tables as rt
from keruen.risk.config import Lanes
from keruen.risk.lanes import LANES, by_risk, draw

CHECKED = ("yellow", "red")  # lanes that stop the goods for a check


@dataclass(frozen=True, slots=True)
class Movement:
    kind: str
    subject: str
    score: float


@dataclass(frozen=True, slots=True)
class Stored:
    """What the scenarios are computed from: read once per page."""

    total: int
    scores: list[tuple[float, int]]  # (score, movements with that score)
    flagged: list[Movement]  # movements an alert names (the alert's subject)
    diverted: list[Movement]  # movements in cases decided "confirmed_diversion"
    legitimate: list[Movement]  # movements in cases decided "false_positive" or "release"

    def encode(self) -> dict[str, Any]:
        """As JSON values (`keruen.risk.summaries` keeps it)."""
        moves = ("flagged", "diverted", "legitimate")
        return {
            "total": self.total,
            "scores": self.scores,
            **{k: [[m.kind, m.subject, m.score] for m in getattr(self, k)] for k in moves},
        }

    @classmethod
    def decode(cls, d: dict[str, Any]) -> Stored:
        def moves(k: str) -> list[Movement]:
            return [Movement(str(kind), str(s), float(score)) for kind, s, score in d[k]]

        scores = [(float(score), int(n)) for score, n in d["scores"]]
        return cls(
            int(d["total"]), scores, *(moves(k) for k in ("flagged", "diverted", "legitimate"))
        )


def read(conn: Connection) -> Stored:
    s, a = rt.risk_subjects.c, rt.risk_alerts.c
    movements = s.lane.is_not(None)
    scores = [
        (float(score), int(n))
        for score, n in conn.execute(
            sa.select(s.score, sa.func.count()).where(movements).group_by(s.score)
        )
    ]
    named = sa.exists().where(
        a.subject_kind == s.subject_kind, a.subject == s.subject, a.level == "alert"
    )
    flagged = [
        Movement(k, subj, float(score))
        for k, subj, score in conn.execute(
            sa.select(s.subject_kind, s.subject, s.score).where(movements, named)
        )
    ]
    decided = decided_movements(conn)
    rows = conn.execute(
        sa.select(s.subject_kind, s.subject, s.score).where(
            movements, s.subject.in_(sorted(decided))
        )
    )
    by_decision: dict[str, list[Movement]] = {"diverted": [], "legitimate": []}
    for k, subj, score in rows:
        by_decision[decided[subj]].append(Movement(k, subj, float(score)))
    total = sum(n for _, n in scores)
    return Stored(total, scores, flagged, by_decision["diverted"], by_decision["legitimate"])


def decided_movements(conn: Connection) -> dict[str, str]:
    """Movements (MRNs, event ids) named by alerts in decided cases: diverted or legitimate
    (a movement in both kinds of decision counts as diverted)."""
    d, ca, r = rt.risk_case_actions.alias("decision"), rt.risk_case_alerts.c, rt.risk_alert_refs.c
    a = rt.risk_alerts.c
    q = (
        sa.select(d.c.detail, a.subject, r.value)
        .join_from(d, rt.risk_case_alerts, ca.case_id == d.c.case_id)
        .join(rt.risk_alerts, a.id == ca.alert_id)
        .outerjoin(rt.risk_alert_refs, sa.and_(r.alert_id == a.id, r.kind.in_(("mrn", "event"))))
        .where(rt.standing(d))
    )
    out: dict[str, str] = {}
    for detail, subject, ref in conn.execute(q):
        verdict = "diverted" if json.loads(detail)["decision"] == "confirmed_diversion" else None
        for value in (subject, ref):
            if value and (verdict or out.get(value) != "diverted"):
                out[value] = verdict or "legitimate"
    return out


def lane_of(m: Movement, cfg: Lanes) -> str:
    lane = by_risk(m.score, cfg)
    if lane == "green" and draw(cfg.seed, m.subject) < cfg.random_rate:
        return cfg.random_lane
    return lane


def _checked(found: list[Movement], cfg: Lanes) -> dict[str, Any]:
    n = sum(1 for m in found if lane_of(m, cfg) in CHECKED)
    return {
        "movements": len(found),
        "checked": n,
        "share": round(n / len(found), 4) if found else None,
    }


def scenario(
    stored: Stored, cfg: Lanes, measured_hours: dict[str, float] | None = None
) -> dict[str, Any]:
    """Lanes, load, detection and waiting under the thresholds and random rate of `cfg`."""
    counts: dict[str, int] = dict.fromkeys(LANES, 0)
    for score, n in stored.scores:
        counts[by_risk(score, cfg)] += n
    randomly = cfg.random_rate * counts["green"]  # expected: the rate is a plan, not a count
    expected = {lane: float(n) for lane, n in counts.items()}
    expected["green"] -= randomly
    expected[cfg.random_lane] += randomly
    total = stored.total or 1
    checked = sum(expected[lane] for lane in CHECKED)
    hours: dict[str, float] = {str(lane): h for lane, h in cfg.wait_hours.items()}
    planned = sum(expected[lane] * hours.get(lane, 0.0) for lane in LANES) / total
    measured = measured_hours or {}
    both = {lane: measured.get(lane, hours.get(lane, 0.0)) for lane in LANES}
    return {
        "thresholds": {"red": cfg.red, "yellow": cfg.yellow, "blue": cfg.blue},
        "random_rate": cfg.random_rate,
        "movements": stored.total,
        "lanes": {lane: round(expected[lane], 1) for lane in LANES},
        "random_selections": round(randomly, 1),
        "checked": round(checked, 1),
        "checked_share": round(checked / total, 4),
        "alerted_checked": _checked(stored.flagged, cfg),
        "diverted_checked": _checked(stored.diverted, cfg),
        "legitimate_checked": _checked(stored.legitimate, cfg),
        "planned_wait_hours": round(planned, 3),
        "wait_hours": round(sum(expected[lane] * both[lane] for lane in LANES) / total, 3),
    }

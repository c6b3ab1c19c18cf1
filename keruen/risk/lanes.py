"""Selectivity lanes from risk, as customs services practise them.

green: release · yellow: documentary check · red: physical inspection · blue: post-clearance
audit. A movement's lane follows its risk through configurable thresholds; a minimum share of
green movements is selected at random (reproducibly: a hash of the movement's id), so that
no trader can count on never being checked, and the random picks measure the unseen.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from keruen.risk.config import Lane, Lanes
from keruen.risk.scoring import Risk

LANES: tuple[Lane, ...] = ("green", "yellow", "red", "blue")


@dataclass(frozen=True, slots=True)
class Decision:
    kind: str  # event | transit
    movement: str
    lane: Lane
    risk: float
    random: bool
    reasons: tuple[str, ...] = field(default=())


def draw(seed: str, movement: str) -> float:
    """A reproducible number in [0, 1) for a movement: the same id always draws the same."""
    digest = hashlib.blake2b(f"{seed}:{movement}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def by_risk(score: float, cfg: Lanes) -> Lane:
    if score >= cfg.red:
        return "red"
    if score >= cfg.yellow:
        return "yellow"
    if score >= cfg.blue:
        return "blue"
    return "green"


def decide(risk: Risk, cfg: Lanes) -> Decision:
    lane = by_risk(risk.score, cfg)
    reasons = [f"{rule}" for rule in risk.rules] + [f"lower: {why}" for why in risk.evidence]
    if lane == "green" and draw(cfg.seed, risk.subject) < cfg.random_rate:
        return Decision(
            risk.kind,
            risk.subject,
            cfg.random_lane,
            risk.score,
            True,
            (*reasons, "random selection"),
        )
    return Decision(risk.kind, risk.subject, lane, risk.score, False, tuple(reasons))


@dataclass(frozen=True, slots=True)
class Rates:
    """Observed share per lane beside the planned share, and the planned wait."""

    counts: dict[str, int]
    total: int
    expected: dict[str, float]
    wait_hours: float  # mean planned wait per movement

    def share(self, lane: str) -> float:
        return self.counts.get(lane, 0) / self.total if self.total else 0.0

    def public(self) -> dict[str, object]:
        return {
            "total": self.total,
            "lanes": {
                lane: {
                    "count": self.counts.get(lane, 0),
                    "share": round(self.share(lane), 5),
                    "expected": self.expected.get(lane, 0.0),
                }
                for lane in LANES
            },
            "random_selections": self.counts.get("random", 0),
            "mean_wait_hours": round(self.wait_hours, 3),
        }


def rates(picks: Iterable[tuple[str, bool]], cfg: Lanes) -> Rates:
    """Lane shares of (lane, randomly selected) picks, and the mean planned wait."""
    return counted(Counter(picks).items(), cfg)


def counted(counts: Iterable[tuple[tuple[str, bool], int]], cfg: Lanes) -> Rates:
    """Lane shares from ((lane, randomly selected), how many) pairs, and the mean planned
    wait: what an aggregate query gives."""
    by: Counter[str] = Counter()
    wait = 0.0
    for (lane, random), n in counts:
        by[lane] += n
        by["random"] += n if random else 0
        wait += n * cfg.wait_hours.get(lane, 0.0)  # type: ignore[call-overload]
    total = sum(by[lane] for lane in LANES)
    expected = {str(k): v for k, v in cfg.expected.items()}
    return Rates(dict(by), total, expected, wait / total if total else 0.0)

"""Measured detection: alerts and lanes against the simulator's ground truth. Pure.

- recall: share of the diverted value (USD) in schemes with at least one alert tied to them;
- precision: share of alerts tied to a planted scheme;
- burden: share of legitimate movements (dispatches, exports, transits in no scheme) that an
  alert names or that the lanes send to yellow or red; `burden_outside_random` leaves out
  those the lanes chose by random selection (planned, whatever the risk);
- time to detect: from the scheme's first movement (dispatch, export or transit declaration)
  to its first alert, in days of ledger time — as if detection ran continuously.

An alert is tied to a scheme when its subject is one of the scheme's identifiers of the same
kind: an event id, a batch number, an MRN or a party's tax id. Only this module reads the
truth; no detector does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from keruen.risk.context import DAY_US

KIND_OF = {"event": "events", "batch": "batches", "transit": "mrns", "party": "parties"}


@dataclass(frozen=True, slots=True)
class Scheme:
    id: str
    kind: str
    value_usd: float
    events: frozenset[str] = frozenset()
    batches: frozenset[str] = frozenset()
    mrns: frozenset[str] = frozenset()
    parties: frozenset[str] = frozenset()

    def ids(self, kind: str) -> frozenset[str]:
        attr = KIND_OF.get(kind)
        value: frozenset[str] = getattr(self, attr) if attr else frozenset()
        return value


@dataclass(frozen=True, slots=True)
class Flag:
    """An alert as the evaluation sees it."""

    rule: str
    subject_kind: str
    subject: str
    time_us: int


@dataclass(frozen=True, slots=True)
class Movement:
    kind: str  # event | transit
    id: str
    time_us: int
    lane: str | None
    random: bool = False  # sent to its lane by random selection


@dataclass(slots=True)
class Tally:
    schemes: int = 0
    detected: int = 0
    value: float = 0.0
    value_detected: float = 0.0
    alerts: int = 0
    days: list[float] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "schemes": self.schemes,
            "detected": self.detected,
            "recall": _ratio(self.value_detected, self.value),
            "value_usd": round(self.value, 2),
            "value_detected_usd": round(self.value_detected, 2),
            "alerts": self.alerts,
            "days_to_detect": _days(self.days),
        }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _days(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"median": round(median(values), 2), "max": round(max(values), 2)}


def index(schemes: Iterable[Scheme]) -> dict[tuple[str, str], list[Scheme]]:
    """(subject kind, identifier) -> the schemes holding that identifier."""
    out: dict[tuple[str, str], list[Scheme]] = defaultdict(list)
    for s in schemes:
        for kind in KIND_OF:
            for value in s.ids(kind):
                out[kind, value].append(s)
    return out


def evaluate(
    schemes: list[Scheme],
    flags: list[Flag],
    movements: list[Movement],
    times: Mapping[str, int],
    wait_hours: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The figures of one evaluation; `times` gives the ledger time of each movement (by event
    id, or MRN for a transit)."""
    by_id = index(schemes)
    tied: dict[str, list[Flag]] = defaultdict(list)
    per_rule: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in flags:
        found = by_id.get((f.subject_kind, f.subject), [])
        per_rule[f.rule][0] += 1
        per_rule[f.rule][1] += bool(found)
        for s in found:
            tied[s.id].append(f)
    kinds = _per_kind(schemes, tied, times)
    total = Tally(
        schemes=sum(t.schemes for t in kinds.values()),
        detected=sum(t.detected for t in kinds.values()),
        value=sum(t.value for t in kinds.values()),
        value_detected=sum(t.value_detected for t in kinds.values()),
        days=[d for t in kinds.values() for d in t.days],
    )
    good = sum(hit for _, hit in per_rule.values())
    load = burden(schemes, flags, movements, wait_hours or {})
    return {
        "recall": _ratio(total.value_detected, total.value),
        "precision": _ratio(good, len(flags)),
        "burden": load["share"],
        "burden_outside_random": load["share_outside_random"],
        "burden_detail": load,
        "alerts": len(flags),
        "schemes": total.schemes,
        "detected": total.detected,
        "days_to_detect": _days(total.days),
        "per_kind": {k: t.public() for k, t in sorted(kinds.items())},
        "per_rule": {
            r: {"alerts": n, "tied": hit, "precision": _ratio(hit, n)}
            for r, (n, hit) in sorted(per_rule.items())
        },
    }


def _per_kind(
    schemes: list[Scheme], tied: dict[str, list[Flag]], times: Mapping[str, int]
) -> dict[str, Tally]:
    kinds: dict[str, Tally] = defaultdict(Tally)
    for s in schemes:
        t = kinds[s.kind]
        t.schemes += 1
        t.value += s.value_usd
        found = tied.get(s.id, [])
        t.alerts += len(found)
        if found:
            t.detected += 1
            t.value_detected += s.value_usd
            start = min((times[i] for i in (*s.events, *s.mrns) if i in times), default=None)
            if start is not None:
                first = min(f.time_us for f in found)
                t.days.append(max(0.0, (first - start) / DAY_US))
    return kinds


def burden(
    schemes: list[Scheme],
    flags: list[Flag],
    movements: list[Movement],
    wait_hours: Mapping[str, float],
) -> dict[str, Any]:
    """Legitimate movements named by an alert or sent to yellow or red, over all of them, and
    the mean time a legitimate movement waits for its lane's check (planned hours per lane)."""
    planted = {i for s in schemes for i in (*s.events, *s.mrns)}
    named = {(f.subject_kind, f.subject) for f in flags}
    legit = [m for m in movements if m.id not in planted]
    flagged = [m for m in legit if (m.kind, m.id) in named or m.lane in ("yellow", "red")]
    by_alert = sum(1 for m in legit if (m.kind, m.id) in named)
    # random selection is planned whatever the risk; an alert still counts
    chosen = [m for m in flagged if (m.kind, m.id) in named or not m.random]
    return {
        "share": _ratio(len(flagged), len(legit)) if legit else 0.0,
        "share_outside_random": _ratio(len(chosen), len(legit)) if legit else 0.0,
        "legitimate": len(legit),
        "flagged": len(flagged),
        "by_alert": by_alert,
        "by_lane": sum(1 for m in legit if m.lane in ("yellow", "red")),
        "by_random_selection": sum(1 for m in legit if m.random),
        "mean_wait_hours": round(
            sum(wait_hours.get(m.lane or "green", 0.0) for m in legit) / len(legit), 4
        )
        if legit
        else 0.0,
    }

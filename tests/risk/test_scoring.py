"""Risk per subject, positive evidence, lanes and their rates."""

from __future__ import annotations

import pytest

from keruen.risk.config import RiskConfig
from keruen.risk.engine import assess
from keruen.risk.facts import Facts
from keruen.risk.lanes import by_risk, decide, draw, rates
from keruen.risk.model import Alert, Refs
from keruen.risk.scoring import Risk, by_subject, combine
from tests import factory as f
from tests.risk.helpers import RULES, ledger_of

B2 = "55501/010324/0000002/001"
CFG = RiskConfig()


def alert(rule: str, kind: str, subject: str, score: float) -> Alert:
    return Alert(rule, kind, subject, score, 0, "", Refs())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], 0.0),
        ([0.5], 0.5),
        ([0.5, 0.5], 0.75),
        ([1.0, 0.2], 1.0),
        ([0.3, 0.3, 0.3], 0.657),
    ],
)
def test_scores_combine_as_independent_evidence(scores: list[float], expected: float) -> None:
    assert combine(scores) == pytest.approx(expected, abs=1e-3)


def test_one_risk_per_subject_ranks_two_findings_above_one() -> None:
    risks = by_subject(
        [
            alert("a", "event", "d1", 0.6),
            alert("b", "event", "d1", 0.6),
            alert("a", "event", "d2", 0.6),
        ]
    )
    assert risks["event", "d1"].score > risks["event", "d2"].score
    assert risks["event", "d1"].rules == ["a", "b"]


@pytest.mark.parametrize(
    ("score", "lane"),
    [
        (0.0, "green"),
        (0.39, "green"),
        (0.4, "blue"),
        (0.5, "yellow"),
        (0.8, "red"),
        (1.0, "red"),
    ],
)
def test_lanes_follow_thresholds(score: float, lane: str) -> None:
    assert by_risk(score, CFG.lanes) == lane


def test_random_selection_is_reproducible_and_near_its_rate() -> None:
    ids = [f"mv-{n}" for n in range(20_000)]
    assert [draw("s", i) for i in ids[:50]] == [draw("s", i) for i in ids[:50]]
    picked = [decide(Risk("event", i, 0.0), CFG.lanes) for i in ids]
    share = sum(d.random for d in picked) / len(ids)
    assert share == pytest.approx(CFG.lanes.random_rate, rel=0.25)
    assert all(d.lane == CFG.lanes.random_lane for d in picked if d.random)
    assert "random selection" in next(d for d in picked if d.random).reasons


def test_rates_and_planned_wait() -> None:
    r = rates([("green", False), ("green", True), ("red", False), ("yellow", False)], CFG.lanes)
    assert r.share("green") == 0.5 and r.counts["random"] == 1
    assert r.wait_hours == pytest.approx((24 + 4) / 4)
    assert r.public()["lanes"]["red"]["expected"] == CFG.lanes.expected["red"]


def history(n: int) -> list[dict[str, object]]:
    """`n` clean, received dispatches of holder A, then one more."""
    events: list[dict[str, object]] = [f.import_("i2", B2, holder=f.A, qty="1000", hs="940360")]
    for k in range(n + 1):
        events.append(f.dispatch(f"d{k}", B2, f.A, "1", day=2 + k))
        if k < n:
            events.append(
                {
                    "type": "receipt",
                    "id": f"r{k}",
                    "time": f.t(2 + k, 12),
                    "ref": f"d{k}",
                    "country": "RU",
                    "quantity": "1",
                    "document": {"kind": "CMR", "number": f"R{k}"},
                }
            )
    return events


def test_a_clean_history_lowers_a_movement_s_risk_but_not_a_hard_rule_s() -> None:
    ledger = ledger_of(*history(5))
    last = "d5"
    soft = assess(ledger, [alert("fast_reexport", "event", last, 0.6)], Facts(RULES), CFG)
    assert soft.risks["event", last].score < 0.6
    assert "earlier movement" in soft.risks["event", last].evidence[0]
    hard = assess(ledger, [alert("high_priority_goods", "event", last, 0.9)], Facts(RULES), CFG)
    assert hard.risks["event", last].score == pytest.approx(0.9)
    assert hard.lanes["event", last].lane == "red"


def test_a_movement_carries_its_parties_and_batch_risk() -> None:
    ledger = ledger_of(*history(0))
    found = assess(
        ledger, [alert("sanctioned_party", "party", "7701234567", 0.95)], Facts(RULES), CFG
    )
    assert found.lanes["event", "d0"].lane == "red"
    assert "sanctioned_party" in found.lanes["event", "d0"].reasons

"""Each scenario, replayed through the pure tracker, raises exactly the findings it names."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from keruen.ledger.rules import micros
from keruen.model.validate import parse
from keruen.transit.model import KINDS
from keruen.transit.tracker import Tracker
from tests.transit.factory import T0
from tests.transit.scenarios import CASES, Case


def run(case: Case) -> tuple[Tracker, int]:
    """Feed the scenario in time order (ties in list order, as the ledger's seq)."""
    parsed = sorted(
        ((parse(json.dumps(e)).event, e) for e in case.events), key=lambda pair: pair[0].time
    )
    tracker = Tracker(config=case.config)
    for event, raw in parsed:
        tracker.feed(event, raw)
    if case.now_h is not None:
        return tracker, micros(T0 + timedelta(hours=case.now_h))
    return tracker, max(micros(e.time) for e, _ in parsed)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_scenario(case: Case) -> None:
    tracker, now_us = run(case)
    found = tracker.findings(now_us)
    assert {x.kind for x in found} == case.expect, [x.explanation for x in found]
    for kind, severity in case.severity.items():
        assert {x.severity for x in found if x.kind == kind} == {severity}
    if case.state:
        assert tracker.movements["M1"].state(now_us) == case.state
    for x in found:
        assert x.kind in KINDS and x.explanation and x.facts


def test_findings_do_not_change_the_movement() -> None:
    """Asking at two "now"s gives the same answer for the earlier one again."""
    case = next(c for c in CASES if c.name.startswith("long stop"))
    tracker, now_us = run(case)
    first = tracker.findings(now_us)
    tracker.findings(now_us + 10**12)
    assert tracker.findings(now_us) == first

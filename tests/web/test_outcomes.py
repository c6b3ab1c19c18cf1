"""Outcomes: the time movements wait at posts, measured from the ledger's events (and kept
incrementally), and the policy view computed from the stored risks — against hand-computed
figures, the lane rule itself, and on the page."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from keruen.ingest import ingest_lines
from keruen.risk import cases, policy, queries, summaries, waits
from keruen.risk import store as risk_store
from keruen.risk import tables as rt
from keruen.risk.config import Lanes
from keruen.risk.lanes import by_risk, decide
from keruen.risk.model import Alert, refs
from keruen.risk.scoring import Risk
from tests.transit import factory as f
from tests.web.conftest import Web

HOR, ZH1, DOS = "KZHOR-ROAD", "KZZH1-ROAD", "KZDOS-RAIL"


def story() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two rounds of transit events (the second arrives after a first refresh)."""
    cp_m3 = f.checkpoint("M3", 9, DOS)
    first = [
        f.open_("M1", HOR, ZH1, h=0, seals=("S1",)),
        f.checkpoint("M1", 3, HOR),  # entry: 3 h
        f.open_("M2", HOR, ZH1, h=10, seals=("S2",)),
        f.checkpoint("M2", 11, HOR),  # entry: 1 h
        f.open_("M3", DOS, ZH1, h=5, seals=("S3",)),
        cp_m3,
        f.open_("M4", HOR, ZH1, h=0, seals=("S4",)),  # never passes a checkpoint: no wait
    ]
    second = [
        f.checkpoint("M1", 40, ZH1),
        f.close("M1", 42, ZH1),  # exit: 2 h
        f.close("M2", 50, ZH1),  # no checkpoint at the exit: no exit wait
        {
            "type": "cancel",
            "id": "x-cp-m3",
            "time": f.at(12),
            "target": cp_m3["id"],
            "reason": "entered in error",
        },  # M3's entry passage withdrawn: no wait
    ]
    return first, second


def ingest(engine: Engine, events: list[dict[str, Any]]) -> None:
    report = ingest_lines(engine, [json.dumps(e).encode() for e in events])
    assert report.rejected == 0, report


def summary(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return waits.by_lane_and_post(conn)


def test_waits_are_measured_from_the_events_and_kept_incrementally(engine: Engine) -> None:
    first, second = story()
    ingest(engine, first)
    assert waits.refresh(engine) == 7  # four declarations, three checkpoints
    ingest(engine, second)
    waits.refresh(engine)
    with engine.connect() as conn:
        found = sorted((w.mrn, w.where, w.post, w.hours) for w in waits.measured(conn))
    assert found == [("M1", "entry", HOR, 3.0), ("M1", "exit", ZH1, 2.0), ("M2", "entry", HOR, 1.0)]
    kept = summary(engine)
    with engine.begin() as conn:  # the same from scratch: the incremental index is complete
        conn.execute(sa.delete(rt.risk_cursors))
    waits.refresh(engine)
    again = summary(engine)
    assert kept == again
    posts = {(p["where"], p["post"]): p for p in again["posts"]}
    assert posts[("entry", HOR)]["movements"] == 2 and posts[("entry", HOR)]["mean_hours"] == 2.0
    assert posts[("exit", ZH1)]["p90_hours"] == 2.0
    assert ("entry", DOS) not in posts and again["measured"] == 3


def test_movements_found_diverted_are_left_out(engine: Engine) -> None:
    first, second = story()
    ingest(engine, first + second)
    waits.refresh(engine)
    with engine.begin() as conn:
        run = risk_store.start_run(conn, 0, 0)
        alert = Alert(
            "transit_exit_other_post", "transit", "M1", 0.95, 0, "test", refs(mrns=["M1"])
        )
        risk_store.add_alerts(conn, run, [alert], 0.5)
        alert_id = conn.scalar(sa.select(rt.risk_alerts.c.id))
        case = cases.open_case(conn, [alert_id], "olga")
        cases.decide(conn, case, "confirmed_diversion", "olga", "left by another post")
    found = summary(engine)
    assert found["left_out_diverted"] == 2 and found["measured"] == 1
    assert [(p["post"], p["mean_hours"]) for p in found["posts"]] == [(HOR, 1.0)]


# --- the policy view ----------------------------------------------------------------------

SCORES = [0.0, 0.0, 0.0, 0.1, 0.2, 0.3, 0.45, 0.55, 0.85, 0.95]


def stored_risks(conn: Any, scores: list[float], alerted: set[int]) -> None:
    run = risk_store.start_run(conn, 0, 0)
    rows = [
        {
            "subject_kind": "event",
            "subject": f"e{i}",
            "score": s,
            "raw": s,
            "lane": by_risk(s, Lanes()),
            "random": False,
            "rules": "[]",
            "evidence": "[]",
            "run_id": run,
        }
        for i, s in enumerate(scores)
    ]
    conn.execute(sa.insert(rt.risk_subjects), rows)
    found = [
        Alert("unit_value", "event", f"e{i}", 0.9, 0, "t", refs(events=[f"e{i}"])) for i in alerted
    ]
    risk_store.add_alerts(conn, run, found, 0.5)


def test_lanes_load_and_detection_follow_the_thresholds(engine: Engine) -> None:
    with engine.begin() as conn:
        stored_risks(conn, SCORES, alerted={6, 8, 9})
        stored = policy.read(conn)
    now = policy.scenario(stored, Lanes(random_rate=0.0))
    assert now["lanes"] == {"green": 6, "yellow": 1, "red": 2, "blue": 1}
    assert now["checked"] == 3 and now["checked_share"] == 0.3
    assert now["alerted_checked"] == {"movements": 3, "checked": 2, "share": 0.6667}
    assert now["planned_wait_hours"] == round((1 * 4 + 2 * 24) / 10, 3)
    stricter = policy.scenario(stored, Lanes(red=0.9, yellow=0.4, blue=0.3, random_rate=0.0))
    assert stricter["lanes"] == {"green": 5, "yellow": 3, "red": 1, "blue": 1}  # 0.3 is blue
    assert stricter["alerted_checked"]["checked"] == 3
    measured = policy.scenario(stored, Lanes(random_rate=0.0), {"yellow": 1.0, "red": 5.0})
    assert measured["wait_hours"] == round((1 * 1.0 + 2 * 5.0) / 10, 3)
    randomly = policy.scenario(stored, Lanes(random_rate=0.5))
    assert randomly["random_selections"] == 3.0 and randomly["lanes"]["yellow"] == 4.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=40),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 0.2),
)
def test_the_policy_agrees_with_the_lane_rule(
    scores: list[float], a: float, b: float, c: float, rate: float
) -> None:
    blue, yellow, red = sorted((a, b, c))
    cfg = Lanes(red=red, yellow=yellow, blue=blue, random_rate=rate)
    movements = [policy.Movement("event", f"e{i}", s) for i, s in enumerate(scores)]
    stored = policy.Stored(
        len(scores), [(s, scores.count(s)) for s in set(scores)], movements, [], []
    )
    found = policy.scenario(stored, cfg)
    # lanes are rounded to 0.1: green and the random lane each carry a fraction (e.g. 0.85 and
    # 0.15 shown as 0.8 and 0.1), so their sum is within 0.1 of the movements
    assert sum(found["lanes"].values()) == pytest.approx(len(scores), abs=0.1 + 1e-9)
    exact = [decide(Risk("event", m.subject, m.score), cfg).lane for m in movements]
    assert found["alerted_checked"]["checked"] == sum(lane in ("yellow", "red") for lane in exact)
    by_threshold = sum(by_risk(s, cfg) in ("yellow", "red") for s in scores)
    assert found["checked"] >= by_threshold - 1e-9


def test_the_outcomes_page_shows_waits_and_the_policy(web: Web) -> None:
    first, second = story()
    ingest(web.engine, first + second)
    page = web.get("ana", "/ui/outcomes")  # the page brings the passages up to date itself
    assert page.status_code == 200, page.text
    cells = r'<td>[^<]*</td><td>[^<]*</td><td>{}</td><td class="num">{}</td><td class="num">{}</td>'
    row = rf'data-wait-post="[a-z]+:entry:{HOR}">' + cells.format(HOR, 2, "2.00")
    assert re.search(row, page.text), re.findall(r"<tr data-wait-post.*?</tr>", page.text)
    assert 'data-wait-post="' in page.text and ":exit:" + ZH1 in page.text
    asked = web.get("ana", "/ui/outcomes?red=0.9&yellow=0.6&blue=0.3&random_rate=0.02")
    assert asked.status_code == 200 and 'value="0.9"' in asked.text
    assert 'data-policy="checked"' in asked.text and 'data-policy="diverted"' in asked.text
    wrong = web.get("ana", "/ui/outcomes?red=0.3&yellow=0.6")
    assert wrong.status_code == 422 and "yellow" in wrong.text
    assert web.get("ana", "/ui/outcomes?random_rate=2").status_code == 422


# --- the kept summaries -------------------------------------------------------------------


def fresh(engine: Engine) -> dict[str, Any]:
    """The figures computed from scratch, as JSON values (what a kept summary holds)."""
    with engine.connect() as conn:
        found = {
            "waits": waits.by_lane_and_post(conn),
            "stored": policy.read(conn).encode(),
            "figures": {
                "outcomes": queries.outcomes(conn),
                "lane_counts": risk_store.lane_counts(conn),
            },
        }
    return dict(json.loads(json.dumps(found)))


def kept(engine: Engine) -> dict[str, Any]:
    figures = summaries.figures(engine)
    found = {
        "waits": summaries.measured_waits(engine),
        "stored": summaries.stored_risks(engine).encode(),
        "figures": figures,
    }
    return dict(json.loads(json.dumps(found)))


def made(engine: Engine, name: str) -> Any:
    s = rt.risk_summaries.c
    with engine.connect() as conn:
        return conn.execute(sa.select(s.made_us, s.inputs).where(s.name == name)).one()


def test_kept_summaries_follow_new_passages_cancels_risks_and_decisions(engine: Engine) -> None:
    """Each landing that changes a figure shows at the next read: passages, a cancel, a
    detection run with new alerts and stored risks, a decision, a reopening."""
    first, second = story()
    ingest(engine, first)
    waits.refresh(engine)
    seen = [kept(engine)]
    assert seen[-1] == fresh(engine) and seen[-1]["waits"]["measured"] == 3
    assert kept(engine) == seen[-1]  # unchanged: read back as kept
    ingest(engine, second)  # an exit wait, and M3's entry passage cancelled
    waits.refresh(engine)
    seen.append(kept(engine))
    assert seen[-1] == fresh(engine) and seen[-1]["waits"] != seen[-2]["waits"]
    with engine.begin() as conn:  # a detection run: stored risks, a lane, an alert
        stored_risks(conn, SCORES, alerted={8})
        run = risk_store.start_run(conn, 0, 0)
        alert = Alert("transit_exit_other_post", "transit", "M1", 0.95, 0, "t", refs(mrns=["M1"]))
        risk_store.add_alerts(conn, run, [alert], 0.5)
        alert_id = conn.scalar(
            sa.select(rt.risk_alerts.c.id).where(rt.risk_alerts.c.subject == "M1")
        )
    seen.append(kept(engine))
    assert seen[-1] == fresh(engine) and seen[-1]["stored"] != seen[-2]["stored"]
    assert seen[-1]["figures"]["outcomes"]["alerts"] == 2
    pairs = made(engine, "passage_waits")
    with engine.begin() as conn:
        case = cases.open_case(conn, [alert_id], "olga")
        cases.decide(conn, case, "confirmed_diversion", "olga", "left by another post")
    seen.append(kept(engine))
    assert seen[-1] == fresh(engine) and seen[-1]["waits"]["left_out_diverted"] == 2
    assert made(engine, "passage_waits") == pairs  # the waits regrouped, not paired again
    assert seen[-1]["figures"]["outcomes"]["precision"] == 1.0
    with engine.begin() as conn:
        cases.reopen(conn, case, "olga", "new documents")
    seen.append(kept(engine))
    assert seen[-1] == fresh(engine) and seen[-1]["waits"] == seen[-3]["waits"]
    assert seen[-1]["figures"]["outcomes"]["decided"] == 0

"""Detection, alerts and cases on a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from keruen.api import accounts
from keruen.ingest import ingest_lines
from keruen.model.events import Party
from keruen.risk import cases, queries, service
from keruen.risk import tables as rt
from keruen.risk.errors import AlertNotFound, BadInput, CaseError, CaseNotFound
from keruen.risk.model import micros_of
from tests import factory as f

B1 = "55501/010324/0000001/001"
B2 = "55501/010324/0000002/001"
STORY = [
    f.import_("i1", B1, holder=f.A, qty="100"),
    f.transfer("t1", B1, f.A, f.B, "80"),
    f.dispatch("d1", B1, f.B, "30", day=4),
    f.import_("i2", B2, holder=f.A, qty="100", hs="940360"),
    f.dispatch("d2", B2, f.A, "10", day=5),
    f.dispatch("d3", B1, f.B, "30", day=9),
]


def ingest(engine: Engine, *events: dict[str, object]) -> None:
    report = ingest_lines(engine, f.lines(*events))
    assert report.rejected == 0, report.public()


def test_detect_stores_alerts_once_with_their_identifiers(engine: Engine) -> None:
    ingest(engine, *STORY)
    first = service.detect(engine)
    assert first.alerts_added == 2  # d1 and d3: high-priority goods through a chain
    again = service.detect(engine)
    assert (again.alerts_added, again.signals_added) == (0, 0)
    with engine.connect() as conn:
        rows = queries.alerts(conn)
        assert {r["subject"] for r in rows} == {"d1", "d3"}
        a = next(r for r in rows if r["subject"] == "d1")
        assert a["rule"] == "high_priority_goods" and a["status"] == "open"
        assert a["event_ids"][0] == "d1" and a["batches"] == [B1]
        assert {f.A, f.B, "7701234567"} <= set(a["tax_ids"]) and a["mrns"] == []
        assert {r["subject"] for r in queries.about(conn, "t1")} == {"d1", "d3"}


def test_the_schema_forbids_a_duplicate_alert(engine: Engine) -> None:
    ingest(engine, *STORY)
    service.detect(engine)
    with engine.connect() as conn:
        row = dict(conn.execute(sa.select(rt.risk_alerts).limit(1)).one()._mapping)
    row.pop("id")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(rt.risk_alerts).values(row))


def test_now_judges_replayed_history_as_of_its_own_end(engine: Engine) -> None:
    ingest(engine, *STORY)
    early = service.detect(engine, now_us=micros_of(f.t(6)))
    assert early.alerts_added == 1  # d3 is in the future of that "now"
    later = service.detect(engine, since_us=micros_of(f.t(6)))
    assert later.alerts_added == 1
    with engine.connect() as conn:
        assert {r["subject"] for r in queries.alerts(conn)} == {"d1", "d3"}


def test_lanes_are_stored_per_movement(engine: Engine) -> None:
    ingest(engine, *STORY)
    service.detect(engine)
    rates = service.lane_rates(engine)
    assert rates.total == 3
    assert rates.counts.get("red") == 2


def test_a_case_from_open_to_decided_with_its_audit_log(engine: Engine) -> None:
    ingest(engine, *STORY)
    service.detect(engine)
    with engine.connect() as conn:
        ids = [r["id"] for r in queries.alerts(conn)]
    with engine.begin() as conn:
        accounts.add_user(conn, "petrova", "officer")
        case_id = cases.open_case(conn, ids[:1], "ivanov", "chips to Russia")
        cases.assign(conn, case_id, "petrova", "ivanov")
        cases.note(conn, case_id, "invoice asked from the holder", "petrova")
        cases.attach(conn, case_id, ids[1:], "petrova")
        cases.decide(conn, case_id, "confirmed_diversion", "petrova", "no end-user certificate")
    with engine.connect() as conn:
        case = cases.public_case(cases.show(conn, case_id))
        assert (case["status"], case["assignee"], case["decision"]) == (
            "decided",
            "petrova",
            "confirmed_diversion",
        )
        assert [a["action"] for a in case["actions"]] == [
            "open",
            "assign",
            "note",
            "attach",
            "decide",
        ]
        assert [a["actor"] for a in case["actions"]][-1] == "petrova"
        assert {a["status"] for a in case["alerts"]} == {"closed"}
        assert queries.alerts(conn, status="open") == []
        assert len(cases.cases(conn, "decided")) == 1


def test_case_rules(engine: Engine) -> None:
    ingest(engine, *STORY)
    service.detect(engine)
    with engine.connect() as conn:
        ids = [r["id"] for r in queries.alerts(conn)]
    with engine.begin() as conn:
        case_id = cases.open_case(conn, ids[:1], "ivanov")
    refusals = [
        (lambda c: cases.open_case(c, ids[:1], "x"), CaseError),  # alert already in a case
        (lambda c: cases.open_case(c, [9999], "x"), AlertNotFound),
        (lambda c: cases.open_case(c, [], "x"), BadInput),
        (lambda c: cases.decide(c, case_id, "shrug", "x"), BadInput),
        (lambda c: cases.note(c, 9999, "hello", "x"), CaseNotFound),
    ]
    for action, error in refusals:
        with pytest.raises(error), engine.begin() as conn:
            action(conn)
    with engine.begin() as conn:
        cases.decide(conn, case_id, "release", "ivanov")
    with pytest.raises(CaseError, match="was decided"), engine.begin() as conn:
        cases.assign(conn, case_id, "someone", "x")
    with engine.begin() as conn:  # a note after the decision adds, changes nothing
        cases.note(conn, case_id, "owner informed", "ivanov")


def test_the_schema_keeps_one_decision_per_case_and_round(engine: Engine) -> None:
    ingest(engine, *STORY)
    service.detect(engine)
    with engine.connect() as conn:
        first = queries.alerts(conn)[0]["id"]
    with engine.begin() as conn:
        case_id = cases.open_case(conn, [first], "ivanov")
        cases.decide(conn, case_id, "release", "ivanov")
    row = {"case_id": case_id, "time_us": 1, "actor": "x", "action": "decide", "detail": "{}"}
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(rt.risk_case_actions).values(row))
    with engine.begin() as conn:  # after a reopening, the next round takes one decision again
        cases.reopen(conn, case_id, "ivanov", "new documents")
        conn.execute(sa.insert(rt.risk_case_actions).values({**row, "round": 1}))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(rt.risk_case_actions).values({**row, "round": 1}))


def test_precheck_is_origin_aware_and_names_its_reasons(engine: Engine) -> None:
    made_in_us = {
        "hs": "854231",
        "description": "processors",
        "unit": "PCE",
        "origin": "CN",
        "manufacturer": "Intel",
        "manufacturer_country": "US",
    }
    ingest(
        engine,
        f.import_("i1", B1, holder=f.A, qty="100", goods=made_in_us),
        f.import_("i2", B2, holder=f.A, qty="100", hs="940360"),
    )
    kg = Party(**(f.RU_BUYER | {"country": "KG", "tax_id": "01501202400123"}))
    plan, verdict = service.precheck(engine, B1, Decimal(5), kg)
    assert plan.holder == f.A and verdict.lane == "red"
    assert {a.rule for a in verdict.alerts} >= {"high_priority_goods", "origin_reexport"}
    assert any("manufactured by Intel in US" in r for r in verdict.reasons)
    _, chairs = service.precheck(engine, B2, Decimal(5), Party(**f.RU_BUYER))
    assert chairs.lane == "green" and chairs.alerts == []
    with pytest.raises(BadInput, match="holds 100"):
        service.precheck(engine, B2, Decimal(500), Party(**f.RU_BUYER))


def test_outcomes_measure_precision_from_decisions(engine: Engine) -> None:
    ingest(engine, *STORY)
    service.detect(engine)
    with engine.connect() as conn:
        first, second = (r["id"] for r in queries.alerts(conn))
    with engine.begin() as conn:
        cases.decide(conn, cases.open_case(conn, [first], "x"), "confirmed_diversion", "x")
        cases.decide(conn, cases.open_case(conn, [second], "x"), "false_positive", "x")
    found = service.outcomes(engine)
    assert found["by_decision"] == {"confirmed_diversion": 1, "false_positive": 1}
    assert (found["precision"], found["false_positive_rate"]) == (0.5, 0.5)
    assert found["lanes"]["total"] == 3


def test_precheck_as_of_a_past_time_uses_the_stock_then(engine: Engine) -> None:
    ingest(engine, *STORY)  # B holds 80 of B1, dispatches 30 on day 4 and 30 on day 9
    buyer = Party(**f.RU_BUYER)
    plan, verdict = service.precheck(engine, B1, Decimal(40), buyer, at_us=micros_of(f.t(6)))
    assert plan.holder == f.B and verdict.lane == "red"
    with pytest.raises(BadInput, match=f"holder {f.B} holds 20 of batch"):
        service.precheck(engine, B1, Decimal(40), buyer, holder=f.B)


def test_parties_known_by_name_and_country_only_are_screened_and_explained(
    engine: Engine,
) -> None:
    """Foreign sellers and buyers often carry no identifier: screening, detection and the
    explanation work on name and country, and say that no identifier was given."""
    from keruen.screening import screen_ledger
    from keruen.screening.loaders import ofac_demo
    from keruen.screening.store import save

    no_id_seller = {"name": "Shenzhen Hua Tech Co", "country": "CN"}
    no_id_buyer = {"name": "OAO Polotsk Steklovolokno", "country": "BY"}
    ingest(
        engine,
        f.import_("i1", B1, holder=f.A, qty="100", seller=no_id_seller),
        f.dispatch("d1", B1, f.A, "30", day=4, buyer=no_id_buyer),
    )
    with engine.begin() as conn:
        save(conn, ofac_demo())
    screen_ledger(engine)
    service.detect(engine)
    with engine.connect() as conn:
        alerts = queries.alerts(conn)
    party = [a for a in alerts if a["rule"] == "sanctioned_party"]
    assert party, [a["rule"] for a in alerts]
    assert "no identifier" in party[0]["explanation"]
    assert party[0]["subject"] == "OAO Polotsk Steklovolokno (BY)"


@pytest.mark.parametrize(("mass", "ghost"), [("1200", False), ("700", True)])
def test_a_transit_closed_as_declared_is_read_back_as_no_ghost(
    engine: Engine, mass: str, ghost: bool
) -> None:
    """The close is read from the ledger: exit at the declared post on time, seals intact,
    mass consistent - no ghost transit without a receipt; a light exit still is one."""
    close = {
        "type": "transit_close",
        "id": "c1",
        "time": f.t(9),
        "mrn": "MRN1",
        "post": "KZZS1-RAIL",
        "mass_kg": mass,
        "seals_intact": True,
    }
    ingest(engine, f.transit_open("o1", "MRN1", day=1), close)
    service.detect(engine, now_us=micros_of(f.t(11)) + 50 * 86_400_000_000)
    with engine.connect() as conn:
        rules = {r["rule"] for r in queries.alerts(conn, level="all")}
    assert ("ghost_transit" in rules) == ghost


def test_precheck_tells_a_missing_batch_from_one_nobody_holds_any_more(engine: Engine) -> None:
    from keruen.errors import NotFound

    ingest(engine, f.import_("i1", B1, holder=f.A, qty="10"), f.dispatch("d1", B1, f.A, "10"))
    with pytest.raises(BadInput, match="nobody holds any of batch"):
        service.precheck(engine, B1, Decimal(1), Party(**f.RU_BUYER))
    with pytest.raises(NotFound, match="does not exist"):
        service.precheck(engine, B2, Decimal(1), Party(**f.RU_BUYER))

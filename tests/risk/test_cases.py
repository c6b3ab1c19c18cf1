"""The case lifecycle on each backend: hold and inspect on the way to a final decision, the
inspection's findings, reopening, assignees who must be officers, outcome figures from
decided cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Connection, Engine

from keruen.api import accounts
from keruen.risk import cases, queries, service
from keruen.risk.errors import BadInput, CaseError
from tests import factory as f
from tests.risk.test_store import STORY, ingest


@pytest.fixture
def two_alerts(engine: Engine) -> tuple[Engine, list[int]]:
    ingest(engine, *STORY)
    service.detect(engine)
    with engine.begin() as conn:
        accounts.add_user(conn, "ivanov", "officer")
        accounts.add_user(conn, "petrova", "officer")
        accounts.add_user(conn, "ana", "analyst")
        accounts.add_user(conn, "acme", "declarant", f.A)
        accounts.add_user(conn, "gone", "officer")
        accounts.set_disabled(conn, "gone", True)
        ids = [r["id"] for r in queries.alerts(conn)]
    assert len(ids) == 2
    return engine, ids


def _case(conn: Connection, case_id: int) -> dict[str, Any]:
    return cases.public_case(cases.show(conn, case_id))


def test_hold_inspect_findings_then_a_final_decision(two_alerts: tuple[Engine, list[int]]) -> None:
    engine, ids = two_alerts
    with engine.begin() as conn:
        case_id = cases.open_case(conn, ids[:1], "ivanov")
        cases.assign(conn, case_id, "petrova", "ivanov")
        assert _case(conn, case_id)["status"] == "assigned"
        cases.hold(conn, case_id, "petrova", "chips to a Russian buyer")
        assert (_case(conn, case_id)["status"], _case(conn, case_id)["held"]) == ("held", True)
        cases.inspect(conn, case_id, "petrova")
        with pytest.raises(CaseError, match="record the findings first"):
            cases.decide(conn, case_id, "release", "petrova")
        cases.findings(conn, case_id, "500 CPUs relabelled as toys", True, "petrova")
        case = _case(conn, case_id)
        assert case["status"] == "inspected" and case["decision"] is None
        assert case["findings"] == [{"text": "500 CPUs relabelled as toys", "discrepancy": True}]
        cases.decide(conn, case_id, "confirmed_diversion", "petrova", "relabelled")
        case = _case(conn, case_id)
    assert (case["status"], case["decision"], case["held"]) == (
        "decided",
        "confirmed_diversion",
        False,
    )
    assert [a["action"] for a in case["actions"]] == [
        "open",
        "assign",
        "hold",
        "inspect",
        "findings",
        "decide",
    ]


STEPS_REFUSED: list[tuple[str, Callable[[Connection, int], None], type[Exception], str]] = [
    ("findings before an inspection", lambda c, i: cases.findings(c, i, "x", False, "ivanov"),
     CaseError, "not being inspected"),
    ("empty findings", lambda c, i: cases.findings(c, i, " ", False, "ivanov"), BadInput,
     "findings"),
    ("reopen an open case", lambda c, i: cases.reopen(c, i, "ivanov", "why"), CaseError,
     "not decided"),
    ("reopen without a reason", lambda c, i: cases.reopen(c, i, "ivanov", ""), BadInput,
     "reason"),
    ("hold as a decision word is a hold", lambda c, i: cases.decide(c, i, "maybe", "ivanov"),
     BadInput, "not one of"),
    ("unknown assignee", lambda c, i: cases.assign(c, i, "nobody", "ivanov"), BadInput,
     "not an enabled officer"),
    ("the declarant under investigation", lambda c, i: cases.assign(c, i, "acme", "ivanov"),
     BadInput, "not an enabled officer"),
    ("an analyst", lambda c, i: cases.assign(c, i, "ana", "ivanov"), BadInput,
     "not an enabled officer"),
    ("a disabled officer", lambda c, i: cases.assign(c, i, "gone", "ivanov"), BadInput,
     "not an enabled officer"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "step", "error", "message"), STEPS_REFUSED)
def test_steps_the_state_forbids_are_refused(
    two_alerts: tuple[Engine, list[int]],
    name: str,
    step: Callable[[Connection, int], None],
    error: type[Exception],
    message: str,
) -> None:
    engine, ids = two_alerts
    with engine.begin() as conn:
        case_id = cases.open_case(conn, ids[:1], "ivanov")
    with pytest.raises(error, match=message), engine.begin() as conn:
        step(conn, case_id)


def test_reopen_withdraws_the_decision_from_alerts_and_figures(
    two_alerts: tuple[Engine, list[int]],
) -> None:
    engine, ids = two_alerts
    with engine.begin() as conn:
        first = cases.open_case(conn, ids[:1], "ivanov")
        second = cases.open_case(conn, ids[1:], "ivanov")
        cases.decide(conn, first, "confirmed_diversion", "ivanov")
        cases.decide(conn, second, "false_positive", "ivanov")
        figures = queries.outcomes(conn)
        assert (figures["precision"], figures["false_positive_rate"]) == (0.5, 0.5)
        with pytest.raises(CaseError, match="reopen it first"):
            cases.decide(conn, second, "release", "ivanov")
        cases.reopen(conn, second, "petrova", "the buyer turned out to be a front company")
        case = _case(conn, second)
        assert (case["status"], case["decision"], case["reopened"]) == ("open", None, 1)
        assert {a["status"] for a in case["alerts"]} == {"in_case"}
        assert queries.outcomes(conn)["by_decision"] == {"confirmed_diversion": 1}
        cases.decide(conn, second, "confirmed_diversion", "petrova", "front company")
        figures = queries.outcomes(conn)
    assert (figures["decided"], figures["precision"], figures["false_positive_rate"]) == (
        2,
        1.0,
        0.0,
    )
    with engine.connect() as conn:
        assert {a["status"] for a in queries.alerts(conn)} == {"closed"}
        assert [c["decision"] for c in cases.cases(conn, "decided")] == [
            "confirmed_diversion",
            "confirmed_diversion",
        ]


def test_hold_and_inspect_as_decision_words_are_states(
    two_alerts: tuple[Engine, list[int]],
) -> None:
    """Clients that sent `hold` or `inspect` as a decision get the state of that name; the
    case stays open for its real decision (the reported dead end: held goods never released)."""
    engine, ids = two_alerts
    with engine.begin() as conn:
        case_id = cases.open_case(conn, ids[:1], "ivanov")
        cases.decide(conn, case_id, "hold", "ivanov")
        cases.decide(conn, case_id, "release", "ivanov", "documents in order")
        case = _case(conn, case_id)
    assert (case["status"], case["decision"], case["held"]) == ("decided", "release", False)


def test_migration_keeps_decided_cases_of_a_populated_database(tmp_path: Any) -> None:
    """0005 -> 0013 on SQLite: the case log is rebuilt (new actions, a round column) and a
    case decided before still stands, and can now be reopened."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from keruen.store import db

    eng = db.new_engine(str(tmp_path / "old.db"))
    cfg = Config()
    cfg.set_main_option("script_location", "keruen/store/migrations")
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
        conn.execute(
            sa.text("INSERT INTO risk_cases (title, opened_us, opened_by) VALUES ('c', 1, 'x')")
        )
        conn.execute(
            sa.text(
                "INSERT INTO risk_case_actions (case_id, time_us, actor, action, detail) "
                "VALUES (1, 1, 'x', 'open', '{}'), (1, 2, 'x', 'decide', :held)"
            ),
            {"held": '{"decision": "hold", "reason": ""}'},
        )
    db.migrate(eng)
    with eng.begin() as conn:
        case = _case(conn, 1)
        assert (case["status"], case["decision"]) == ("decided", "hold")
        cases.reopen(conn, 1, "y", "held goods must be decided")
        cases.decide(conn, 1, "release", "y")
        assert _case(conn, 1)["decision"] == "release"
    eng.dispose()

"""Cases from the dashboard: open from one or several alerts, assign, note, decide with a
reason; the case log is the audit trail; only officers work cases; forms need the CSRF token."""

from __future__ import annotations

import re

import sqlalchemy as sa

from keruen.api.tables import audit_log
from keruen.risk import cases, queries
from tests.web.conftest import Web


def open_ids(web: Web) -> list[int]:
    with web.engine.connect() as conn:
        return [int(a["id"]) for a in queries.alerts(conn, "open")]


def post(web: Web, user: str, path: str, **form: object) -> object:
    data = {"csrf": web.csrf(user), **form}
    return web.sign_in(user).post(path, data=data, follow_redirects=False)


def test_an_alert_is_worked_to_a_decided_case(web: Web) -> None:
    first, second = open_ids(web)[:2]
    r = post(web, "olga", "/ui/cases", alert=[first, second], title="two dispatches")
    assert r.status_code == 303  # type: ignore[attr-defined]
    where = r.headers["location"]  # type: ignore[attr-defined]
    case_id = int(where.rsplit("/", 1)[1])
    assert post(web, "olga", f"/ui/cases/{case_id}/assign", officer="olga").status_code == 303  # type: ignore[attr-defined]
    assert (
        post(web, "olga", f"/ui/cases/{case_id}/notes", text="checked the waybills").status_code
        == 303
    )  # type: ignore[attr-defined]
    r = post(
        web,
        "olga",
        f"/ui/cases/{case_id}/decision",
        decision="confirmed_diversion",
        reason="re-export to RU",
    )
    assert r.status_code == 303  # type: ignore[attr-defined]
    with web.engine.connect() as conn:
        case = cases.public_case(cases.show(conn, case_id))
    assert case["status"] == "decided" and case["decision"] == "confirmed_diversion"
    assert [a["action"] for a in case["actions"]] == ["open", "assign", "note", "decide"]
    assert {a["id"] for a in case["alerts"]} == {first, second}
    page = web.get("olga", where).text
    assert page.count('<tr data-action="') == 4 and "re-export to RU" in page
    assert f'action="/ui/cases/{case_id}/decision"' not in page  # decided once
    with web.engine.connect() as conn:
        logged = set(conn.scalars(sa.select(audit_log.c.action).where(audit_log.c.actor == "olga")))
    assert {"case.open", "case.assign", "case.note", "case.decide", "case.read"} <= logged


def test_a_decision_needs_a_reason_and_a_known_kind(web: Web) -> None:
    r = post(web, "olga", "/ui/cases", alert=open_ids(web)[0])
    case_id = int(r.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
    no_reason = post(web, "olga", f"/ui/cases/{case_id}/decision", decision="release", reason="")
    assert no_reason.status_code == 422 and "reason" in no_reason.text  # type: ignore[attr-defined]
    unknown = post(web, "olga", f"/ui/cases/{case_id}/decision", decision="shrug", reason="x")
    assert unknown.status_code == 422 and "decision" in unknown.text  # type: ignore[attr-defined]


def test_an_alert_in_a_case_cannot_open_another(web: Web) -> None:
    first = open_ids(web)[0]
    post(web, "olga", "/ui/cases", alert=first)
    again = post(web, "olga", "/ui/cases", alert=first)
    assert again.status_code == 409 and "is in case" in again.text  # type: ignore[attr-defined]


def test_only_officers_work_cases(web: Web) -> None:
    first = open_ids(web)[0]
    for user in ("acme", "ana", "root"):
        assert web.get(user, "/ui/cases").status_code == 403
        r = post(web, user, "/ui/cases", alert=first) if user != "ana" else None
        if r is not None:
            assert r.status_code == 403  # type: ignore[attr-defined]
    assert first in open_ids(web)


def test_forms_without_the_token_change_nothing(web: Web) -> None:
    first = open_ids(web)[0]
    client = web.sign_in("olga")
    r = client.post("/ui/cases", data={"alert": first}, follow_redirects=False)
    assert r.status_code == 403
    assert first in open_ids(web)


def test_the_inbox_opens_a_case_from_several_alerts(web: Web) -> None:
    page = web.get("olga", "/ui/alerts").text
    boxes = re.findall(r'name="alert" value="(\d+)"', page)
    assert len(boxes) == len(open_ids(web))
    assert 'action="/ui/cases"' in page
    assert 'name="alert"' not in web.get("acme", "/ui/alerts").text  # declarants do not


def test_hold_inspect_findings_decide_and_reopen(web: Web) -> None:
    r = post(web, "olga", "/ui/cases", alert=open_ids(web)[0])
    case_id = int(r.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
    path = f"/ui/cases/{case_id}"
    for step, fields in (
        ("hold", {"reason": "documents missing"}),
        ("inspect", {"reason": "physical check"}),
        ("findings", {"text": "processors, as declared", "discrepancy": "on"}),
        ("decision", {"decision": "confirmed_diversion", "reason": "buyer in RU"}),
        ("reopen", {"reason": "appeal"}),
    ):
        answer = post(web, "olga", f"{path}/{step}", **fields)
        assert answer.status_code == 303, (step, answer.text)  # type: ignore[attr-defined]
    with web.engine.connect() as conn:
        case = cases.public_case(cases.show(conn, case_id))
    assert [a["action"] for a in case["actions"]] == [
        "open",
        "hold",
        "inspect",
        "findings",
        "decide",
        "reopen",
    ]
    assert case["status"] != "decided"
    assert f'action="/ui/cases/{case_id}/decision"' in web.get("olga", path).text

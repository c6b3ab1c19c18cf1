"""Cases over HTTP: officers open, assign, note and decide; nobody else sees or touches them."""

from __future__ import annotations

from typing import Any

import pytest

from keruen.risk import service
from tests.api.conftest import Api
from tests.factory import A, dispatch, import_

BATCH = "55501/010324/0000001/001"


@pytest.fixture
def alerted(api: Api) -> tuple[Api, list[int]]:
    r = api.post_events("olga", import_("a1", BATCH, holder=A), dispatch("a2", BATCH, A, "50"))
    assert r.json()["accepted"] == 2, r.text
    service.detect(api.engine)
    ids = [a["id"] for a in api.get("olga", "/v1/alerts").json()]
    assert ids
    return api, ids


def post(api: Api, user: str, path: str, body: dict[str, Any]) -> Any:
    return api.client.post(path, json=body, headers=api.auth(user))


def test_an_officer_works_an_alert_into_a_decided_case(alerted: tuple[Api, list[int]]) -> None:
    api, ids = alerted
    opened = post(api, "olga", "/v1/cases", {"alert_ids": ids[:1], "title": "CHPL to RU"})
    assert opened.status_code == 201, opened.text
    case = opened.json()["id"]
    assert (
        post(api, "olga", f"/v1/cases/{case}/assign", {"officer": "olga"}).json()["assignee"]
        == "olga"
    )
    assert (
        post(api, "olga", f"/v1/cases/{case}/notes", {"text": "buyer checked"}).status_code == 200
    )
    held = post(api, "olga", f"/v1/cases/{case}/decision", {"decision": "hold", "reason": "CHPL"})
    assert (held.json()["status"], held.json()["decision"], held.json()["held"]) == (
        "held",
        None,
        True,
    )  # a state on the way, not a decision
    decided = post(api, "olga", f"/v1/cases/{case}/decision", {"decision": "release"})
    assert (decided.json()["status"], decided.json()["decision"]) == ("decided", "release")
    again = post(api, "olga", f"/v1/cases/{case}/decision", {"decision": "false_positive"})
    assert again.status_code == 409
    shown = api.get("olga", f"/v1/cases/{case}").json()
    assert [a["action"] for a in shown["actions"]][:5] == [
        "open",
        "assign",
        "note",
        "hold",
        "decide",
    ]
    audit = api.get("root", "/v1/audit").json()
    assert {"case.open", "case.decide"} <= {e["action"] for e in audit}


def test_an_alert_belongs_to_one_case(alerted: tuple[Api, list[int]]) -> None:
    api, ids = alerted
    assert post(api, "olga", "/v1/cases", {"alert_ids": ids[:1]}).status_code == 201
    assert post(api, "olga", "/v1/cases", {"alert_ids": ids[:1]}).status_code == 409


@pytest.mark.parametrize("user", ["acme", "bolat", "ana", "root"])
def test_only_officers_work_cases(alerted: tuple[Api, list[int]], user: str) -> None:
    api, ids = alerted
    assert post(api, user, "/v1/cases", {"alert_ids": ids[:1]}).status_code == 403
    assert api.get(user, "/v1/cases").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"alert_ids": []}, "alert_ids"),
        ({"alert_ids": [999999]}, None),
        ({"title": "x"}, "alert_ids"),
    ],
)
def test_bad_case_input_is_a_clear_4xx(
    alerted: tuple[Api, list[int]], body: dict[str, Any], field: str | None
) -> None:
    api, _ = alerted
    r = post(api, "olga", "/v1/cases", body)
    assert r.status_code in (404, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if field:
        assert field in r.text


def test_inspection_findings_and_reopening_over_http(alerted: tuple[Api, list[int]]) -> None:
    api, ids = alerted
    case = post(api, "olga", "/v1/cases", {"alert_ids": ids[:1]}).json()["id"]
    refused = post(api, "olga", f"/v1/cases/{case}/assign", {"officer": "acme"})
    assert refused.status_code == 422 and refused.json()["field"] == "officer"  # a declarant
    assert post(api, "olga", f"/v1/cases/{case}/inspect", {}).json()["status"] == "inspecting"
    early = post(api, "olga", f"/v1/cases/{case}/decision", {"decision": "release"})
    assert early.status_code == 409
    found = post(
        api, "olga", f"/v1/cases/{case}/findings", {"text": "as declared", "discrepancy": False}
    ).json()
    assert found["status"] == "inspected" and found["findings"][0]["discrepancy"] is False
    decided = post(api, "olga", f"/v1/cases/{case}/decision", {"decision": "false_positive"})
    assert decided.json()["decision"] == "false_positive"
    assert post(api, "olga", f"/v1/cases/{case}/reopen", {"reason": ""}).status_code == 422
    reopened = post(api, "olga", f"/v1/cases/{case}/reopen", {"reason": "appeal"}).json()
    assert (reopened["status"], reopened["decision"], reopened["reopened"]) == ("open", None, 1)
    assert {a["actor"] for a in reopened["actions"]} == {"olga"}  # the signed-in officer
    audit = {e["action"] for e in api.get("root", "/v1/audit").json()}
    assert {"case.inspect", "case.findings", "case.decide", "case.reopen"} <= audit

"""The alert inbox and alert view: what each role sees, against the ledger's own alerts."""

from __future__ import annotations

import re

import sqlalchemy as sa

from keruen.api.tables import audit_log
from keruen.risk import queries
from tests.factory import A, C
from tests.web.conftest import Web

ROW = re.compile(r'<tr data-alert="(\d+)">')
ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>')


def shown(html: str) -> set[int]:
    return {int(i) for i in ROW.findall(html)}


def ledger_alerts(web: Web) -> list[dict[str, object]]:
    with web.engine.connect() as conn:
        return queries.alerts(conn, "open")


def test_officer_sees_every_open_alert(web: Web) -> None:
    expected = {a["id"] for a in ledger_alerts(web)}
    assert expected
    page = web.get("olga", "/ui/alerts")
    assert page.status_code == 200
    assert shown(page.text) == expected


def test_declarants_see_no_alert_by_default(web: Web) -> None:
    mine = [a["id"] for a in ledger_alerts(web) if A in a["tax_ids"]]  # type: ignore[operator]
    assert mine
    page = web.get("acme", "/ui/alerts").text
    assert shown(page) == set() and "Alerts are not shown to companies" in page
    assert web.get("acme", f"/ui/alerts/{mine[0]}").status_code == 404


def test_declarants_see_what_the_api_shows_them_when_allowed(web_own: Web) -> None:
    for user in ("acme", "bolat", "caspian"):
        api = web_own.anonymous().get(
            "/v1/alerts?status=open", headers={"Authorization": f"Bearer {web_own.keys[user]}"}
        )
        assert shown(web_own.get(user, "/ui/alerts").text) == {a["id"] for a in api.json()}
    own = (
        web_own.anonymous()
        .get("/v1/alerts", headers={"Authorization": f"Bearer {web_own.keys['acme']}"})
        .json()
    )
    assert own
    page = web_own.get("acme", f"/ui/alerts/{own[0]['id']}").text
    assert own[0]["explanation"] in page and "<h2>Facts</h2>" not in page


def test_roles_without_party_data_are_refused(web: Web) -> None:
    for user in ("ana", "root"):
        page = web.get(user, "/ui/alerts")
        assert page.status_code == 403
        assert "may not read party-level data" in page.text
        assert not ROW.search(page.text)


def test_another_companys_alert_looks_like_a_missing_one(web_own: Web) -> None:
    web = web_own
    alerts = ledger_alerts(web)
    theirs = min(a["id"] for a in alerts if C in a["tax_ids"] and A not in a["tax_ids"])  # type: ignore[operator]
    refused = web.get("acme", f"/ui/alerts/{theirs}")
    missing = web.get("acme", "/ui/alerts/999999")
    assert refused.status_code == missing.status_code == 404
    said = ERROR.findall(refused.text), ERROR.findall(missing.text)
    assert said[0] and [m.replace(str(theirs), "N") for m in said[0]] == [
        m.replace("999999", "N") for m in said[1]
    ]


def test_alert_view_shows_explanation_facts_and_identifiers(web: Web) -> None:
    alert = max(ledger_alerts(web), key=lambda a: a["score"])  # type: ignore[arg-type, return-value]
    page = web.get("olga", f"/ui/alerts/{alert['id']}").text
    assert str(alert["explanation"]).split(" ")[0] in page
    for batch in alert["batches"]:  # type: ignore[attr-defined]
        assert f'href="/ui/batches/{batch}"' in page
    for key in alert["facts"]:  # type: ignore[attr-defined]
        assert f"<th>{key}</th>" in page


def test_filters_narrow_the_inbox(web: Web) -> None:
    alerts = ledger_alerts(web)
    rule = str(alerts[0]["rule"])
    by_rule = shown(web.get("olga", f"/ui/alerts?rule={rule}").text)
    assert by_rule == {a["id"] for a in alerts if a["rule"] == rule}
    by_party = shown(web.get("olga", f"/ui/alerts?party={C}").text)
    assert by_party == {a["id"] for a in alerts if C in a["tax_ids"]}  # type: ignore[operator]
    assert shown(web.get("olga", "/ui/alerts?score=1").text) == {
        a["id"]
        for a in alerts
        if float(a["score"]) >= 1  # type: ignore[arg-type]
    }
    assert shown(web.get("olga", "/ui/alerts?hs=8542").text) == {
        a["id"] for a in alerts if "8542" in str(a["facts"]) or a["batches"]
    }
    assert shown(web.get("olga", "/ui/alerts?hs=01").text) == set()
    assert shown(web.get("olga", "/ui/alerts?since=2030-01-01").text) == set()


def test_bad_filters_answer_a_page_naming_the_field(web: Web) -> None:
    for query, named in (("score=abc", "score"), ("lane=purple", "lane"), ("hs=85x", "hs")):
        page = web.get("olga", f"/ui/alerts?{query}")
        assert page.status_code == 422, query
        assert named in page.text and "text/html" in page.headers["content-type"]


def test_reads_are_audited_like_the_api(web: Web) -> None:
    web.get("acme", "/ui/alerts")
    web.get("acme", "/ui/alerts/999999")
    with web.engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.subject, audit_log.c.outcome).where(
                audit_log.c.actor == "acme"
            )
        ).all()
    assert ("alerts.read", A, "ok") in rows
    assert ("alert.read", "999999", "not_found") in rows

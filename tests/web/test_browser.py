"""The dashboard as a person uses it: Chromium signs in through the form and reads the pages.

Runs wherever /usr/bin/chromium is installed; under CI=true a missing Chromium fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from keruen.api.tables import users
from keruen.ingest import ingest_lines
from keruen.risk import cases, documents, queries
from keruen.store import queries as store_queries
from keruen.store.port import LedgerReader
from tests.factory import A, C, import_, line
from tests.web.conftest import MINE, THEIRS, Site, password

MAY_TIME = "2024-05-14T10:00:00+05:00"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def open_alert_ids(site: Site, tax_id: str | None = None) -> set[int]:
    with site.engine.connect() as conn:
        return {
            int(a["id"])
            for a in queries.alerts(conn, "open")
            if tax_id is None or tax_id in a["tax_ids"]
        }


def rows_shown(page: object) -> set[int]:
    cells = page.locator("tr[data-alert]")  # type: ignore[attr-defined]
    return {int(cells.nth(i).get_attribute("data-alert")) for i in range(cells.count())}


def test_officer_signs_in_and_sees_the_ledgers_alerts(site: Site) -> None:
    page = site.page_as("olga")
    assert page.url.endswith("/ui/alerts")
    assert page.locator("header .who").inner_text().startswith("olga")
    assert rows_shown(page) == open_alert_ids(site)
    first = page.locator("tr[data-alert] a").first
    alert_id = first.inner_text()
    first.click()
    page.wait_for_url(f"**/ui/alerts/{alert_id}")
    assert page.locator("h1").inner_text().startswith(f"Alert {alert_id}")
    assert page.locator(".explanation").inner_text()
    page.context.close()


def test_declarant_sees_no_alerts_by_default(site: Site) -> None:
    assert open_alert_ids(site, A)
    page = site.page_as("acme")
    assert rows_shown(page) == set()
    assert "not shown to companies" in page.locator("p.empty").inner_text()
    page.context.close()


def test_analyst_and_admin_are_refused_the_inbox(site: Site) -> None:
    for user in ("ana", "root"):
        page = site.page_as(user, "/ui/alerts")
        assert "may not read party-level data" in page.locator("p.error").inner_text()
        assert page.locator("tr[data-alert]").count() == 0
        assert page.locator("nav a[href='/ui/alerts']").count() == 0
        page.context.close()


def test_wrong_password_stays_on_the_form(site: Site) -> None:
    page = site.browser.new_page()
    page.goto(f"{site.base}/ui/login")
    page.fill("input[name=username]", "olga")
    page.fill("input[name=password]", "not-my-key")
    page.click("form.login button[type=submit]")
    assert "wrong password" in page.locator("p.error").inner_text()
    assert "/ui/login" in page.url
    page.close()


def test_the_inbox_reads_without_javascript(site: Site) -> None:
    context = site.browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site.base}/ui/login?next=/ui/alerts")
    page.fill("input[name=username]", "olga")
    page.fill("input[name=password]", password("olga"))
    page.click("form.login button[type=submit]")
    page.wait_for_url("**/ui/alerts")
    assert rows_shown(page) == open_alert_ids(site)
    context.close()


def test_language_switch_keeps_the_page(site: Site) -> None:
    page = site.page_as("olga")
    page.click("a.lang[href^='/ui/lang/kk']")
    page.wait_for_url("**/ui/alerts")
    assert page.locator("h1").inner_text() == "Ескертулер"
    assert page.locator("html").get_attribute("lang") == "kk"
    page.context.close()


def test_officer_works_an_alert_to_a_decided_case(site: Site) -> None:
    page = site.page_as("olga")
    alert_id = page.locator("tr[data-alert] a").first.inner_text()
    page.click(f"tr[data-alert='{alert_id}'] a")
    page.wait_for_url(f"**/ui/alerts/{alert_id}")
    page.fill("input[name=title]", "dispatch of processors to RU")
    page.click("text=Open a case")
    page.wait_for_url("**/ui/cases/*")
    case_url = page.url
    assert page.locator(".case-status").inner_text() == "open"
    page.select_option("form.assign select[name=officer]", "olga")
    page.click("form.assign button")
    expect(page.locator(".case-status")).to_have_text("assigned")
    page.fill("form.note textarea", "waybills checked with the carrier")
    page.click("form.note button")
    expect(page.locator("table.trail tr[data-action='note']")).to_have_count(1)
    page.select_option("form.decide select[name=decision]", "confirmed_diversion")
    page.fill("form.decide textarea", "goods went on to Russia")
    page.click("form.decide button")
    expect(page.locator(".case-decision")).to_have_text("confirmed diversion")
    assert page.url == case_url
    actions = page.locator("table.trail tr[data-action]")
    assert [actions.nth(i).get_attribute("data-action") for i in range(actions.count())] == [
        "open",
        "assign",
        "note",
        "decide",
    ]
    with site.engine.connect() as conn:
        alert = queries.alert(conn, int(alert_id))
    assert alert["status"] == "closed" and alert["decision"] == "confirmed_diversion"
    page.context.close()


def test_declarant_cannot_reach_another_companys_batch_by_url(site: Site) -> None:
    page = site.page_as("acme", f"/ui/batches/{MINE}")
    assert page.locator("h1").inner_text().endswith(MINE)
    page.goto(f"{site.base}/ui/batches/{THEIRS}")
    assert page.locator("h1").inner_text().startswith("404")
    assert C not in page.content()
    page.context.close()


def test_brushing_the_monthly_chart_filters_the_trade_table(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERUEN_EXPORT", str(tmp_path / "export"))
    may = {**import_("may1", "55501/010524/0000009/001", holder=A), "time": MAY_TIME}
    may["value"] = {"amount": "4321.00", "currency": "USD"}
    assert ingest_lines(site.engine, [line(may)]).rejected == 0
    page = site.page_as("ana", "/ui/trade?flow=import&by=partner,year")
    march = page.locator("rect[data-period='2024-03']").bounding_box()
    may_bar = page.locator("rect[data-period='2024-05']").bounding_box()
    assert march and may_bar
    y = may_bar["y"] + may_bar["height"] / 2
    page.mouse.move(may_bar["x"] + may_bar["width"] * 0.2, y)  # drag over May only
    page.mouse.down()
    page.mouse.move(may_bar["x"] + may_bar["width"] * 0.8, y, steps=5)
    page.mouse.up()
    page.wait_for_url("**from=2024-05&to=2024-05")
    assert page.locator("table.trade tbody tr").count() == 1
    assert "4,321" in page.locator("table.trade").inner_text()
    page.mouse.move(march["x"] + 2, y)  # a drag over both months: the whole span
    page.mouse.down()
    page.mouse.move(may_bar["x"] + may_bar["width"] - 2, y, steps=8)
    page.mouse.up()
    page.wait_for_url("**from=2024-03&to=2024-05")
    assert page.locator("rect.bar.out").count() == 0
    page.context.close()


def test_the_trade_period_works_without_javascript(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERUEN_EXPORT", str(tmp_path / "export"))
    context = site.browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site.base}/ui/login?next=/ui/trade?flow=import%26by=partner,year")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", password("ana"))
    page.click("form.login button[type=submit]")
    page.locator("rect[data-period='2024-03']").click()  # the month's link
    assert "from=2024-03&to=2024-03" in page.url
    assert page.locator("table.trade tbody tr").count() == 1
    context.close()


def test_officer_attaches_a_document_in_the_browser(site: Site) -> None:
    first = min(open_alert_ids(site))
    with site.engine.begin() as conn:
        case_id = cases.open_case(conn, [first], "olga", "documents")
    page = site.page_as("olga", f"/ui/cases/{case_id}")
    page.set_input_files(
        "form.attach-document input[name=document]",
        files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.click("form.attach-document button")
    expect(page.locator("table.documents tr[data-document]")).to_have_count(1)
    assert "report.pdf" in page.locator("table.documents").inner_text()
    expect(page.locator("table.trail tr[data-action='document']")).to_have_count(1)
    page.set_input_files(
        "form.attach-document input[name=document]",
        files=[{"name": "tool.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00"}],
    )
    page.click("form.attach-document button")
    assert "accepted type" in page.content()
    with site.engine.connect() as conn:
        assert len(documents.listed(conn, case_id)) == 1
    page.context.close()
    declarant = site.page_as("acme", f"/ui/cases/{case_id}")
    assert "report.pdf" not in declarant.content()
    declarant.context.close()


def test_the_policy_form_compares_thresholds(site: Site) -> None:
    page = site.page_as("ana", "/ui/outcomes")
    page.fill("form.policy input[name=red]", "0.9")
    page.fill("form.policy input[name=random_rate]", "0.05")
    page.click("form.policy button")
    page.wait_for_url("**red=0.9**")
    cells = page.locator("table.policy tr").nth(1).locator("td")
    assert cells.nth(2).inner_text().startswith("0.9 /")
    assert page.locator("table.policy tr[data-policy='checked']").count() == 1
    page.context.close()


def attribute_values(page: object, selector: str, name: str) -> set[str]:
    cells = page.locator(selector)  # type: ignore[attr-defined]
    return {cells.nth(i).get_attribute(name) for i in range(cells.count())}


def test_every_other_screen_shows_the_ledger_to_its_role_and_refuses_the_rest(
    site: Site,
) -> None:
    """Party, stock, events, outcomes, pre-check and administration in the browser: what each
    shows is the ledger's, and a role that must not see it is refused."""
    with site.engine.connect() as conn:
        party_events = {s.event.id for s in LedgerReader(conn).select_events(party=A)}
        stock = {r["batch"] for r in store_queries.public(store_queries.stock(conn, A))}
        names = set(conn.scalars(users.select().with_only_columns(users.c.name)))
        alerts = queries.outcomes(conn)["alerts"]
    assert party_events and stock and names

    page = site.page_as("olga", f"/ui/parties/{A}")
    assert attribute_values(page, "tr[data-event]", "data-event") == party_events
    page.context.close()
    page = site.page_as("acme", "/ui/stock")
    assert attribute_values(page, "tr[data-batch]", "data-batch") == stock
    page.goto(f"{site.base}/ui/events")
    assert attribute_values(page, "tr[data-event]", "data-event") == party_events
    page.goto(f"{site.base}/ui/outcomes")
    assert page.locator('[data-kpi="alerts"] b').inner_text() == f"{alerts:,}"
    page.goto(f"{site.base}/ui/precheck")
    page.fill("input[name=batch]", MINE)
    page.fill("input[name=quantity]", "10")
    page.fill("input[name=buyer_name]", "OOO Romashka")
    page.fill("input[name=buyer_country]", "RU")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".lane").first.inner_text()
    page.context.close()
    page = site.page_as("root", "/ui/admin")
    assert attribute_values(page, "[data-user]", "data-user") == names
    page.context.close()

    for user, path in (("ana", f"/ui/parties/{A}"), ("ana", "/ui/stock"), ("olga", "/ui/admin")):
        page = site.page_as(user, "/ui/outcomes")
        assert page.goto(f"{site.base}{path}").status == 403, (user, path)
        page.context.close()
    page = site.page_as("acme", f"/ui/parties/{C}")
    assert page.goto(f"{site.base}/ui/parties/{C}").status == 404  # forbidden answers as unknown
    page.context.close()

"""Screenshots of every dashboard screen, for docs/screens/ (look at them after a change).

    .venv/bin/keruen demo --db /tmp/screens.db
    .venv/bin/python scripts/screens.py /tmp/screens.db docs/screens

Works on a copy of the demo ledger: adds a declarant, opens and decides a case, serves the app
on a free local port and has Debian's Chromium take each screen as the role that uses it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import uvicorn

from keruen.api import accounts, create_app
from keruen.demo.dashboard import PASSWORD
from keruen.ingest import ingest_lines
from keruen.risk import cases, documents, queries
from keruen.store import db

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARGS += ["--disable-component-update", "--disable-sync", "--no-first-run"]


IMPORT = {
    "type": "import",
    "id": "screens-import-1",
    "time": "2022-12-30T10:00:00+05:00",
    "batch": "55599/301222/0009999/001",
    "goods": {"hs": "854231", "description": "processors", "unit": "PCE", "origin": "US"},
    "quantity": "500",
    "value": {"amount": "120000.00", "currency": "USD"},
    "seller": {"tax_id": "CN9133", "name": "Shenzhen Hua Tech Co", "country": "CN"},
    "post": "KZHOR-ROAD",
    "document": {"kind": "DT", "number": "55599/301222/0009999"},
}


WAYBILL = b"%PDF-1.4\n% a waybill, scanned\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def prepare(path: Path) -> dict[str, str]:
    """A declarant holding a batch (the demo's stock is all sold by the year's end), a decided
    case and an open one; returns the identifiers to show."""
    eng = db.ready(str(path))
    with eng.begin() as conn:
        holder = conn.execute(
            sa.text(
                "SELECT target FROM moves WHERE kind = 'transfer' AND length(target) = 12 "
                "GROUP BY target ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
        accounts.add_user(conn, "declarant", "declarant", holder, PASSWORD)
    report = ingest_lines(eng, [json.dumps({**IMPORT, "holder": holder}).encode()])
    assert report.rejected == 0, "the screens' own import was rejected"
    with eng.begin() as conn:
        top = [a for a in queries.alerts(conn, "open") if a["batches"]]
        chain = next(a for a in top if a["rule"] == "high_priority_goods")
        first = next(a for a in top if a["id"] != chain["id"])
        decided = cases.open_case(conn, [first["id"]], "officer", "first look")
        cases.assign(conn, decided, "officer", "officer")
        cases.decide(conn, decided, "confirmed_diversion", "officer", "goods went on to Russia")
        case = cases.open_case(conn, [chain["id"]], "officer", "processors to Russia")
        cases.assign(conn, case, "officer", "officer")
        cases.note(conn, case, "waybills requested from the carrier", "officer")
        documents.add(conn, case, "waybill CMR 4471.pdf", "application/pdf", WAYBILL, "officer")
        held = IMPORT["batch"]
        mrn = conn.execute(
            sa.text("SELECT subject FROM risk_alerts WHERE subject_kind = 'transit' LIMIT 1")
        ).scalar_one()
        layered = conn.execute(
            sa.text(
                "SELECT value FROM risk_alert_refs r JOIN risk_alerts a ON a.id = r.alert_id "
                "WHERE a.rule = 'layering' AND r.kind = 'batch' LIMIT 1"
            )
        ).scalar_one()
    eng.dispose()
    return {
        "alert": str(chain["id"]),
        "case": str(case),
        "batch": layered,
        "mrn": mrn,
        "party": holder,
        "buyer_batch": held,
    }


def serve(path: Path) -> tuple[uvicorn.Server, str]:
    server = uvicorn.Server(
        uvicorn.Config(create_app(str(path)), host="127.0.0.1", port=0, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not (server.started and server.servers):
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def shots(ids: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(file, user, path, language)."""
    return [
        ("login", "", "/ui/login", "en"),
        ("alerts", "officer", "/ui/alerts", "en"),
        ("alerts-ru", "officer", "/ui/alerts?rule=high_priority_goods", "ru"),
        ("alert", "officer", f"/ui/alerts/{ids['alert']}", "en"),
        ("case", "officer", f"/ui/cases/{ids['case']}", "en"),
        ("cases", "officer", "/ui/cases?", "kk"),
        ("batch-trail", "officer", f"/ui/batches/{ids['batch']}", "en"),
        ("transits", "officer", "/ui/transits", "en"),
        ("transit", "officer", f"/ui/transits/{ids['mrn']}", "en"),
        ("party", "officer", f"/ui/parties/{ids['party']}", "en"),
        ("case-documents", "officer", f"/ui/cases/{ids['case']}#documents", "en"),
        ("outcomes", "analyst", "/ui/outcomes", "en"),
        ("outcomes-waits", "analyst", "/ui/outcomes#waits", "en"),
        (
            "outcomes-policy",
            "analyst",
            "/ui/outcomes?red=0.7&yellow=0.45&blue=0.35&random_rate=0.01#policy",
            "en",
        ),
        ("trade", "analyst", "/ui/trade?flow=turnover&by=partner,year", "en"),
        ("trade-period", "analyst", "/ui/trade?flow=dispatch&by=partner,year", "en"),
        ("admin", "admin", "/ui/admin", "en"),
        ("stock", "declarant", "/ui/stock", "en"),
        ("events", "declarant", "/ui/events", "ru"),
        ("precheck", "declarant", "/ui/precheck", "en"),
        ("refused", "analyst", f"/ui/alerts/{ids['alert']}", "en"),
    ]


def brush(page: Any) -> None:
    """Drag across the monthly chart from its fourth to its seventh month."""
    bars = page.locator("svg.series rect[data-period]")
    start, end = bars.nth(3).bounding_box(), bars.nth(6).bounding_box()
    y = start["y"] + start["height"] - 4
    page.mouse.move(start["x"] + 2, y)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] - 2, y, steps=10)
    page.mouse.up()
    page.wait_for_url("**to=*")
    page.wait_for_load_state("networkidle")


def main(ledger: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "screens.db"
        shutil.copyfile(ledger, path)
        os.environ["KERUEN_EXPORT"] = str(Path(tmp) / "export")  # the trade screen's export
        ids = prepare(path)
        server, base = serve(path)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for name, user, target, lang in shots(ids):
                context = browser.new_context(viewport={"width": 1360, "height": 900})
                page = context.new_page()
                page.goto(f"{base}/ui/lang/{lang}?next=/ui/login")
                if user:
                    page.goto(f"{base}/ui/login?next={target}")
                    page.fill("input[name=username]", user)
                    page.fill("input[name=password]", PASSWORD)
                    page.click("form.login button[type=submit]")
                    page.wait_for_load_state("networkidle")
                if "#" in target:  # the sign-in's ?next= drops the fragment: go to it
                    page.goto(f"{base}{target}")
                if name == "trade-period":  # brush from March to June with the mouse
                    brush(page)
                if name == "precheck":
                    page.fill("input[name=batch]", ids["buyer_batch"])
                    page.fill("input[name=quantity]", "10")
                    page.fill("input[name=buyer_name]", "OOO Romashka")
                    page.fill("input[name=buyer_country]", "RU")
                    page.click("form.precheck button")
                    page.wait_for_selector(".result, p.error", timeout=15000)
                page.screenshot(path=str(out / f"{name}.png"))
                print(f"{name}: {page.url}")
                context.close()
            browser.close()
        server.should_exit = True


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

"""Party, declarant, outcome and administration screens: the figures shown against the ledger,
and the refusals for roles (and companies) that must not see them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from keruen.analytics import service
from keruen.analytics.export import export_parquet
from keruen.api.access import Principal, Role
from keruen.api.tables import users
from keruen.model import events as ev
from keruen.risk import queries as risk_queries
from keruen.store import queries
from keruen.store.port import LedgerReader
from keruen.web.views.declarant import _plan
from tests.factory import A, C, import_
from tests.web.conftest import MINE, THEIRS, Web

EVENT = re.compile(r'<tr data-event="([^"]+)"')
BATCH = re.compile(r'<tr data-batch="([^"]+)"')


def form(web: Web, user: str, path: str, **fields: object) -> object:
    return web.sign_in(user).post(path, data={"csrf": web.csrf(user), **fields})


def test_party_page_shows_its_events_and_counterparties(web: Web) -> None:
    page = web.get("olga", f"/ui/parties/{A}")
    assert page.status_code == 200
    with web.engine.connect() as conn:
        mine = {s.event.id for s in LedgerReader(conn).select_events(party=A)}
    assert set(EVENT.findall(page.text)) == mine
    assert "Mar 2015" in page.text  # BIN 1503...: registered in March 2015
    assert f'href="/ui/parties/{C}"' not in page.text  # never traded with C


def test_a_declarant_sees_its_own_party_page_only(web: Web) -> None:
    assert web.get("acme", f"/ui/parties/{A}").status_code == 200
    other, unknown = web.get("acme", f"/ui/parties/{C}"), web.get("acme", "/ui/parties/999")
    assert other.status_code == unknown.status_code == 404
    assert web.get("ana", f"/ui/parties/{A}").status_code == 403


def test_stock_is_the_declarants_own_whatever_the_url_asks(web: Web) -> None:
    with web.engine.connect() as conn:
        own = {r["batch"] for r in queries.public(queries.stock(conn, A))}
        theirs = {r["batch"] for r in queries.public(queries.stock(conn, C))}
    assert own and theirs and own != theirs
    assert set(BATCH.findall(web.get("acme", "/ui/stock").text)) == own
    assert set(BATCH.findall(web.get("acme", f"/ui/stock?holder={C}").text)) == own
    assert set(BATCH.findall(web.get("olga", f"/ui/stock?holder={C}").text)) == theirs
    assert web.get("ana", "/ui/stock").status_code == 403


def test_events_and_rejections_are_the_declarants_own(web: Web) -> None:
    api = web.anonymous()
    bad = import_("bad-1", MINE, holder=A)  # the batch exists already: rejected
    r = api.post("/v1/events", json=bad, headers={"Authorization": f"Bearer {web.keys['acme']}"})
    assert r.status_code == 422, r.text
    page = web.get("acme", "/ui/events").text
    with web.engine.connect() as conn:
        mine = {s.event.id for s in LedgerReader(conn).select_events(party=A)}
    assert set(EVENT.findall(page)) == mine
    assert 'data-rejection="' in page and "bad-1" in page
    assert "bad-1" not in web.get("caspian", "/ui/events").text


def test_precheck_answers_with_lane_and_reasons(web: Web) -> None:
    buyer = {"buyer_name": "OOO Romashka", "buyer_tax_id": "7701234567", "buyer_country": "RU"}
    r = form(web, "acme", "/ui/precheck", batch=MINE, quantity="10", **buyer)
    assert r.status_code == 200  # type: ignore[attr-defined]
    assert re.search(r'class="lane (green|yellow|red|blue)"', r.text)  # type: ignore[attr-defined]
    assert "high_priority_goods" in r.text  # type: ignore[attr-defined]
    theirs = form(web, "acme", "/ui/precheck", batch=THEIRS, quantity="10", **buyer)
    assert theirs.status_code == 404  # type: ignore[attr-defined]
    wrong = form(web, "acme", "/ui/precheck", batch=MINE, quantity="ten", **buyer)
    assert wrong.status_code == 422 and "quantity" in wrong.text  # type: ignore[attr-defined]
    forged = web.sign_in("acme").post("/ui/precheck", data={"batch": MINE, "quantity": "1"})
    assert forged.status_code == 403


def test_outcomes_are_open_to_every_signed_in_user(web: Web) -> None:
    with web.engine.connect() as conn:
        alerts = risk_queries.outcomes(conn)["alerts"]
    for user in ("olga", "ana", "acme", "root"):
        page = web.get(user, "/ui/outcomes")
        assert page.status_code == 200
        assert re.search(rf'data-kpi="alerts"><b>{alerts}</b>', page.text)
    assert web.anonymous().get("/ui/outcomes", follow_redirects=False).status_code == 303


def test_administration_is_for_administrators(web: Web) -> None:
    page = web.get("root", "/ui/admin")
    assert page.status_code == 200
    with web.engine.connect() as conn:
        names = set(conn.scalars(users.select().with_only_columns(users.c.name)))
    assert set(re.findall(r'data-user="([^"]+)"', page.text)) == names
    assert "hs2022_nomenclature.csv" in page.text
    for user in ("olga", "ana", "acme"):
        assert web.get(user, "/ui/admin").status_code == 403


def test_trade_figures_for_analysts_with_their_csv(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERUEN_EXPORT", str(tmp_path / "export"))
    page = web.get("ana", "/ui/trade?flow=turnover&by=partner,year")
    assert page.status_code == 200, page.text
    with web.engine.connect() as conn:
        export_parquet(conn, tmp_path / "check")
    rows = service.trade_figures(
        service.open_source(tmp_path / "check"), ["turnover"], ["partner", "year"]
    )
    assert rows and {f'data-bar="{r["partner"]} · {r["year"]}"' for r in rows} <= set(
        re.findall(r'data-bar="[^"]+"', page.text)
    )
    csv = web.get("ana", "/ui/trade?flow=turnover&by=partner,year&format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == len(rows) + 1
    assert web.get("acme", "/ui/trade").status_code == 403
    wrong = web.get("olga", "/ui/trade?flow=nothing")
    assert wrong.status_code != 200 and "flow" in wrong.text


@pytest.mark.parametrize(
    ("entered", "expected"), [("", None), ("  ", None), ("7701234567", "7701234567")]
)
def test_a_buyer_without_a_tax_id_is_known_by_name_as_in_the_api(
    entered: str, expected: str | None
) -> None:
    """An empty tax id is no tax id (the buyer is then `name (country)`), never a shared
    placeholder that would make every unnamed buyer one party."""
    user = Principal(1, "acme", Role.declarant, A, "k1")
    form = {
        "batch": [MINE],
        "quantity": ["10"],
        "buyer_name": ["OOO Romashka"],
        "buyer_tax_id": [entered],
        "buyer_country": ["ru"],
    }
    buyer = _plan(user, form).buyer
    assert buyer.tax_id == expected
    party = ev.Party(tax_id=buyer.tax_id, name=buyer.name, country=buyer.country)
    assert party.key == (expected or "OOO Romashka (RU)")

"""Alert endpoints: an officer sees the queue; a declarant none, or (by policy) its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy.engine import Engine

from keruen.risk import service
from tests.api.conftest import SETTINGS, Api, make_api
from tests.factory import A, C, dispatch, import_

MINE = "55501/010324/0000001/001"
THEIRS = "55501/010324/0000002/001"


def with_alerts(api: Api) -> Api:
    """High-priority goods (integrated circuits) dispatched to Russia by A and by C."""
    r = api.post_events(
        "olga",
        import_("a1", MINE, holder=A),
        import_("c1", THEIRS, holder=C),
        dispatch("a2", MINE, A, "50"),
        dispatch("c2", THEIRS, C, "50"),
    )
    assert r.json()["accepted"] == 4, r.text
    service.detect(api.engine)
    return api


@pytest.fixture
def alerted(sqlite_api: Api) -> Api:
    return with_alerts(sqlite_api)


def ids_naming(alerts: list[dict[str, object]], tax_id: str) -> set[object]:
    return {a["id"] for a in alerts if tax_id in a.get("tax_ids", [])}  # type: ignore[operator]


@pytest.fixture
def own_alerts(sqlite_engine: Engine) -> Iterator[Api]:
    """The API with KERUEN_DECLARANT_ALERTS=own, and the alerts of `alerted`."""
    for api in make_api(sqlite_engine, replace(SETTINGS, declarant_alerts="own")):
        yield with_alerts(api)


def test_by_default_a_declarant_sees_no_alert(alerted: Api) -> None:
    queue = alerted.get("olga", "/v1/alerts").json()
    assert ids_naming(queue, A) and ids_naming(queue, C)
    assert alerted.get("acme", "/v1/alerts").json() == []
    mine = min(ids_naming(queue, A))
    assert alerted.get("acme", f"/v1/alerts/{mine}").status_code == 404


def test_officer_sees_the_queue_and_declarant_its_own(own_alerts: Api) -> None:
    queue = own_alerts.get("olga", "/v1/alerts").json()
    mine = own_alerts.get("acme", "/v1/alerts").json()
    assert mine and {a["id"] for a in mine} <= ids_naming(queue, A)
    assert all(a["subject"] == "a2" or a["subject"] == A for a in mine)
    for a in mine:  # the rule's meaning, never the facts, evidence or other parties
        assert "facts" not in a and "tax_ids" not in a and C not in str(a)
    assert own_alerts.get("bolat", "/v1/alerts").json() == []


def test_another_companys_alert_looks_like_a_missing_one(own_alerts: Api) -> None:
    alerted = own_alerts
    queue = alerted.get("olga", "/v1/alerts").json()
    theirs = min(ids_naming(queue, C) - ids_naming(queue, A))
    mine = min(a["id"] for a in alerted.get("acme", "/v1/alerts").json())
    assert alerted.get("acme", f"/v1/alerts/{mine}").status_code == 200
    refused = alerted.get("acme", f"/v1/alerts/{theirs}")
    missing = alerted.get("acme", "/v1/alerts/999999")
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["detail"].replace(str(theirs), "N") == missing.json()["detail"].replace(
        "999999", "N"
    )


def test_counts_are_aggregates(alerted: Api) -> None:
    counts = alerted.get("ana", "/v1/alerts/counts").json()
    assert sum(counts.values()) >= 2
    assert alerted.get("ana", "/v1/alerts").status_code == 403
    assert alerted.get("acme", "/v1/alerts/counts").status_code == 403


RU = {"tax_id": "7701234567", "name": "OOO Romashka", "country": "RU"}


def test_precheck_of_own_goods_names_lane_and_reasons(sqlite_api: Api) -> None:
    api = sqlite_api
    api.post_events("olga", import_("a1", MINE, holder=A), import_("c1", THEIRS, holder=C))
    r = api.client.post(
        "/v1/precheck",
        json={"batch": MINE, "quantity": "10", "buyer": RU},
        headers=api.auth("acme"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["holder"] == A and body["lane"] in ("green", "yellow", "red", "blue")
    assert body["reasons"] and "high_priority_goods" in body["rules"]


def test_precheck_refusals(sqlite_api: Api) -> None:
    api = sqlite_api
    api.post_events("olga", import_("a1", MINE, holder=A), import_("c1", THEIRS, holder=C))

    def ask(user: str, **body: object) -> tuple[int, dict[str, object]]:
        r = api.client.post(
            "/v1/precheck", json={"quantity": "10", "buyer": RU, **body}, headers=api.auth(user)
        )
        return r.status_code, r.json()

    theirs, missing = ask("acme", batch=THEIRS), ask("acme", batch="55501/010324/0009999/001")
    assert theirs[0] == missing[0] == 404
    assert ask("acme", batch=MINE, holder=C)[0] == 403
    status, body = ask("acme", batch=MINE, quantity="1000")
    assert status == 422 and body["field"] == "quantity"
    assert ask("olga", batch=THEIRS)[0] == 200
    assert ask("ana", batch=MINE)[0] == 403


def test_a_foreign_buyer_known_by_name_and_country_only(sqlite_api: Api) -> None:
    """Foreign documents often name a party without any identifier: accepted, pre-checked."""
    api = sqlite_api
    no_id = {"name": "Guangzhou Technology Co., Ltd.", "country": "KG"}
    posted = api.post_events(
        "olga",
        import_("a1", MINE, holder=A, seller={"name": "Shenzhen Hua Tech Co", "country": "CN"}),
        dispatch("d1", MINE, A, "5", buyer=no_id),
    )
    assert posted.json()["accepted"] == 2, posted.text
    r = api.client.post(
        "/v1/precheck",
        json={"batch": MINE, "quantity": "10", "buyer": no_id},
        headers=api.auth("acme"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["buyer"]["tax_id"] is None

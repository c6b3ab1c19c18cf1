"""Read-only alert endpoints: an officer sees the queue, a declarant the alerts that name it."""

from __future__ import annotations

import pytest

from keruen.risk import service
from tests.api.conftest import Api
from tests.factory import A, C, dispatch, import_

MINE = "55501/010324/0000001/001"
THEIRS = "55501/010324/0000002/001"


@pytest.fixture
def alerted(sqlite_api: Api) -> Api:
    """High-priority goods (integrated circuits) dispatched to Russia by A and by C."""
    r = sqlite_api.post_events(
        "olga",
        import_("a1", MINE, holder=A),
        import_("c1", THEIRS, holder=C),
        dispatch("a2", MINE, A, "50"),
        dispatch("c2", THEIRS, C, "50"),
    )
    assert r.json()["accepted"] == 4, r.text
    service.detect(sqlite_api.engine)
    return sqlite_api


def ids_naming(alerts: list[dict[str, object]], tax_id: str) -> set[object]:
    return {a["id"] for a in alerts if tax_id in a.get("tax_ids", [])}  # type: ignore[operator]


def test_officer_sees_the_queue_and_declarant_its_own(alerted: Api) -> None:
    queue = alerted.get("olga", "/v1/alerts").json()
    assert ids_naming(queue, A) and ids_naming(queue, C)
    mine = alerted.get("acme", "/v1/alerts").json()
    assert mine and all(A in a["tax_ids"] for a in mine)
    assert {a["id"] for a in mine} == ids_naming(queue, A)
    assert alerted.get("bolat", "/v1/alerts").json() == []


def test_another_companys_alert_looks_like_a_missing_one(alerted: Api) -> None:
    queue = alerted.get("olga", "/v1/alerts").json()
    theirs = min(ids_naming(queue, C) - ids_naming(queue, A))
    mine = min(ids_naming(queue, A))
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

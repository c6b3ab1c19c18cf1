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

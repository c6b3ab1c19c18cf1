"""Goods and party screening look-ups, on the lists shipped with Keruen."""

from __future__ import annotations

from tests.api.conftest import Api


def test_goods_rule_fires_for_chips_to_russia(sqlite_api: Api) -> None:
    r = sqlite_api.client.post(
        "/v1/screen/goods",
        json={"hs": "854231", "destination": "RU", "date": "2024-05-01"},
        headers=sqlite_api.auth("acme"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["hits"] and r.json()["hits"][0]["hs_prefix"].startswith("8542")
    calm = sqlite_api.client.post(
        "/v1/screen/goods",
        json={"hs": "090240", "destination": "DE"},
        headers=sqlite_api.auth("olga"),
    )
    assert calm.status_code == 200 and calm.json()["hits"] == []


def test_party_screening_explains_its_hits(sqlite_api: Api) -> None:
    r = sqlite_api.client.post(
        "/v1/screen/party", json={"name": "Nobody At All Trading"}, headers=sqlite_api.auth("olga")
    )
    assert r.status_code == 200 and isinstance(r.json()["hits"], list)
    bad = sqlite_api.client.post(
        "/v1/screen/party", json={"name": "", "country": "Russia"}, headers=sqlite_api.auth("olga")
    )
    assert bad.status_code == 422 and bad.json()["field"] in ("name", "country")
    assert (
        sqlite_api.client.post(
            "/v1/screen/party", json={"name": "x"}, headers=sqlite_api.auth("ana")
        ).status_code
        == 403
    )


def test_party_screening_names_the_lists_it_used(sqlite_api: Api) -> None:
    """With no party list loaded the API screens against the shipped extract and says so,
    instead of a silent "no hit"."""
    r = sqlite_api.client.post(
        "/v1/screen/party", json={"name": "Lukashenko Alexander"}, headers=sqlite_api.auth("olga")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["party_lists"] and "shipped OFAC extract" in body["warning"]
    assert any("LUKASHENKO" in h["name"].upper() for h in body["hits"]), body

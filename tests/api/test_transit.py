"""Read-only transit endpoints: an officer sees every movement, a declarant those it is party to."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from tests.factory import A, transit_open

CN_CARRIER = "CN77"  # the factory's carrier


@pytest.fixture
def transits(api: Api) -> Api:
    mine = transit_open("o1", "MRN-MINE")
    mine["carrier"] = {"tax_id": A, "name": "Acme Logistics", "country": "KZ"}
    r = api.post_events("olga", mine, transit_open("o2", "MRN-THEIRS"))
    assert r.json()["accepted"] == 2, r.text
    return api


def test_officer_sees_every_movement(transits: Api) -> None:
    r = transits.get("olga", "/v1/transits")
    assert r.status_code == 200
    assert sorted(m["mrn"] for m in r.json()) == ["MRN-MINE", "MRN-THEIRS"]
    detail = transits.get("olga", "/v1/transits/MRN-THEIRS").json()
    assert detail["declaration"]["carrier"]["tax_id"] == CN_CARRIER and detail["state"]


def test_declarant_sees_only_its_movements(transits: Api) -> None:
    assert [m["mrn"] for m in transits.get("acme", "/v1/transits").json()] == ["MRN-MINE"]
    assert transits.get("acme", "/v1/transits/MRN-MINE").status_code == 200
    theirs = transits.get("acme", "/v1/transits/MRN-THEIRS")
    missing = transits.get("acme", "/v1/transits/MRN-NONE")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"].replace("THEIRS", "NONE") == missing.json()["detail"]
    assert transits.get("bolat", "/v1/transits").json() == []


def test_declarant_carrier_may_declare_its_transit(sqlite_api: Api) -> None:
    api = sqlite_api
    mine = transit_open("o1", "MRN-1")
    mine["carrier"] = {"tax_id": A, "name": "Acme Logistics", "country": "KZ"}
    assert api.post_events("acme", mine).status_code == 201
    assert api.post_events("acme", transit_open("o2", "MRN-2")).status_code == 403


def test_bad_now_names_the_field(transits: Api) -> None:
    r = transits.get("olga", "/v1/transits", params={"now": "yesterday"})
    assert r.status_code == 422 and r.json()["field"] == "now"

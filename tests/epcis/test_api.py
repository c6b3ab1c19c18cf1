"""POST /v1/epcis/capture and GET /v1/epcis/events, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from keruen.epcis.document import parse_document
from keruen.epcis.hashing import event_hash
from keruen.epcis.schemas import document_schema
from keruen.settings import get_settings
from tests.api.conftest import Api, make_api
from tests.epcis.kzdoc import (
    DISPATCH,
    IMPORT,
    TRANSFER,
    TRANSFER_XML,
    WRITE_OFF,
    document,
    parties_json,
)


@pytest.fixture
def epcis_api(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    parties = tmp_path / "parties.json"
    parties.write_text(parties_json())
    monkeypatch.setenv("KERUEN_EPCIS_PARTIES", str(parties))
    get_settings.cache_clear()
    yield from make_api(engine)
    get_settings.cache_clear()


def _capture(api: Api, user: str, body: bytes, media: str = "application/ld+json") -> dict:
    headers = {**api.auth(user), "Content-Type": media}
    response = api.client.post("/v1/epcis/capture", content=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_capture_then_query_with_paging(epcis_api: Api) -> None:
    report = _capture(epcis_api, "olga", document(IMPORT, TRANSFER, DISPATCH, WRITE_OFF))
    assert (report["accepted"], report["rejected"]) == (4, 0)
    assert _capture(epcis_api, "olga", TRANSFER_XML, "application/xml")["duplicates"] == 1
    first = epcis_api.get("olga", "/v1/epcis/events", params={"perPage": 3})
    assert first.status_code == 200
    assert list(document_schema().iter_errors(first.json())) == []
    token = first.headers["GS1-Next-Page-Token"]
    second = epcis_api.get(
        "olga", "/v1/epcis/events", params={"perPage": 3, "nextPageToken": token}
    )
    assert "GS1-Next-Page-Token" not in second.headers
    hashes = [
        event_hash(e) for page in (first, second) for e in parse_document(page.content).events
    ]
    original = [
        event_hash(e)
        for e in parse_document(document(IMPORT, TRANSFER, DISPATCH, WRITE_OFF)).events
    ]
    assert hashes == original


def test_a_declarant_queries_only_its_own_events(epcis_api: Api) -> None:
    _capture(epcis_api, "olga", document(IMPORT, TRANSFER, DISPATCH, WRITE_OFF))
    mine = epcis_api.get("acme", "/v1/epcis/events")  # A: the importer, then the transfer's giver
    steps = [
        e["bizStep"] for e in mine.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    ]
    assert steps == ["receiving", "shipping"]
    shipping = epcis_api.get("olga", "/v1/epcis/events", params={"EQ_bizStep": "departing"})
    assert len(shipping.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 1


def test_a_declarant_may_not_capture_for_another_holder(epcis_api: Api) -> None:
    headers = {**epcis_api.auth("bolat"), "Content-Type": "application/ld+json"}
    response = epcis_api.client.post("/v1/epcis/capture", content=document(IMPORT), headers=headers)
    assert response.status_code == 403
    assert (
        epcis_api.get("olga", "/v1/epcis/events").json()["epcisBody"]["queryResults"][
            "resultsBody"
        ]["eventList"]
        == []
    )


def test_bad_input_is_a_clear_4xx_or_a_named_rejection(epcis_api: Api) -> None:
    headers = {**epcis_api.auth("olga"), "Content-Type": "text/plain"}
    assert (
        epcis_api.client.post("/v1/epcis/capture", content=b"x", headers=headers).status_code == 415
    )
    report = _capture(epcis_api, "olga", b"{not json")
    assert report["rejected"] == 1 and report["rejections"][0]["layer"] == "syntax"
    bad = epcis_api.get("olga", "/v1/epcis/events", params={"nextPageToken": "zzz"})
    assert bad.status_code == 400


@pytest.mark.parametrize("body", [b'"a string"', b"5", b"[]", b"null", b"true", b'[{"type": 1}]'])
def test_json_that_is_no_document_is_refused_with_its_reason(epcis_api: Api, body: bytes) -> None:
    """Found by schemathesis: a JSON string made the per-slice schema check call `.get` on it
    (a 500). Anything but an object is the schema's to refuse, as before."""
    report = _capture(epcis_api, "olga", body)
    assert report["accepted"] == 0 and report["rejected"] >= 1
    assert all(r["reason"] for r in report["rejections"])

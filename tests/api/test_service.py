"""Health, readiness, the OpenAPI document (and its checked-in copy), access logs, problems."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from keruen.api import create_app
from keruen.api.openapi import document, document_text
from keruen.api.routers.health import heads
from tests.api.conftest import SETTINGS, Api

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    r = api.client.get("/readyz")
    assert r.status_code == 200 and set(r.json()["revisions"]) == heads()


def test_not_ready_on_an_unmigrated_database(tmp_path: Path) -> None:
    eng = sa.create_engine(f"sqlite:///{tmp_path}/empty.db")
    with TestClient(create_app(eng, SETTINGS)) as client:
        assert client.get("/healthz").status_code == 200
        r = client.get("/readyz")
    assert r.status_code == 503 and "not migrated" in r.json()["detail"]


def test_openapi_in_docs_is_current() -> None:
    """docs/openapi.json is generated: regenerate with `keruen openapi --out docs/openapi.json`."""
    assert DOC.read_text(encoding="utf-8") == document_text()


def test_openapi_refs_resolve_and_paths_are_stable() -> None:
    doc = document()
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"], ref
    assert {
        "/v1/events",
        "/v1/stock/{tax_id}",
        "/v1/batches/{batch}/history",
        "/v1/batches/{batch}/trace",
        "/v1/token",
        "/healthz",
        "/readyz",
    } <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_access_log_is_one_json_line_per_request(
    sqlite_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="keruen.api.access"):
        sqlite_api.get("acme", "/v1/me")
    entries = [json.loads(r.getMessage()) for r in caplog.records if r.name == "keruen.api.access"]
    assert len(entries) == 1
    e = entries[0]
    assert (e["method"], e["path"], e["status"], e["user"], e["client"]) == (
        "GET",
        "/v1/me",
        200,
        "acme",
        "testclient",
    )
    assert e["ms"] >= 0 and e["bytes"] > 0


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nowhere", 404), ("DELETE", "/v1/events", 405)],
)
def test_framework_errors_are_problems(
    sqlite_api: Api, method: str, path: str, status: int
) -> None:
    r = sqlite_api.client.request(method, path, headers=sqlite_api.auth("olga"))
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json"


def test_parameter_errors_name_the_field(sqlite_api: Api) -> None:
    r = sqlite_api.get("olga", "/v1/batches/X/trace", params={"direction": "sideways"})
    assert r.status_code == 422 and r.json()["field"] == "query.direction"
    r = sqlite_api.get("olga", "/v1/rejections", params={"limit": 0})
    assert r.status_code == 422 and r.json()["field"] == "query.limit"


def test_batch_numbers_with_slashes_route(sqlite_api: Api) -> None:
    r = sqlite_api.get("olga", "/v1/batches/55501%2F010324%2F0000001%2F001/history")
    assert r.status_code == 404 and "55501/010324/0000001/001" in r.json()["detail"]

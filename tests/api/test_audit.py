"""Every refused request is on the audit log: who, what, why — 401s included, no secrets."""

from __future__ import annotations

from typing import Any

from keruen.api import audit
from tests.api.conftest import Api

REFUSALS: list[tuple[str | None, str, str, dict[str, Any], int]] = [
    # (user, method, path, extra request arguments, status)
    (None, "GET", "/v1/me", {}, 401),
    (
        None,
        "GET",
        "/v1/stock/150340000109",
        {"headers": {"Authorization": "Bearer kr_ab12_x"}},
        401,
    ),
    (None, "GET", "/v1/alerts", {"headers": {"Authorization": "Bearer a.b.c"}}, 401),
    (None, "GET", "/v1/me", {"headers": {"Authorization": "Basic b2xnYTp4"}}, 401),
    ("ana", "GET", "/v1/rejections", {}, 403),
    ("root", "GET", "/v1/alerts", {}, 403),
    ("acme", "GET", "/v1/cases", {}, 403),
    ("olga", "GET", "/v1/nothing-here", {}, 404),
    ("olga", "DELETE", "/v1/alerts", {}, 405),
    ("olga", "GET", "/v1/alerts", {"params": {"limit": "0"}}, 422),
    ("root", "POST", "/v1/users", {"json": {"name": "x", "role": "wizard"}}, 422),
    ("root", "DELETE", "/v1/keys/nope", {}, 404),
]


def test_every_refusal_is_audited_with_who_what_and_why(sqlite_api: Api) -> None:
    api = sqlite_api
    for user, method, path, kwargs, status in REFUSALS:
        headers = {**(api.auth(user) if user else {}), **kwargs.pop("headers", {})}
        r = api.client.request(method, path, headers=headers, **kwargs)
        assert r.status_code == status, (method, path, r.text)
    with api.engine.connect() as conn:
        rows = [r for r in reversed(audit.read(conn, 1000)) if r["outcome"] != "ok"]
    assert len(rows) == len(REFUSALS)
    for row, (user, method, path, _, status) in zip(rows, REFUSALS, strict=True):
        assert row["actor"] == (user or "anonymous") and row["client"] == "testclient"
        assert row["detail"]["status"] == status and row["detail"]["why"]
        assert row["subject"] in (f"{method} {path}", path.rsplit("/", 1)[-1]), row
    presented = [r["detail"].get("credential") for r in rows[:4]]
    assert presented == ["none", "key", "token", "Basic scheme"]
    assert rows[1]["detail"]["key_id"] == "ab12" and "kr_ab12_x" not in str(rows)

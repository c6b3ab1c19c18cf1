"""Authentication (API keys, bearer tokens), key revocation, and administration."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from tests.factory import A

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    "header", [None, "Bearer nope", "Bearer kr_x_y", "Basic dXNlcjpwYXNz", "Bearer a.b.c"]
)
def test_bad_credentials_are_401_problems(sqlite_api: Api, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    r = sqlite_api.client.get("/v1/me", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.headers["content-type"] == "application/problem+json"


def test_me(sqlite_api: Api) -> None:
    r = sqlite_api.get("acme", "/v1/me")
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["role"], r.json()["tax_id"]) == ("acme", "declarant", A)


def token_for(api: Api, user: str) -> str:
    r = api.client.post("/v1/token", headers=api.auth(user))
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "bearer" and r.json()["expires_in"] > 0
    return str(r.json()["access_token"])


def test_token_from_api_key_and_from_client_credentials(sqlite_api: Api) -> None:
    api = sqlite_api
    token = token_for(api, "acme")
    assert (
        api.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["name"]
        == "acme"
    )
    form = {
        "grant_type": "client_credentials",
        "client_id": api.key_ids["olga"],
        "client_secret": api.keys["olga"],
    }
    r = api.client.post("/v1/token", data=form, headers=FORM)
    assert r.status_code == 200
    me = api.client.get("/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["name"] == "olga"


@pytest.mark.parametrize(
    ("form", "status", "field"),
    [
        ({"grant_type": "password", "client_id": "x", "client_secret": "y"}, 400, "grant_type"),
        ({"grant_type": "client_credentials", "client_id": "x"}, 400, "client_secret"),
        (
            {"grant_type": "client_credentials", "client_id": "wrong", "client_secret": "KEY"},
            401,
            "",
        ),
    ],
)
def test_bad_client_credentials(
    sqlite_api: Api, form: dict[str, str], status: int, field: str
) -> None:
    form = {k: sqlite_api.keys["olga"] if v == "KEY" else v for k, v in form.items()}
    r = sqlite_api.client.post("/v1/token", data=form, headers=FORM)
    assert r.status_code == status and r.json().get("field", "") == field


def test_token_cannot_mint_a_token_and_form_needs_its_content_type(sqlite_api: Api) -> None:
    token = token_for(sqlite_api, "olga")
    r = sqlite_api.client.post("/v1/token", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    r = sqlite_api.client.post(
        "/v1/token", content=b'{"grant_type": "x"}', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 415


def test_revoking_a_key_kills_it_and_its_tokens(api: Api) -> None:
    token = token_for(api, "acme")
    r = api.client.delete(f"/v1/keys/{api.key_ids['acme']}", headers=api.auth("root"))
    assert r.status_code == 204
    assert api.get("acme", "/v1/me").status_code == 401
    assert api.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert api.client.delete("/v1/keys/nope", headers=api.auth("root")).status_code == 404


def test_admin_creates_users_and_keys_shown_once(api: Api) -> None:
    r = api.client.post(
        "/v1/users",
        json={"name": "dana", "role": "declarant", "tax_id": A},
        headers=api.auth("root"),
    )
    assert r.status_code == 201 and r.json()["tax_id"] == A
    r = api.client.post("/v1/users/dana/keys", json={"label": "erp"}, headers=api.auth("root"))
    assert r.status_code == 201
    key = r.json()["key"]
    assert (
        api.client.get("/v1/me", headers={"Authorization": f"Bearer {key}"}).json()["name"]
        == "dana"
    )
    listing = api.client.get("/v1/keys", headers=api.auth("root"))
    assert key not in listing.text and "digest" not in listing.text
    assert {k["user"] for k in listing.json()} >= {"dana", "root"}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "olga", "role": "officer"}, 409, "name"),
        ({"name": "x", "role": "declarant"}, 400, "tax_id"),
        ({"name": "x", "role": "officer", "tax_id": A}, 400, "tax_id"),
        ({"name": "x", "role": "declarant", "tax_id": "123456789012"}, 400, "tax_id"),
        ({"name": "x", "role": "king"}, 422, "role"),
        ({"name": "", "role": "officer"}, 422, "name"),
    ],
)
def test_bad_users_are_refused_naming_the_field(
    sqlite_api: Api, body: dict[str, str], status: int, field: str
) -> None:
    r = sqlite_api.client.post("/v1/users", json=body, headers=sqlite_api.auth("root"))
    assert (r.status_code, r.json()["field"]) == (status, field)


@pytest.mark.parametrize("user", ["olga", "ana", "acme"])
def test_only_admin_administers(sqlite_api: Api, user: str) -> None:
    headers = sqlite_api.auth(user)
    assert sqlite_api.client.get("/v1/users", headers=headers).status_code == 403
    assert sqlite_api.client.get("/v1/audit", headers=headers).status_code == 403
    r = sqlite_api.client.post("/v1/users/acme/keys", headers=headers)
    assert r.status_code == 403


def test_audit_log_is_readable_by_admin(sqlite_api: Api) -> None:
    sqlite_api.get("acme", f"/v1/stock/{A}")
    rows = sqlite_api.get("root", "/v1/audit", params={"actor": "acme"}).json()
    assert [(r["action"], r["subject"], r["client"]) for r in rows] == [
        ("stock.read", A, "testclient")
    ]

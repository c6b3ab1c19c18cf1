"""Signing in and out: cookie flags, CSRF on every form, expiry, refusals."""

from __future__ import annotations

import sqlalchemy as sa

from keruen.api import accounts
from keruen.api.settings import from_env
from keruen.api.tables import audit_log
from keruen.web.tables import web_sessions
from tests.web.conftest import CSRF, Web, password


def test_pages_ask_for_a_sign_in_and_come_back_after_it(web: Web) -> None:
    client = web.anonymous()
    r = client.get("/ui/alerts?rule=high_priority_goods", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/login?next=/ui/alerts%3Frule%3Dhigh_priority_goods"
    form = client.get(r.headers["location"])
    token = CSRF.search(form.text)
    assert token and 'name="username"' in form.text and 'name="password"' in form.text
    signed = client.post(
        "/ui/login",
        data={
            "username": "olga",
            "password": password("olga"),
            "csrf": token.group(1),
            "next": "/ui/alerts?rule=high_priority_goods",
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/ui/alerts?rule=high_priority_goods"
    cookie = signed.headers["set-cookie"]
    assert "keruen_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # development
    assert client.get("/ui/alerts").status_code == 200


def test_wrong_credentials_are_refused_alike(web: Web) -> None:
    client = web.anonymous()
    outcomes = []
    tries = [
        ("olga", "wrong-password"),
        ("olga", password("ana")),
        ("olga", web.keys["olga"]),  # an API key is a credential of its own, not a password
        ("nobody", "x"),
    ]
    for user, secret in tries:
        token = CSRF.search(client.get("/ui/login").text)
        assert token
        r = client.post(
            "/ui/login",
            data={"username": user, "password": secret, "csrf": token.group(1)},
            follow_redirects=False,
        )
        outcomes.append((r.status_code, "unknown user name or wrong password" in r.text))
        assert "keruen_session" not in r.headers.get("set-cookie", "")
    assert outcomes == [(401, True)] * 4
    with web.engine.connect() as conn:
        refused = conn.execute(
            sa.select(sa.func.count())
            .select_from(audit_log)
            .where(audit_log.c.action == "auth.password", audit_log.c.outcome == "denied")
        ).scalar()
    assert refused == 4


def test_a_disabled_user_is_signed_out(web: Web) -> None:
    client = web.sign_in("olga")
    with web.engine.begin() as conn:
        accounts.set_disabled(conn, "olga", True)
    assert client.get("/ui/alerts", follow_redirects=False).status_code == 303


def test_sign_in_without_the_forms_token_is_refused(web: Web) -> None:
    client = web.anonymous()
    client.get("/ui/login")
    r = client.post(
        "/ui/login",
        data={"username": "olga", "password": password("olga"), "csrf": "forged"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "keruen_session" not in r.headers.get("set-cookie", "")


def test_forms_without_the_sessions_token_are_refused(web: Web) -> None:
    client = web.sign_in("olga")
    r = client.post("/ui/logout", data={"csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/ui/alerts", follow_redirects=False).status_code == 200  # still signed in


def test_sign_out_ends_the_session_even_for_a_copied_cookie(web: Web) -> None:
    client = web.sign_in("olga")
    copied = client.cookies.get("keruen_session")
    token = web.csrf("olga")
    r = client.post("/ui/logout", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    thief = web.anonymous()
    thief.cookies.set("keruen_session", copied or "", path="/ui")
    assert thief.get("/ui/alerts", follow_redirects=False).status_code == 303


def test_an_expired_session_signs_out(web: Web) -> None:
    client = web.sign_in("olga")
    with web.engine.begin() as conn:
        conn.execute(sa.update(web_sessions).values(expires_us=1))
    r = client.get("/ui/alerts", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/login")


def test_no_open_redirect_after_sign_in(web: Web) -> None:
    client = web.anonymous()
    token = CSRF.search(client.get("/ui/login").text)
    assert token
    r = client.post(
        "/ui/login",
        data={
            "username": "olga",
            "password": password("olga"),
            "csrf": token.group(1),
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/ui/alerts"


def test_cookies_are_secure_outside_development() -> None:
    settings = from_env({"KERUEN_ENV": "production", "KERUEN_SECRET": "s" * 40})
    assert settings.env != "development"  # `secure_cookies` sets Secure then


def test_language_is_the_users_choice(web: Web) -> None:
    client = web.sign_in("acme")
    r = client.get("/ui/lang/ru?next=/ui/alerts", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/alerts"
    page = client.get("/ui/alerts").text
    assert '<html lang="ru">' in page and "Оповещения" in page
    client.get("/ui/lang/kk?next=/ui/alerts")
    assert '<html lang="kk">' in client.get("/ui/alerts").text
    client.get("/ui/lang/en?next=/ui/alerts")

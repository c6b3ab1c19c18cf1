"""The dashboard over a ledger with alerts: users of every role, two companies' dispatches of
high-priority goods to Russia, detection run. HTTP tests use a TestClient; browser tests a live
server driven by Playwright and Debian's Chromium (required when CI=true)."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from keruen.api import accounts, create_app
from keruen.api.settings import ApiSettings
from keruen.ingest import ingest_lines
from keruen.risk import service
from tests.factory import A, B, C, dispatch, import_, line, transfer

SETTINGS = ApiSettings(secret="test-secret-" + "x" * 40)
OWN_ALERTS = ApiSettings(secret="test-secret-" + "x" * 40, declarant_alerts="own")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

MINE = "55501/010324/0000001/001"
THEIRS = "55501/010324/0000002/001"
USERS = [
    ("root", "admin", None),
    ("olga", "officer", None),
    ("ana", "analyst", None),
    ("acme", "declarant", A),
    ("bolat", "declarant", B),
    ("caspian", "declarant", C),
]
STORY = [
    import_("a1", MINE, holder=A),
    import_("c1", THEIRS, holder=C),
    transfer("a-b", MINE, A, B, "20"),
    dispatch("a2", MINE, A, "50"),
    dispatch("c2", THEIRS, C, "50"),
]


def password(user: str) -> str:
    return f"{user}-secret-pass"


def seed(engine: Engine) -> dict[str, str]:
    """The story above ingested and detected; each user with a password and an API key."""
    report = ingest_lines(engine, [line(e) for e in STORY])
    assert report.rejected == 0
    service.detect(engine)
    keys: dict[str, str] = {}
    with engine.begin() as conn:
        for name, role, tax_id in USERS:
            accounts.add_user(conn, name, role, tax_id, password(name))
            keys[name] = accounts.create_key(conn, name).key
    return keys


CSRF = re.compile(r'name="csrf" value="([^"]*)"')


@dataclass
class Web:
    """A TestClient over the dashboard with helpers to sign in as a user."""

    app: FastAPI
    engine: Engine
    keys: dict[str, str]
    clients: dict[str, TestClient] = field(default_factory=dict)

    def anonymous(self) -> TestClient:
        return TestClient(self.app, raise_server_exceptions=False)

    def sign_in(self, user: str) -> TestClient:
        """A client signed in as `user` through the login form (cached per user)."""
        if user not in self.clients:
            client = self.anonymous()
            form = client.get("/ui/login")
            token = CSRF.search(form.text)
            assert token, form.text
            r = client.post(
                "/ui/login",
                data={"username": user, "password": password(user), "csrf": token.group(1)},
                follow_redirects=False,
            )
            assert r.status_code == 303, r.text
            self.clients[user] = client
        return self.clients[user]

    def get(self, user: str, path: str, **kw: Any) -> Any:
        return self.sign_in(user).get(path, follow_redirects=False, **kw)

    def csrf(self, user: str, path: str = "/ui/alerts") -> str:
        token = CSRF.search(self.get(user, path).text)
        assert token
        return token.group(1)


@pytest.fixture
def web(engine: Engine) -> Iterator[Web]:
    """The dashboard over each backend (declarants see no alert: the default policy)."""
    keys = seed(engine)
    app = create_app(engine, SETTINGS)
    with TestClient(app):
        yield Web(app, engine, keys)


@pytest.fixture
def web_own(sqlite_engine: Engine) -> Iterator[Web]:
    """The dashboard where declarants see their own alerts (KERUEN_DECLARANT_ALERTS=own)."""
    keys = seed(sqlite_engine)
    app = create_app(sqlite_engine, OWN_ALERTS)
    with TestClient(app):
        yield Web(app, sqlite_engine, keys)


# --- browser ---------------------------------------------------------------------------------


@contextmanager
def live(app: FastAPI) -> Iterator[str]:
    """`app` served by uvicorn on a free local port, in a thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (server.started and server.servers):
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def chromium_or_skip() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: bash scripts/setup.sh installs it (as root)")
    pytest.skip(f"{CHROMIUM} is not installed (bash scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module: a Playwright left running would refuse the next module's
    own `sync_playwright()` (tests/transit starts one)."""
    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Site:
    base: str
    engine: Engine
    keys: dict[str, str]
    browser: Any

    def page_as(self, user: str, path: str = "/ui/alerts") -> Any:
        """A new browser page signed in as `user`, on `path`."""
        page = self.browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
        page.goto(f"{self.base}/ui/login?next={path}")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", password(user))
        page.click("form.login button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page


@pytest.fixture
def site(sqlite_engine: Engine, browser: Any) -> Iterator[Site]:
    """The dashboard served over HTTP on a seeded SQLite ledger, and a browser."""
    keys = seed(sqlite_engine)
    with live(create_app(sqlite_engine, SETTINGS)) as base:
        yield Site(base, sqlite_engine, keys, browser)

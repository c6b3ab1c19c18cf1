"""An API over a fresh database (each backend) with one user of every role and two companies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from keruen.api import accounts, create_app
from keruen.api.settings import ApiSettings
from tests.factory import A, B, C, line

SETTINGS = ApiSettings(secret="test-secret-" + "x" * 40, max_body_bytes=256 * 1024, max_events=500)


@dataclass
class Api:
    client: TestClient
    engine: Engine
    keys: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[user]}"}

    def get(self, user: str, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.auth(user), **kw)

    def post_events(self, user: str, *events: dict[str, Any], batch: bool = False) -> Any:
        """One event as an object, several (or batch=True) as an array."""
        body: Any = events[0] if len(events) == 1 and not batch else list(events)
        return self.client.post("/v1/events", json=body, headers=self.auth(user))

    def post_lines(self, user: str, *events: dict[str, Any]) -> Any:
        body = b"\n".join(line(e) for e in events) + b"\n"
        headers = {**self.auth(user), "Content-Type": "application/x-ndjson"}
        return self.client.post("/v1/events", content=body, headers=headers)


USERS = [
    ("root", "admin", None),
    ("olga", "officer", None),
    ("ana", "analyst", None),
    ("acme", "declarant", A),
    ("bolat", "declarant", B),
    ("caspian", "declarant", C),
]


def make_api(engine: Engine, settings: ApiSettings = SETTINGS) -> Iterator[Api]:
    api = Api(TestClient(create_app(engine, settings), raise_server_exceptions=False), engine)
    with engine.begin() as conn:
        for name, role, tax_id in USERS:
            accounts.add_user(conn, name, role, tax_id)
            key = accounts.create_key(conn, name)
            api.keys[name], api.key_ids[name] = key.key, key.key_id
    with api.client:
        yield api


@pytest.fixture
def api(engine: Engine) -> Iterator[Api]:
    """The API over each backend."""
    yield from make_api(engine)


@pytest.fixture
def sqlite_api(sqlite_engine: Engine) -> Iterator[Api]:
    """The API over SQLite only: for tests of pure HTTP behaviour."""
    yield from make_api(sqlite_engine)

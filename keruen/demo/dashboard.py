"""The demo ledger's dashboard users: `keruen demo` creates them so that the dashboard opens on
it at once (`keruen serve --db keruen-demo.db`, then http://127.0.0.1:8000/ui/).

A demo password is printed by the demo and written nowhere else; a real deployment adds its
users with `keruen users add NAME --role R --password-stdin`.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from keruen.api import accounts

PASSWORD = "keruen-demo"
USERS = (("officer", "officer"), ("analyst", "analyst"), ("admin", "admin"))


def add_users(eng: Engine) -> list[str]:
    """An officer, an analyst and an administrator, each with the demo password."""
    with eng.begin() as conn:
        for name, role in USERS:
            accounts.add_user(conn, name, role, None, PASSWORD)
    return [name for name, _ in USERS]

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


def refresh_indexes(eng: Engine) -> None:
    """The derived indexes the dashboard's screens read, brought up to the ledger's head: the
    party index, the transit seal bindings and the passages at posts. Screens read complete
    data without them, only slower; `keruen demo` refreshes them after its ingest, and the
    screens themselves when the ledger's head has moved."""
    from keruen.risk import waits
    from keruen.store import partyindex
    from keruen.transit import service as transit

    partyindex.refresh(eng)
    transit.refresh(eng)
    waits.refresh(eng)

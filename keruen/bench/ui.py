"""`keruen bench ui`: the server's time per dashboard screen, and the inbox paging through
100,000 alerts.

Requests go through the ASGI app in-process (TestClient: no network, no browser), signed in
through the login form like a person: what is measured is the server's work for a page. The
baseline from the same run is `/healthz` through the same client (the floor of a request);
each screen prints its p50 and p95 and the ratio of its p95 to the baseline's.

The app is settled as `keruen serve` settles it (`keruen.api.app.settle`: reference data
loaded, every object alive then frozen out of the cycle collector's sight) before anything is
timed.

The ledger is a copy (the bench adds users, a case and synthetic alerts): of `--db` when
given (e.g. a `keruen demo --events 1000000` ledger), else a demo ledger simulated for it.
"""

from __future__ import annotations

import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from keruen.demo.dashboard import refresh_indexes
from keruen.risk import store as risk_store
from keruen.risk.model import Alert, refs

RULES = ("high_priority_goods", "fast_reexport", "sanctioned_party", "layering", "unit_value")
CSRF = re.compile(r'name="csrf" value="([^"]*)"')
PASSWORD = "bench-password-1"


def synthetic_alerts(
    n: int, seed: int = 7, start_us: int = 1_700_000_000_000_000
) -> Iterator[Alert]:
    """`n` alerts with many tied scores (the worst case for keyset paging), cited parties and
    batches, spread over a year: volume for the inbox, not detections of anything."""
    rng = random.Random(seed)
    for i in range(n):
        party = f"{100000000000 + rng.randrange(5000):012d}"
        batch = f"55501/010324/{i:07d}/001"
        yield Alert(
            rule=rng.choice(RULES),
            subject_kind="event",
            subject=f"synthetic-{seed}-{i}",
            score=rng.choice((0.55, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 1.0)),
            time_us=start_us + rng.randrange(365 * 86400) * 1_000_000,
            explanation=f"synthetic alert {i} citing batch {batch} via KZHOR-ROAD",
            refs=refs(events=[f"synthetic-{seed}-{i}"], batches=[batch], tax_ids=[party]),
            facts={"hs": ["854231"], "post": "KZHOR-ROAD"},
        )


def add_synthetic_alerts(conn: Connection, n: int, seed: int = 7) -> int:
    """Store `n` synthetic alerts in one detection run; returns how many were added."""
    run = risk_store.start_run(conn, 0, 0)
    added, _ = risk_store.add_alerts(conn, run, list(synthetic_alerts(n, seed)), 0.5)
    return added


# --- the ledger the bench reads ------------------------------------------------------------


def prepare(db: Path | None, events: int, alerts: int, where: Path, seed: int = 1) -> Path:
    """A copy of `db` (or a fresh demo ledger), topped up with synthetic alerts to `alerts`."""
    path = where / "bench-ui.db"
    if db is not None:
        shutil.copyfile(db, path)
    else:
        from keruen.demo import job as demo

        demo.run(str(path), events, seed)
    from keruen.store import db as store_db

    eng = store_db.ready(str(path))
    with eng.begin() as conn:
        have = conn.scalar(sa.text("SELECT count(*) FROM risk_alerts WHERE level = 'alert'")) or 0
        if alerts > have:
            add_synthetic_alerts(conn, alerts - int(have), seed)
    refresh_indexes(eng)  # as `keruen demo` leaves them; preparation, not timed
    eng.dispose()
    return path


@dataclass(frozen=True, slots=True)
class Subjects:
    """What the screens are asked about: real identifiers from the ledger."""

    alert: int
    deep_cursor: str  # the inbox's position after half of the alerts
    party: str
    batch: str
    mrn: str
    declarant: str  # a holder with stock when there is one
    stock_batch: str | None  # what it holds: the pre-check's batch (None: nobody holds any)


def subjects(eng: Engine) -> Subjects:
    from keruen.risk import inbox

    with eng.connect() as conn:

        def q(sql: str) -> Any:
            return conn.execute(sa.text(sql)).first()

        top = q(
            "SELECT id FROM risk_alerts WHERE level = 'alert' ORDER BY score DESC, id DESC LIMIT 1"
        )
        n = q("SELECT count(*) FROM risk_alerts WHERE level = 'alert'")
        half = q(
            "SELECT score, id FROM risk_alerts WHERE level = 'alert' ORDER BY score DESC, id DESC "
            f"LIMIT 1 OFFSET {max(int(n[0]) // 2, 0) if n else 0}"
        )
        batch = q("SELECT batch FROM moves GROUP BY batch ORDER BY count(*) DESC LIMIT 1")
        holder = q(
            "SELECT target FROM moves WHERE kind = 'transfer' AND length(target) = 12 "
            "GROUP BY target ORDER BY count(*) DESC LIMIT 1"
        )
        stocked = q(
            "SELECT holder, batch FROM balances WHERE length(holder) = 12 "
            "ORDER BY quantity DESC LIMIT 1"
        )
        mrn = q("SELECT key FROM events WHERE type = 'transit_open' LIMIT 1")
    if not (top and half and batch and holder and mrn):
        raise ValueError("the ledger needs alerts, moves, a Kazakh holder and a transit")
    cursor = inbox.Cursor(float(half[0]), int(half[1])).encode()
    declarant, in_stock = (stocked[0], stocked[1]) if stocked else (holder[0], None)
    return Subjects(int(top[0]), cursor, holder[0], batch[0], mrn[0], declarant, in_stock)


def add_users(eng: Engine, declarant: str) -> None:
    from keruen.api import accounts

    with eng.begin() as conn:
        for name, role, tax_id in (
            ("bench-officer", "officer", None),
            ("bench-declarant", "declarant", declarant),
            ("bench-admin", "admin", None),
        ):
            accounts.add_user(conn, name, role, tax_id, PASSWORD)


# --- measuring ---------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


def sign_in(client: Any, user: str) -> None:
    token = CSRF.search(client.get("/ui/login").text)
    if token is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    r = client.post(
        "/ui/login",
        data={"username": user, "password": PASSWORD, "csrf": token.group(1)},
        follow_redirects=False,
    )
    if r.status_code != 303:
        raise RuntimeError(f"signing in as {user} failed: {r.status_code}")


def timed(call: Callable[[], Any], n: int) -> dict[str, float]:
    call()  # warm: templates compiled, statements cached
    took = []
    for _ in range(n):
        start = time.perf_counter()
        r = call()
        took.append((time.perf_counter() - start) * 1000)
        if r.status_code >= 400:
            raise RuntimeError(f"{r.request.url} answered {r.status_code}")
    return {"p50_ms": round(percentile(took, 0.5), 2), "p95_ms": round(percentile(took, 0.95), 2)}


def screens(s: Subjects) -> list[tuple[str, str, str]]:
    """(screen, user, path) for every GET screen."""
    officer, declarant = "bench-officer", "bench-declarant"
    return [
        ("inbox, page 1", officer, "/ui/alerts"),
        ("inbox, a page halfway", officer, f"/ui/alerts?status=all&after={s.deep_cursor}"),
        ("inbox, filtered by party", officer, f"/ui/alerts?status=all&party={s.party}"),
        ("alert", officer, f"/ui/alerts/{s.alert}"),
        ("case", officer, "/ui/cases/{case}"),
        ("batch trail", officer, f"/ui/batches/{s.batch}"),
        ("transits", officer, "/ui/transits"),
        ("transit", officer, f"/ui/transits/{s.mrn}"),
        ("party", officer, f"/ui/parties/{s.party}"),
        ("stock (declarant)", declarant, "/ui/stock"),
        ("events (declarant)", declarant, "/ui/events"),
        ("outcomes", officer, "/ui/outcomes"),
        (
            "outcomes, policy view",
            officer,
            "/ui/outcomes?red=0.7&yellow=0.45&blue=0.35&random_rate=0.01",
        ),
        ("administration", "bench-admin", "/ui/admin"),
    ]


def run(path: Path, requests: int, progress: Callable[[str], None]) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from keruen.api import create_app
    from keruen.api.app import settle
    from keruen.risk import cases
    from keruen.store import db as store_db

    eng = store_db.ready(str(path))
    s = subjects(eng)
    add_users(eng, s.declarant)
    with eng.begin() as conn:
        case = cases.open_case(conn, [s.alert], "bench-officer", "bench")
    app = create_app(eng)
    settle()  # as `keruen serve` does: without it, full collections walk every module's
    # objects (180,000, about 0.3 s at load 8) inside a few of the timed requests
    out: dict[str, Any] = {"requests": requests, "screens": {}}
    with TestClient(app) as anonymous:
        clients: dict[str, Any] = {}
        for user in ("bench-officer", "bench-declarant", "bench-admin"):
            clients[user] = TestClient(app)
            sign_in(clients[user], user)
        out["baseline"] = timed(lambda: anonymous.get("/healthz"), requests)
        for name, user, target in screens(s):
            progress(name)
            url = target.replace("{case}", str(case))
            client = clients[user]
            out["screens"][name] = timed(partial(client.get, url), requests)
            progress(f"{name}: {out['screens'][name]}")
        if s.stock_batch is None:  # nothing held anywhere: no dispatch to pre-check
            return finish(out, eng)
        progress("pre-check (declarant)")
        token = CSRF.search(clients["bench-declarant"].get("/ui/precheck").text)
        body = {
            "csrf": token.group(1) if token else "",
            "batch": s.stock_batch,
            "quantity": "1",
            "buyer_name": "OOO Romashka",
            "buyer_country": "RU",
        }
        out["screens"]["pre-check (declarant)"] = timed(
            lambda: clients["bench-declarant"].post("/ui/precheck", data=body), requests
        )
        progress(f"pre-check (declarant): {out['screens']['pre-check (declarant)']}")
    return finish(out, eng)


def finish(out: dict[str, Any], eng: Engine) -> dict[str, Any]:
    """Each screen's p95 as a multiple of the baseline's."""
    floor = out["baseline"]["p95_ms"] or 1.0
    for figures in out["screens"].values():
        figures["ratio_p95"] = round(figures["p95_ms"] / floor, 1)
    eng.dispose()
    return out


def measure(
    db: Path | None, events: int, alerts: int, requests: int, progress: Callable[[str], None]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="keruen-bench-ui-") as tmp:
        path = prepare(db, events, alerts, Path(tmp))
        from keruen.store import db as store_db

        eng = store_db.ready(str(path))
        with eng.connect() as conn:
            counts = {
                "events": conn.scalar(sa.text("SELECT count(*) FROM events")),
                "alerts": conn.scalar(
                    sa.text("SELECT count(*) FROM risk_alerts WHERE level = 'alert'")
                ),
            }
        eng.dispose()
        return {"ledger": counts, **run(path, requests, progress)}

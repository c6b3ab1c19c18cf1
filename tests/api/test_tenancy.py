"""Tenant isolation: a declarant reads only what it is party to and submits only what it acts in.

Every refusal must look like absence (same status, same body as for data that does not exist)
and leave nothing written.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from keruen.api.tables import audit_log
from keruen.store import schema as t
from tests.api.conftest import Api
from tests.factory import A, B, C, cancel, dispatch, import_, transfer, transform, write_off

MINE = "55501/010324/0000001/001"  # imported by acme (A), part sold to bolat (B)
THEIRS = "55501/010324/0000002/001"  # imported by caspian (C) only
MISSING = "55501/010324/0009999/001"


@pytest.fixture
def ledger(api: Api) -> Api:
    r = api.post_events(
        "olga",
        import_("a1", MINE, holder=A),
        import_("c1", THEIRS, holder=C),
        transfer("a2", MINE, A, B, "40"),
        write_off("c2", THEIRS, C, "10"),
    )
    assert r.json()["accepted"] == 4
    return api


def strip_instance(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("instance", "detail", "reason")}


def test_declarant_reads_own_stock_only(ledger: Api) -> None:
    own = ledger.get("acme", f"/v1/stock/{A}")
    assert own.status_code == 200
    assert own.json() == [{"batch": MINE, "hs": "854231", "quantity": "60", "unit": "PCE"}]
    other = ledger.get("acme", f"/v1/stock/{C}")
    assert other.status_code == 403
    assert THEIRS not in other.text and "quantity" not in other.text


@pytest.mark.parametrize("path", ["history", "trace?direction=back", "trace?direction=forward"])
def test_other_batch_looks_exactly_like_a_missing_one(ledger: Api, path: str) -> None:
    theirs = ledger.get("acme", f"/v1/batches/{THEIRS}/{path}")
    missing = ledger.get("acme", f"/v1/batches/{MISSING}/{path}")
    assert theirs.status_code == missing.status_code == 404
    assert strip_instance(theirs.json()) == strip_instance(missing.json())
    assert theirs.json()["detail"].replace(THEIRS, MISSING) == missing.json()["detail"]
    assert C not in theirs.text


def test_party_reads_the_moves_it_gave_or_received(ledger: Api) -> None:
    for user, seen in (("acme", ["a1", "a2"]), ("bolat", ["a2"]), ("olga", ["a1", "a2"])):
        r = ledger.get(user, f"/v1/batches/{MINE}/history")
        assert r.status_code == 200, user
        assert [e["id"] for e in r.json()["events"]] == seen
    received = ledger.get("bolat", f"/v1/batches/{MINE}/history").json()
    assert received["batch"]["event_id"] is None  # acme's import declaration is acme's
    assert ledger.get("bolat", f"/v1/batches/{THEIRS}/history").status_code == 404


def test_trace_is_cut_to_the_declarants_batches(api: Api) -> None:
    out = "P-000000001"
    r = api.post_events(
        "olga",
        import_("a1", MINE, holder=A),
        transfer("a2", MINE, A, C, "50"),
        transform("c1", C, [(MINE, "50")], out, "25"),
        transfer("c2", out, C, B, "25", day=4),
    )
    assert r.json()["accepted"] == 4
    back = api.get("bolat", f"/v1/batches/{out}/trace", params={"direction": "back"}).json()
    assert [n["batch"] for n in back["batches"]] == [out]
    assert back["batches"][0]["inputs"] == [] and back["origins"] == []
    full = api.get("olga", f"/v1/batches/{out}/trace", params={"direction": "back"}).json()
    assert sorted(n["batch"] for n in full["batches"]) == sorted([out, MINE])
    assert full["origins"][0]["importer"] == A
    fwd = api.get("acme", f"/v1/batches/{MINE}/trace", params={"direction": "forward"}).json()
    assert [n["batch"] for n in fwd["batches"]] == [MINE] and fwd["batches"][0]["outputs"] == []


def test_submitting_as_another_holder_is_refused_and_nothing_written(ledger: Api) -> None:
    before = events_count(ledger)
    attempts = [
        import_("x1", "55501/010324/0000003/001", holder=C),
        transfer("x2", THEIRS, C, A, "5"),
        dispatch("x3", THEIRS, C, "1"),
        transform("x4", C, [(THEIRS, "1")], "P-1", "1"),
    ]
    for event in attempts:
        r = ledger.post_events("acme", event)
        assert r.status_code == 403, event["type"]
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["field"] in ("holder", "from")
    assert events_count(ledger) == before
    with ledger.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(t.rejections)) == 0


def test_one_foreign_event_refuses_the_whole_batch(ledger: Api) -> None:
    before = events_count(ledger)
    r = ledger.post_events("acme", write_off("ok", MINE, A, "1"), transfer("no", THEIRS, C, A, "5"))
    assert r.status_code == 403
    assert r.json()["errors"] == [{"field": "[1].from", "reason": r.json()["reason"]}]
    assert events_count(ledger) == before


def test_cancel_only_own_events_and_no_existence_leak(ledger: Api) -> None:
    theirs = ledger.post_events("acme", cancel("k1", "c2"))
    missing = ledger.post_events("acme", cancel("k2", "nope"))
    assert theirs.status_code == missing.status_code == 403
    assert theirs.json()["reason"] == missing.json()["reason"]
    own = ledger.post_events("acme", cancel("k3", "a2"))
    assert own.status_code == 201


def test_cancel_of_own_event_in_the_same_batch(api: Api) -> None:
    r = api.post_events("acme", import_("a1", MINE, holder=A), cancel("k1", "a1"))
    assert r.status_code == 200 and r.json()["accepted"] == 2


def test_declarant_may_submit_only_what_it_acts_in(ledger: Api) -> None:
    r = ledger.post_events("bolat", transfer("b1", MINE, B, C, "10"))
    assert r.status_code == 201
    assert ledger.post_events("bolat", transfer("b2", MINE, A, B, "10")).status_code == 403


def test_declarant_sees_only_its_own_rejections(ledger: Api) -> None:
    assert ledger.post_events("acme", write_off("r1", MINE, A, "999")).status_code == 422
    assert ledger.post_events("olga", write_off("r2", THEIRS, C, "999")).status_code == 422
    mine = ledger.get("acme", "/v1/rejections").json()
    assert [r["event_id"] for r in mine] == ["r1"]
    assert ledger.get("bolat", "/v1/rejections").json() == []
    assert {r["event_id"] for r in ledger.get("olga", "/v1/rejections").json()} == {"r1", "r2"}


def test_analyst_and_admin_read_no_party_data(ledger: Api) -> None:
    for user in ("ana", "root"):
        for path in (
            f"/v1/stock/{A}",
            f"/v1/batches/{MINE}/history",
            "/v1/rejections",
            "/v1/transits",
            "/v1/alerts",
        ):
            assert ledger.get(user, path).status_code == 403, (user, path)


def test_analyst_reads_aggregates(ledger: Api) -> None:
    r = ledger.get("ana", "/v1/ledger/summary")
    assert r.status_code == 200
    assert r.json() == {
        "events": {"import": 2, "transfer": 1, "write_off": 1},
        "batches": 2,
        "holders": 3,
        "rejections": 0,
    }
    assert ledger.get("acme", "/v1/ledger/summary").status_code == 403


def test_reads_writes_and_refusals_are_audited(ledger: Api) -> None:
    ledger.get("acme", f"/v1/stock/{A}")
    ledger.get("acme", f"/v1/stock/{C}")
    ledger.get("acme", f"/v1/batches/{THEIRS}/history")
    ledger.post_events("acme", transfer("x", THEIRS, C, A, "1"))
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).all()
    seen = [(r.actor, r.action, r.subject, r.outcome) for r in rows]
    assert seen[0][:2] == ("olga", "events.submit") and "a1" in (rows[0].detail or "")
    assert seen[1:] == [
        ("acme", "stock.read", A, "ok"),
        ("acme", "stock.read", C, "denied"),
        ("acme", "batch.history", THEIRS, "denied"),
        ("acme", "events.submit", A, "denied"),
    ]
    assert all(r.client == "testclient" and r.at_us > 0 for r in rows)


def events_count(api: Api) -> int:
    with api.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(t.events)) or 0)


def test_unrelated_declarant_sees_nothing(ledger: Api) -> None:
    for path in (f"/v1/batches/{MINE}/history", f"/v1/batches/{THEIRS}/history"):
        assert ledger.get("bolat", path).status_code == (200 if MINE in path else 404)
    assert ledger.get("bolat", f"/v1/stock/{B}").json()[0]["quantity"] == "40"
    assert B not in ledger.get("caspian", f"/v1/batches/{THEIRS}/history").text
    assert ledger.get("caspian", f"/v1/stock/{A}").status_code == 403
    assert C  # the other company exists: the refusals above did not depend on it


def test_reusing_a_foreign_event_id_does_not_make_it_cancellable(ledger: Api) -> None:
    """An event of one's own under another company's event id must not open that event."""
    fake = import_("c2", "55501/010324/0000007/001", holder=A)  # c2 is caspian's write_off
    before = events_count(ledger)
    r = ledger.post_events("acme", fake, cancel("k1", "c2"))
    assert r.status_code == 403 and r.json()["field"] == "[1].target"
    assert events_count(ledger) == before


def _counts(api: Api) -> tuple[int, int, int]:
    with api.engine.connect() as conn:
        return (
            int(conn.scalar(sa.select(sa.func.count()).select_from(t.events)) or 0),
            int(conn.scalar(sa.select(sa.func.count()).select_from(t.rejections)) or 0),
            int(conn.scalar(sa.select(sa.func.count()).select_from(audit_log)) or 0),
        )


def test_a_tenancy_refusal_is_stored_with_its_audit_entry_or_not_at_all(
    ledger: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusal of a batch the declarant never held is decided before the writer, but
    stored in the writer's transaction with the request's events and its audit entry: when the
    entry cannot be written nothing of the request is stored, refusal included."""
    from keruen.api.routers import events as route

    body = [transfer("x1", THEIRS, A, B, "1"), import_("x2", "55501/010324/0000003/001", A)]
    before = _counts(ledger)

    def broken(*_: object) -> object:
        raise RuntimeError("the audit entry cannot be built")

    with monkeypatch.context() as m:
        m.setattr(route, "_entry", broken)
        assert ledger.post_events("acme", *body).status_code == 500
    assert _counts(ledger) == before  # no event, no refusal, no entry
    r = ledger.post_events("acme", *body)
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "accepted"]
    assert _counts(ledger) == (before[0] + 1, before[1] + 1, before[2] + 1)
    with ledger.engine.connect() as conn:
        entry = conn.execute(sa.select(audit_log).order_by(audit_log.c.id.desc())).first()
    assert entry is not None and entry.action == "events.submit"
    assert '"refused": [{"field": "batch", "index": 0}]' in entry.detail

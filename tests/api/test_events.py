"""POST /v1/events: single events, batches (array and JSON Lines), per-event results, limits."""

from __future__ import annotations

import sqlalchemy as sa

from keruen.store import schema as t
from tests.api.conftest import Api
from tests.factory import A, B, import_, transfer

BATCH = "55501/010324/0000001/001"
PROBLEM = "application/problem+json"


def count(api: Api, table: sa.Table) -> int:
    with api.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def test_single_event_accepted_then_duplicate(api: Api) -> None:
    r = api.post_events("olga", import_("e1", BATCH))
    assert (r.status_code, r.json()) == (201, {"id": "e1", "status": "accepted"})
    again = api.post_events("olga", import_("e1", BATCH))
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert count(api, t.events) == 1


def test_single_rejected_event_is_a_problem_naming_field_and_reason(api: Api) -> None:
    r = api.post_events("olga", transfer("t1", "55501/010324/0000099/001", A, B, "5"))
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["field"] == "batch" and "does not exist" in body["reason"]
    assert body["status"] == 422 and body["event_id"] == "t1" and body["instance"] == "/v1/events"
    assert count(api, t.rejections) == 1 and count(api, t.events) == 0


def test_invalid_field_is_named(sqlite_api: Api) -> None:
    api = sqlite_api
    bad = import_("e1", BATCH, holder="123")
    r = api.post_events("olga", bad)
    assert r.status_code == 422 and r.json()["field"] == "holder"


def test_id_conflict_is_409(api: Api) -> None:
    api.post_events("olga", import_("e1", BATCH))
    r = api.post_events("olga", import_("e1", BATCH, qty="7"))
    assert r.status_code == 409 and r.json()["field"] == "id"


def test_batch_array_reports_every_event(api: Api) -> None:
    events = [
        import_("e1", BATCH),
        transfer("t1", BATCH, A, B, "30"),
        transfer("t2", BATCH, A, B, "1000"),
        import_("e1", BATCH),
    ]
    r = api.post_events("olga", *events)
    assert r.status_code == 200
    body = r.json()
    assert (body["accepted"], body["rejected"], body["duplicates"]) == (2, 1, 1)
    statuses = [(x["index"], x["id"], x["status"]) for x in body["results"]]
    assert statuses == [
        (0, "e1", "accepted"),
        (1, "t1", "accepted"),
        (2, "t2", "rejected"),
        (3, "e1", "duplicate"),
    ]
    assert body["results"][2]["field"] == "quantity"


def test_batch_as_json_lines(sqlite_api: Api) -> None:
    api = sqlite_api
    r = api.post_lines("olga", import_("e1", BATCH), transfer("t1", BATCH, A, B, "30"))
    assert r.status_code == 200 and r.json()["accepted"] == 2
    with api.engine.connect() as conn:
        held = dict(conn.execute(sa.select(t.balances.c.holder, t.balances.c.quantity)).all())
    assert {k: str(v) for k, v in held.items()} == {A: "70", B: "30"}


def test_one_element_array_is_a_batch(sqlite_api: Api) -> None:
    api = sqlite_api
    r = api.post_events("olga", import_("e1", BATCH), batch=True)
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "accepted"


def test_malformed_elements_are_rejected_per_event(sqlite_api: Api) -> None:
    api = sqlite_api
    body = b'[{"type": "import"}, 5, {"id": "x"}]'
    r = api.client.post(
        "/v1/events", content=body, headers={**api.auth("olga"), "Content-Type": "application/json"}
    )
    assert r.status_code == 200 and r.json()["rejected"] == 3
    assert count(api, t.rejections) == 3


def test_request_errors(sqlite_api: Api) -> None:
    cases = [
        (b"", "application/json", 400, "body"),
        (b"[1, 2", "application/json", 400, "body"),
        (b"<xml/>", "application/xml", 415, "content-type"),
        (b"\n\n", "application/x-ndjson", 400, "body"),
    ]
    for body, kind, status, field in cases:
        r = sqlite_api.client.post(
            "/v1/events", content=body, headers={**sqlite_api.auth("olga"), "Content-Type": kind}
        )
        assert (r.status_code, r.json()["field"]) == (status, field), body
        assert r.headers["content-type"] == PROBLEM


def test_single_malformed_json_is_422_and_kept_in_rejections(sqlite_api: Api) -> None:
    r = sqlite_api.client.post(
        "/v1/events",
        content=b'{"id": ',
        headers={**sqlite_api.auth("olga"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and "malformed JSON" in r.json()["reason"]
    assert count(sqlite_api, t.rejections) == 1


def test_body_over_the_limit_is_413_and_nothing_is_written(sqlite_api: Api) -> None:
    big = [import_(f"e{i}", f"55501/010324/{i:07d}/001", note="x" * 2000) for i in range(200)]
    r = sqlite_api.post_events("olga", *big)
    assert r.status_code == 413 and r.json()["field"] == "body"
    assert count(sqlite_api, t.events) == 0 and count(sqlite_api, t.rejections) == 0


def test_streamed_body_over_the_limit_is_413(sqlite_api: Api) -> None:
    chunk = b'{"x": "' + b"y" * 60_000 + b'"}\n'

    def stream():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield chunk

    headers = {**sqlite_api.auth("olga"), "Content-Type": "application/x-ndjson"}
    r = sqlite_api.client.post("/v1/events", content=stream(), headers=headers)
    assert r.status_code == 413
    assert count(sqlite_api, t.rejections) == 0


def test_too_many_events_is_413(sqlite_api: Api) -> None:
    r = sqlite_api.client.post(
        "/v1/events",
        content=b"{}\n" * 501,
        headers={**sqlite_api.auth("olga"), "Content-Type": "application/x-ndjson"},
    )
    assert r.status_code == 413 and "limit is 500" in r.json()["reason"]


def test_analyst_and_admin_may_not_submit(sqlite_api: Api) -> None:
    for user in ("ana", "root"):
        r = sqlite_api.post_events(user, import_("e1", BATCH))
        assert r.status_code == 403
    assert count(sqlite_api, t.events) == 0

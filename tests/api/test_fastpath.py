"""POST /v1/events answers the same through the ASGI fast path as through the FastAPI route:
status, content type, body, authentication header and audit entries, request by request."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from keruen.api import audit
from keruen.api.fastpath import SubmitFastPath, route_path
from keruen.store import db
from tests.api.conftest import Api, make_api
from tests.factory import A, B, import_, line, transfer

BATCH = "55501/010324/0000001/001"


def _requests() -> list[tuple[str | None, dict[str, str], Any]]:
    """(user or None, extra headers, body: a dict/list for JSON, bytes or an iterator raw)."""
    own = import_("d1", "55501/010324/0000007/001", holder=A)
    big = [import_(f"b{i}", f"55501/010324/{i:07d}/001", note="x" * 2000) for i in range(200)]
    return [
        ("olga", {}, import_("e1", BATCH)),
        ("olga", {}, import_("e1", BATCH)),
        ("olga", {}, import_("e1", BATCH, qty="7")),
        ("olga", {}, transfer("t1", "55501/010324/0000099/001", A, B, "5")),
        ("olga", {}, [transfer("t2", BATCH, A, B, "3"), import_("e1", BATCH), {"id": 5}]),
        (
            "olga",
            {"Content-Type": "application/x-ndjson"},
            line(import_("e2", BATCH.replace("001/", "002/"))) + b"\n{oops\n",
        ),
        ("olga", {"Content-Type": "application/xml"}, b"<xml/>"),
        ("olga", {}, b""),
        ("olga", {}, b"[1, 2"),
        ("olga", {}, b'{"id": '),
        ("olga", {}, big),
        ("olga", {"Content-Type": "application/x-ndjson"}, iter([b"{}\n" * 40_000] * 3)),
        (None, {}, import_("e9", BATCH)),
        (None, {"Authorization": "Basic b2xnYTp4"}, import_("e9", BATCH)),
        (None, {"Authorization": "Bearer kr_nope_nope"}, import_("e9", BATCH)),
        ("ana", {}, import_("e9", BATCH)),
        ("root", {}, import_("e9", BATCH)),
        ("acme", {}, import_("d2", "55501/010324/0000008/001", holder=B)),
        ("acme", {}, own),
        ("acme", {}, own),
    ]


def _answers(api: Api) -> list[tuple[Any, ...]]:
    answers = []
    for user, extra, body in _requests():
        headers = {**(api.auth(user) if user else {}), **extra}
        if isinstance(body, dict | list):
            r = api.client.post("/v1/events", json=body, headers=headers)
        else:
            r = api.client.post("/v1/events", content=body, headers=headers)
        answers.append(
            (
                r.status_code,
                r.headers["content-type"],
                r.headers.get("www-authenticate"),
                r.json(),
            )
        )
    return answers


def _audit(api: Api) -> list[tuple[Any, ...]]:
    with api.engine.connect() as conn:
        rows = audit.read(conn, limit=1000)
    return [
        (r["actor"], r["action"], r["subject"], r["outcome"], _same_key(r["detail"])) for r in rows
    ]


def _same_key(detail: Any) -> Any:
    """Each app has keys of its own: a refusal names the key id presented, compared as K."""
    return {**detail, "key_id": "K"} if detail and "key_id" in detail else detail


def test_fast_path_answers_exactly_like_the_route(sqlite_api: Api) -> None:
    app: Any = sqlite_api.client.app
    assert any(m.cls is SubmitFastPath for m in app.user_middleware)
    fast = _answers(sqlite_api)
    with db.scratch() as other:
        plain = make_api(other)
        route_api = next(plain)
        routed: Any = route_api.client.app
        assert routed.middleware_stack is not None  # built on entering the client: rebuild
        routed.user_middleware = [m for m in routed.user_middleware if m.cls is not SubmitFastPath]
        routed.middleware_stack = routed.build_middleware_stack()
        slow = _answers(route_api)
        slow_audit = _audit(route_api)
        plain.close()
    assert [a[0] for a in fast] == [
        201, 200, 409, 422, 200, 200, 415, 400, 400, 422, 413, 413,
        401, 401, 401, 403, 403, 403, 201, 200,
    ]  # fmt: skip
    assert fast == slow
    assert _audit(sqlite_api) == slow_audit
    refused = [a for a in _audit(sqlite_api) if a[3] == "denied"]
    assert len(refused) == sum(400 <= a[0] < 500 for a in fast) == 14  # every refusal, 401s too
    with sqlite_api.engine.connect() as conn:
        stored = conn.scalar(sa.text("SELECT count(*) FROM events"))
    assert stored == 4  # e1, t2, e2, d1


def test_route_path_strips_the_mount_point() -> None:
    assert route_path({"path": "/v1/events", "root_path": ""}) == "/v1/events"
    assert route_path({"path": "/api/v1/events", "root_path": "/api"}) == "/v1/events"
    assert route_path({"path": "/v1/events"}) == "/v1/events"

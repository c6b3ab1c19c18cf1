"""Errors to RFC 9457 problem details, in exactly one handler map (`HANDLERS`).

Every problem names the field at fault and the reason when there is one:
`{"type", "title", "status", "detail", "instance", "field", "reason", "errors": [...]}`.
Unexpected exceptions become a bare 500 problem (logged, nothing internal leaked).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any

import msgspec
import sqlalchemy as sa
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from keruen.api import refusals
from keruen.api.errors import ApiError, StorageUnavailable, Unauthorized
from keruen.errors import KeruenError, RejectedEvent

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://keruen.kz/problems/"
log = logging.getLogger("keruen.api")
_encode = msgspec.json.Encoder().encode


def problem(
    status: int,
    detail: str,
    instance: str = "",
    *,
    field: str | None = None,
    reason: str | None = None,
    kind: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or phrase.lower().replace(" ", "-")),
        "title": phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if field is not None:
        body.update(field=field, reason=reason or detail)
    if errors:
        body["errors"] = errors
    body.update(extra or {})
    return Response(_encode(body), status, headers=headers, media_type=MEDIA_TYPE)


def _kind(exc: Exception) -> str:
    name = type(exc).__name__
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


async def keruen_error(request: Request, exc: Exception) -> Response:
    """Any Keruen error: its status hint, and its `field` and `reason` when it has them (the
    ledger's RejectedEvent, the API's errors, other areas' errors that follow the pattern)."""
    assert isinstance(exc, KeruenError)
    path = request.url.path
    if exc.status >= 500 and not isinstance(exc, ApiError):
        log.error("server error %s: %s", type(exc).__name__, exc)
        return problem(exc.status, "the server cannot answer now", path)
    await refusals.record(request, exc.status, str(exc), getattr(exc, "audited", False))
    field = getattr(exc, "field", None)
    event_id = getattr(exc, "event_id", None) if isinstance(exc, RejectedEvent) else None
    return problem(
        exc.status,
        str(exc),
        path,
        field=field if isinstance(field, str) else None,
        reason=str(getattr(exc, "reason", str(exc))),
        kind=_kind(exc),
        headers={"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None,
        errors=exc.errors if isinstance(exc, ApiError) else None,
        extra={"event_id": event_id} if event_id else None,
    )


async def validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's parameter and body validation: each error as {field, reason}."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body",
            "reason": str(e.get("msg", "invalid")),
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "", "reason": "invalid request"}
    await refusals.record(request, 422, f"{first['field']}: {first['reason']}")
    return problem(
        422,
        f"{first['field']}: {first['reason']}",
        request.url.path,
        field=first["field"],
        reason=first["reason"],
        errors=errors,
    )


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown path, wrong method) as problems."""
    assert isinstance(exc, HTTPException)
    await refusals.record(request, exc.status_code, str(exc.detail))
    return problem(
        exc.status_code,
        str(exc.detail),
        request.url.path,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def storage_error(request: Request, exc: Exception) -> Response:
    log.error("database error: %s", exc)
    return await keruen_error(
        request, StorageUnavailable("the database failed; nothing was written")
    )


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "internal error; it was logged", request.url.path)


Handler = Callable[[Request, Any], Coroutine[Any, Any, Response]]

HANDLERS: dict[int | type[Exception], Handler] = {
    KeruenError: keruen_error,
    RequestValidationError: validation_error,
    HTTPException: http_error,
    sa.exc.DBAPIError: storage_error,
    Exception: unexpected,
}

"""Pure ASGI middleware: a request size limit and structured JSON access logs.

Pure ASGI (not BaseHTTPMiddleware) so that bodies stream through and the limit is enforced
while reading, also for chunked uploads that send no Content-Length.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keruen.api import refusals
from keruen.api.errors import PayloadTooLarge
from keruen.api.problems import problem

access = logging.getLogger("keruen.api.access")


class BodyLimit:
    """Refuse bodies over `limit` bytes with 413: at once from Content-Length, else while read."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            resp = problem(413, self._reason(), scope["path"], field="body", reason=self._reason())
            await refusals.record(Request(scope), 413, self._reason())
            await resp(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _reason(self) -> str:
        return f"the request body is over the limit of {self.limit:,} bytes"

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise PayloadTooLarge(self._reason(), "body")
            return message

        return wrapped


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class AccessLog:
    """One JSON line per request on the `keruen.api.access` logger."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status, size = time.perf_counter(), 500, 0

        async def sending(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if access.isEnabledFor(logging.INFO):
                access.info(json.dumps(_record(scope, status, size, start)))


def _record(scope: Scope, status: int, size: int, start: float) -> dict[str, Any]:
    client = scope.get("client")
    user = scope.get("state", {}).get("principal")
    return {
        "ts": round(time.time(), 3),
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "ms": round((time.perf_counter() - start) * 1000, 2),
        "bytes": size,
        "client": client[0] if client else None,
        "user": user.name if user else None,
    }

"""Every refused request on the audit log: who (the caller, or `anonymous` and what it
presented), what (method and path), why (status and reason) — 401s included.

Called by the one handler map (`keruen.api.problems`) and the body limit, for any 4xx the
routers did not already record with their own words (`Auditor.record(..., "denied")`, or an
error raised with `audited = True`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import Request

from keruen.api import deps, tokens
from keruen.api.access import Principal
from keruen.api.audit import AuditEntry
from keruen.api.writer import Job
from keruen.errors import KeruenError

log = logging.getLogger("keruen.api")
ACTION = "request.refused"


def presented(authorization: str | None) -> dict[str, str]:
    """What credential a request presented, never the secret: none, a key (with its id, the
    part before the secret) or a token."""
    scheme, _, credential = (authorization or "").partition(" ")
    credential = credential.strip()
    if not credential:
        return {"credential": "none"}
    if scheme.lower() != "bearer":
        return {"credential": f"{scheme[:20]} scheme"}
    if tokens.looks_like_key(credential):
        key_id = credential.removeprefix(tokens.KEY_PREFIX).split("_", 1)[0][:32]
        return {"credential": "key", "key_id": key_id}
    return {"credential": "token"}


def caller(request: Request) -> Principal | None:
    """Who made the request: known if it authenticated, else tried now (a request refused
    before any route ran, such as an unknown path, still names its caller)."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    state = getattr(request.app.state, "keruen", None)
    if scheme.lower() != "bearer" or not credential.strip() or state is None:
        return None
    try:
        return deps.authenticate(state, credential.strip())
    except KeruenError:
        return None


def entry(request: Request, status: int, why: str) -> AuditEntry:
    principal = caller(request)
    detail: dict[str, Any] = {"status": status, "why": why[:500]}
    if principal is None:
        detail.update(presented(request.headers.get("authorization")))
    client = request.client.host if request.client else "unknown"
    subject = f"{request.method} {request.url.path}"
    return AuditEntry(principal, ACTION, subject, client, "denied", detail)


async def record(request: Request, status: int, why: str, already: bool = False) -> None:
    """Write the refusal (unless the router did); a failure to write is logged, and the
    refusal still answered."""
    if already or getattr(request.state, "refusal_audited", False) or status < 400:
        return
    state = getattr(request.app.state, "keruen", None)
    if state is None:
        return
    request.state.refusal_audited = True
    entries = [entry(request, status, why)]
    try:
        await asyncio.wrap_future(state.writer.submit(Job("", [], [], lambda _: entries)))
    except Exception:
        log.exception("could not audit a refused request")

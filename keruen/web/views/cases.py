"""Cases over `keruen.risk.cases` (SPEC C5): an officer opens a case from one or several
alerts, assigns it, adds notes, decides with a reason; the case's own log is its audit trail,
and every action is in the audit log as for the API (`case.open`, `case.assign`, ...).
Declarants and analysts have no access: cases hold officers' findings about parties."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.responses import RedirectResponse, Response

from keruen.api.accounts import list_users
from keruen.api.deps import Auditor
from keruen.api.errors import Forbidden, PayloadTooLarge
from keruen.errors import KeruenError
from keruen.risk import cases, documents
from keruen.risk.errors import BadInput
from keruen.web import sessions
from keruen.web.core import (
    SESSION_COOKIE,
    CaseViewer,
    ConnDep,
    Form,
    WebAudit,
    WebRoute,
    field,
    page,
    state_of,
)

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
CaseId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/cases")
def case_list(
    request: Request,
    user: CaseViewer,
    conn: ConnDep,
    audit: WebAudit,
    status: Annotated[str | None, Query(pattern="^(open|assigned|decided)$")] = None,
) -> Response:
    found = cases.cases(conn, status)
    audit.record("cases.read", "*", detail={"cases": len(found)})
    return page(request, "cases.html", cases=found, chosen=status or "")


def _alert_ids(values: list[str]) -> list[int]:
    try:
        ids = sorted({int(v) for v in values})
    except ValueError:
        raise BadInput("alert", "alert numbers are whole numbers") from None
    if not ids:
        raise BadInput("alert", "select at least one alert")
    return ids


@router.post("/cases")
def open_case(request: Request, user: CaseViewer, form: Form, audit: WebAudit) -> Response:
    """Open a case from the alerts selected (one from an alert's page, several from the inbox)."""
    ids = _alert_ids(form.get("alert", []))
    with state_of(request).engine.begin() as conn:
        case_id = cases.open_case(conn, ids, user.name, field(form, "title")[:200])
    audit.record("case.open", str(case_id), detail={"alerts": ids})
    return RedirectResponse(f"/ui/cases/{case_id}", 303)


@router.get("/cases/{case_id}")
def case_view(
    request: Request, case_id: CaseId, user: CaseViewer, conn: ConnDep, audit: WebAudit
) -> Response:
    found = cases.public_case(cases.show(conn, case_id))
    audit.record("case.read", str(case_id))
    officers = [u["name"] for u in list_users(conn) if u["role"] == "officer"]
    return page(
        request,
        "case.html",
        case=found,
        officers=officers,
        decisions=cases.DECISIONS,
        documents=documents.listed(conn, case_id),
        max_mib=documents.MAX_BYTES // (1024 * 1024),
    )


def _act(
    request: Request,
    audit: Auditor,
    case_id: int,
    action: str,
    do: Callable[[Connection], None],
    detail: dict[str, str] | None = None,
) -> Response:
    """One case action in its own transaction, its audit entry, then back to the case."""
    with state_of(request).engine.begin() as conn:
        do(conn)
    audit.record(action, str(case_id), detail=detail)
    return RedirectResponse(f"/ui/cases/{case_id}", 303)


@router.post("/cases/{case_id}/assign")
def assign(
    request: Request, case_id: CaseId, user: CaseViewer, form: Form, audit: WebAudit
) -> Response:
    officer = field(form, "officer")[:100]
    if not officer:
        raise BadInput("officer", "name the officer to assign")
    return _act(
        request,
        audit,
        case_id,
        "case.assign",
        lambda conn: cases.assign(conn, case_id, officer, user.name),
        {"officer": officer},
    )


@router.post("/cases/{case_id}/notes")
def note(
    request: Request, case_id: CaseId, user: CaseViewer, form: Form, audit: WebAudit
) -> Response:
    text = field(form, "text")[:5000]
    return _act(
        request,
        audit,
        case_id,
        "case.note",
        lambda conn: cases.note(conn, case_id, text, user.name),
    )


@router.post("/cases/{case_id}/decision")
def decide(
    request: Request, case_id: CaseId, user: CaseViewer, form: Form, audit: WebAudit
) -> Response:
    decision, reason = field(form, "decision"), field(form, "reason")[:2000]
    if not reason:
        raise BadInput("reason", "a decision states its reason")
    return _act(
        request,
        audit,
        case_id,
        "case.decide",
        lambda conn: cases.decide(conn, case_id, decision, user.name, reason),
        {"decision": decision},
    )


def _reason(form: dict[str, list[str]]) -> str:
    return field(form, "reason")[:2000]


@router.post("/cases/{case_id}/hold")
def hold(
    request: Request, case_id: CaseId, user: CaseViewer, form: Form, audit: WebAudit
) -> Response:
    """Hold the goods while the case is worked (a state, not a decision)."""
    reason = _reason(form)
    return _act(
        request, audit, case_id, "case.hold", lambda c: cases.hold(c, case_id, user.name, reason)
    )


@router.post("/cases/{case_id}/inspect")
def inspect(
    request: Request, case_id: CaseId, user: CaseViewer, form: Form, audit: WebAudit
) -> Response:
    """Start a physical inspection; its findings come before the decision."""
    reason = _reason(form)
    return _act(
        request,
        audit,
        case_id,
        "case.inspect",
        lambda c: cases.inspect(c, case_id, user.name, reason),
    )


@router.post("/cases/{case_id}/findings")
def findings(
    request: Request, case_id: CaseId, user: CaseViewer, form: Form, audit: WebAudit
) -> Response:
    text, discrepancy = field(form, "text")[:5000], field(form, "discrepancy") == "on"
    return _act(
        request,
        audit,
        case_id,
        "case.findings",
        lambda c: cases.findings(c, case_id, text, discrepancy, user.name),
        {"discrepancy": str(discrepancy).lower()},
    )


@router.post("/cases/{case_id}/reopen")
def reopen(
    request: Request, case_id: CaseId, user: CaseViewer, form: Form, audit: WebAudit
) -> Response:
    """Reopen a decided case (new facts, an appeal): its decision stops counting."""
    reason = _reason(form)
    return _act(
        request,
        audit,
        case_id,
        "case.reopen",
        lambda c: cases.reopen(c, case_id, user.name, reason),
    )


# --- documents ----------------------------------------------------------------------------


async def _capped_body(request: Request, most: int) -> None:
    """Read the request body, refusing it as soon as it is larger than `most` bytes (before
    any of it is parsed); the form parser then reads it from memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > most:
        raise PayloadTooLarge(f"a document of at most {documents.MAX_BYTES} bytes", "document")
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > most:
            raise PayloadTooLarge(f"a document of at most {documents.MAX_BYTES} bytes", "document")
        parts.append(chunk)
    request._body = b"".join(parts)  # Request.body()/form() read it from here


@router.post("/cases/{case_id}/documents")
async def attach_document(
    request: Request, case_id: CaseId, user: CaseViewer, audit: WebAudit
) -> Response:
    """Attach a document (multipart form: `csrf`, `document`): checked, stored with its
    SHA-256, in the case's log and the audit log; a refusal is audited with its reason."""
    try:
        await _capped_body(request, documents.MAX_BYTES + 64 * 1024)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise BadInput("document", "send the document as multipart/form-data")
        async with request.form(max_files=1, max_fields=4) as form:
            if not sessions.csrf_ok(request.cookies.get(SESSION_COOKIE), str(form.get("csrf"))):
                raise Forbidden("the form has expired or did not come from this site: reload")
            upload = form.get("document")
            if not isinstance(upload, UploadFile):
                raise BadInput("document", "choose a file to attach")
            content = await upload.read(documents.MAX_BYTES + 1)
            name, declared = upload.filename or "", upload.content_type or ""

        def store() -> int:
            with state_of(request).engine.begin() as conn:
                return documents.add(conn, case_id, name, declared, content, user.name)

        doc_id = await run_in_threadpool(store)
    except (KeruenError, MultiPartException) as e:
        reason = str(e)[:300]
        await run_in_threadpool(
            audit.record, "case.document", str(case_id), "refused", {"reason": reason}
        )
        if isinstance(e, MultiPartException):
            raise BadInput("document", f"the form could not be read: {e}") from None
        raise
    detail = {"document": str(doc_id), "sha256": hashlib.sha256(content).hexdigest()}
    await run_in_threadpool(audit.record, "case.document", str(case_id), "ok", detail)
    return RedirectResponse(f"/ui/cases/{case_id}#documents", 303)


@router.get("/cases/{case_id}/documents/{doc_id}")
def document(
    request: Request,
    case_id: CaseId,
    doc_id: Annotated[int, Path(ge=1, le=2**62)],
    user: CaseViewer,
    conn: ConnDep,
    audit: WebAudit,
) -> Response:
    """The document's bytes as a download, never rendered in the dashboard's origin."""
    found, data = documents.content(conn, case_id, doc_id)
    audit.record("case.document.read", str(case_id), detail={"document": str(doc_id)})
    media = "text/plain; charset=utf-8" if found.media_type == "text/plain" else found.media_type
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.name, safe='')}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "no-store",
        },
    )

"""Cases over `keruen.risk.cases` (SPEC C5): an officer opens a case from one or several
alerts, assigns it, adds notes, decides with a reason; the case's own log is its audit trail,
and every action is in the audit log as for the API (`case.open`, `case.assign`, ...).
Declarants and analysts have no access: cases hold officers' findings about parties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.engine import Connection
from starlette.responses import RedirectResponse, Response

from keruen.api.accounts import list_users
from keruen.api.deps import Auditor
from keruen.risk import cases
from keruen.risk.errors import BadInput
from keruen.web.core import CaseViewer, ConnDep, Form, WebAudit, WebRoute, field, page, state_of

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
    return page(request, "case.html", case=found, officers=officers, decisions=cases.DECISIONS)


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

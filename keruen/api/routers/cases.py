"""Cases over `keruen.risk.cases` (SPEC C5): officers open cases from alerts, assign (to
officers), note, attach, hold, inspect, record the findings, decide, reopen. The actor is the
signed-in officer. Every action is a row of the case's own log and of the API's audit log,
in one transaction. Declarants and analysts have no access: cases hold officers' findings
about parties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from keruen.api.deps import AuditDep, CaseWorker, ConnDep, StateDep
from keruen.api.schemas import problems
from keruen.risk import cases

router = APIRouter(prefix="/v1", tags=["cases"])

CaseId = Annotated[int, Path(ge=1, le=2**62)]
AlertIds = Annotated[
    list[Annotated[int, Field(ge=1, le=2**62)]], Field(min_length=1, max_length=500)
]
Decision = Literal["release", "confirmed_diversion", "false_positive", "hold", "inspect"]
Status = Literal["open", "assigned", "held", "inspecting", "inspected", "decided"]
WRITE = problems(400, 401, 403, 404, 409, 413, 415, 422, 503)


class CasePublic(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    title: str
    status: str
    assignee: str | None
    decision: str | None
    held: bool = False
    findings: list[dict[str, Any]] = Field(default_factory=list)
    reopened: int = 0


class CaseOpen(BaseModel):
    alert_ids: AlertIds
    title: str = Field(default="", max_length=200)


class Assign(BaseModel):
    officer: str = Field(min_length=1, max_length=100)


class Note(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class Attach(BaseModel):
    alert_ids: AlertIds


class Decide(BaseModel):
    decision: Decision = Field(
        description="final: release, confirmed_diversion, false_positive; hold and inspect "
        "are accepted as the states they are (the case stays open)"
    )
    reason: str = Field(default="", max_length=2000)


class Reason(BaseModel):
    reason: str = Field(default="", max_length=2000)


class Reopen(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class Findings(BaseModel):
    text: str = Field(min_length=1, max_length=5000)
    discrepancy: bool = Field(description="the goods differ from the documents")


def _show(state: StateDep, case_id: int) -> dict[str, Any]:
    with state.engine.connect() as conn:
        return cases.public_case(cases.show(conn, case_id))


def _act(
    state: StateDep,
    audit: AuditDep,
    case_id: int,
    action: str,
    do: Callable[[Connection], None],
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One case action and the API's audit entry in one transaction, then the case."""
    with state.engine.begin() as conn:
        do(conn)
        audit.write(conn, action, str(case_id), detail=detail)
    return _show(state, case_id)


@router.get("/cases", response_model=list[CasePublic], responses=problems(401, 403, 422, 503))
def list_cases(
    user: CaseWorker,
    conn: ConnDep,
    audit: AuditDep,
    status: Annotated[Status | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Every case with its derived state, newest first."""
    found = cases.cases(conn, status)
    audit.record("cases.read", "*", detail={"cases": len(found)})
    return found


@router.post("/cases", status_code=201, response_model=CasePublic, responses=WRITE)
def open_case(body: CaseOpen, user: CaseWorker, state: StateDep, audit: AuditDep) -> dict[str, Any]:
    """Open a case from one or more alerts (an alert belongs to one case only)."""
    with state.engine.begin() as conn:
        case_id = cases.open_case(conn, body.alert_ids, user.name, body.title)
        audit.write(conn, "case.open", str(case_id), detail={"alerts": body.alert_ids})
    return _show(state, case_id)


@router.get(
    "/cases/{case_id}", response_model=CasePublic, responses=problems(401, 403, 404, 422, 503)
)
def show_case(case_id: CaseId, user: CaseWorker, conn: ConnDep, audit: AuditDep) -> dict[str, Any]:
    """A case with its alerts and its full history of actions."""
    found = cases.public_case(cases.show(conn, case_id))
    audit.record("case.read", str(case_id))
    return found


@router.post("/cases/{case_id}/assign", response_model=CasePublic, responses=WRITE)
def assign(
    case_id: CaseId, body: Assign, user: CaseWorker, state: StateDep, audit: AuditDep
) -> dict[str, Any]:
    def do(conn: Connection) -> None:
        cases.assign(conn, case_id, body.officer, user.name)

    return _act(state, audit, case_id, "case.assign", do, {"officer": body.officer})


@router.post("/cases/{case_id}/notes", response_model=CasePublic, responses=WRITE)
def note(
    case_id: CaseId, body: Note, user: CaseWorker, state: StateDep, audit: AuditDep
) -> dict[str, Any]:
    def do(conn: Connection) -> None:
        cases.note(conn, case_id, body.text, user.name)

    return _act(state, audit, case_id, "case.note", do)


@router.post("/cases/{case_id}/alerts", response_model=CasePublic, responses=WRITE)
def attach(
    case_id: CaseId, body: Attach, user: CaseWorker, state: StateDep, audit: AuditDep
) -> dict[str, Any]:
    def do(conn: Connection) -> None:
        cases.attach(conn, case_id, body.alert_ids, user.name)

    return _act(state, audit, case_id, "case.attach", do, {"alerts": body.alert_ids})


@router.post("/cases/{case_id}/decision", response_model=CasePublic, responses=WRITE)
def decide(
    case_id: CaseId, body: Decide, user: CaseWorker, state: StateDep, audit: AuditDep
) -> dict[str, Any]:
    """Decide: release, confirmed_diversion or false_positive (once per round; reopen to
    decide again). `hold` and `inspect` here are the states of the same name."""

    def do(conn: Connection) -> None:
        cases.decide(conn, case_id, body.decision, user.name, body.reason)

    return _act(state, audit, case_id, "case.decide", do, {"decision": body.decision})


@router.post("/cases/{case_id}/hold", response_model=CasePublic, responses=WRITE)
def hold(
    case_id: CaseId, body: Reason, user: CaseWorker, state: StateDep, audit: AuditDep
) -> dict[str, Any]:
    """Hold the goods while the case is worked: a state on the way to a decision."""

    def do(conn: Connection) -> None:
        cases.hold(conn, case_id, user.name, body.reason)

    return _act(state, audit, case_id, "case.hold", do)


@router.post("/cases/{case_id}/inspect", response_model=CasePublic, responses=WRITE)
def inspect(
    case_id: CaseId, body: Reason, user: CaseWorker, state: StateDep, audit: AuditDep
) -> dict[str, Any]:
    """Start a physical inspection; record its findings before deciding."""

    def do(conn: Connection) -> None:
        cases.inspect(conn, case_id, user.name, body.reason)

    return _act(state, audit, case_id, "case.inspect", do)


@router.post("/cases/{case_id}/findings", response_model=CasePublic, responses=WRITE)
def findings(
    case_id: CaseId, body: Findings, user: CaseWorker, state: StateDep, audit: AuditDep
) -> dict[str, Any]:
    """What the inspection found, and whether the goods differ from the documents."""

    def do(conn: Connection) -> None:
        cases.findings(conn, case_id, body.text, body.discrepancy, user.name)

    return _act(state, audit, case_id, "case.findings", do, {"discrepancy": body.discrepancy})


@router.post("/cases/{case_id}/reopen", response_model=CasePublic, responses=WRITE)
def reopen(
    case_id: CaseId, body: Reopen, user: CaseWorker, state: StateDep, audit: AuditDep
) -> dict[str, Any]:
    """Reopen a decided case (with a reason); its decision stops counting."""

    def do(conn: Connection) -> None:
        cases.reopen(conn, case_id, user.name, body.reason)

    return _act(state, audit, case_id, "case.reopen", do)

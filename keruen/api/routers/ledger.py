"""Reads of the ledger: stock, batch history and trace, rejections, counts.

A declarant reads only the moves it gave or received (`keruen.api.views`); a batch it is not
party to answers exactly as one that does not exist (404, same body), so nothing leaks.
Every party-level read is audited.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from keruen.api import reads, tenancy
from keruen.api.deps import AggregateReader, AuditDep, Auditor, ConnDep, PartyReader
from keruen.api.errors import Forbidden
from keruen.api.schemas import (
    BatchHistory,
    LedgerSummary,
    RejectionPublic,
    StockRow,
    TraceBack,
    TraceForward,
    problems,
)
from keruen.errors import NotFound
from keruen.store.port import LedgerReader
from keruen.store.queries import public

router = APIRouter(prefix="/v1", tags=["ledger"])


def _absent(batch: str, audit: Auditor, action: str) -> NotFound:
    """What a declarant gets for a batch it is not party to: the answer for no batch at all."""
    audit.record(action, batch, "denied")
    return NotFound(f"batch {batch!r} does not exist")


@router.get("/stock/{tax_id}", response_model=list[StockRow], responses=problems(401, 403, 503))
def stock(tax_id: str, user: PartyReader, conn: ConnDep, audit: AuditDep) -> list[dict[str, Any]]:
    """A holder's virtual warehouse (the JSON of `keruen stock --json`)."""
    if user.tenant is not None and user.tenant != tax_id:
        audit.record("stock.read", tax_id, "denied")
        raise Forbidden("a declarant reads only its own stock", "tax_id")
    rows = public(LedgerReader(conn).stock(tax_id))
    audit.record("stock.read", tax_id, detail={"batches": len(rows)})
    return [{k: r[k] for k in ("batch", "hs", "quantity", "unit")} for r in rows]


@router.get(
    "/batches/{batch:path}/history",
    response_model=BatchHistory,
    responses=problems(401, 403, 404, 503),
)
def history(batch: str, user: PartyReader, conn: ConnDep, audit: AuditDep) -> dict[str, Any]:
    """Every event that moved the batch, in ledger order, cancelled ones marked."""
    result = tenancy.history_for(conn, user.tenant, batch)
    if result is None:
        raise _absent(batch, audit, "batch.history")
    audit.record("batch.history", batch)
    return result


Direction = Annotated[
    Literal["back", "forward"],
    Query(description="back to the imports, or forward to where it went"),
]


@router.get(
    "/batches/{batch:path}/trace",
    response_model=TraceBack | TraceForward,
    responses=problems(401, 403, 404, 422, 503),
)
def trace(
    batch: str, direction: Direction, user: PartyReader, conn: ConnDep, audit: AuditDep
) -> dict[str, Any]:
    """Trace a batch back to its imports or forward to where its quantities went.

    A declarant sees the batches it is party to and, in each, only its own moves."""
    result = tenancy.trace_for(conn, user.tenant, batch, direction == "back")
    if result is None:
        raise _absent(batch, audit, "batch.trace")
    audit.record("batch.trace", batch, detail={"direction": direction})
    return {"direction": direction, **result}


@router.get(
    "/rejections", response_model=list[RejectionPublic], responses=problems(401, 403, 422, 503)
)
def rejections(
    user: PartyReader,
    conn: ConnDep,
    audit: AuditDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="page: ids below")] = None,
) -> list[dict[str, Any]]:
    """Rejected submissions, newest first; a declarant sees only its own."""
    source = user.source if user.tenant is not None else None
    rows = reads.rejections(conn, source, limit, before)
    audit.record("rejections.read", user.tenant or "*", detail={"rows": len(rows)})
    return rows


@router.get("/ledger/summary", response_model=LedgerSummary, responses=problems(401, 403, 503))
def summary(user: AggregateReader, conn: ConnDep) -> dict[str, Any]:
    """Counts of events by type, batches, holders, rejections: aggregates, no party data."""
    return reads.summary(conn)

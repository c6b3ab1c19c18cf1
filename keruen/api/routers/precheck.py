"""The dispatch pre-check over `keruen.risk.service.precheck` (SPEC C5): "may I ship this to
this buyer?" — the lane the dispatch would get and why, judged now, nothing written.

A declarant pre-checks only its own dispatches (the holder is its tax id) of batches it is
party to; any other batch answers like one that does not exist. It gets the lane and the
rules with their meaning, not the officers' reasons: those cite the batch's earlier holders
and their suppliers, other companies' trade.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from keruen.api import tenancy
from keruen.api.deps import AuditDep, ConnDep, PartyReader, StateDep
from keruen.api.errors import Forbidden
from keruen.api.schemas import Strict, problems
from keruen.errors import NotFound
from keruen.model import events as ev
from keruen.risk import service
from keruen.risk.detectors import RULES

router = APIRouter(prefix="/v1", tags=["alerts"])


class Buyer(Strict):
    tax_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=500)]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class PrecheckCreate(Strict):
    batch: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[str, Field(pattern=r"^\d{1,15}(\.\d{1,6})?$")]
    buyer: Buyer
    holder: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    export: bool = False


class PrecheckPublic(BaseModel):
    model_config = ConfigDict(extra="allow")
    batch: str
    quantity: str
    holder: str
    lane: str
    risk: float
    rules: list[str]
    reasons: list[str]
    evidence: list[str]


@router.post(
    "/precheck",
    response_model=PrecheckPublic,
    responses=problems(400, 401, 403, 404, 413, 422, 503),
)
def precheck(
    body: PrecheckCreate, user: PartyReader, state: StateDep, conn: ConnDep, audit: AuditDep
) -> dict[str, Any]:
    """The lane a planned dispatch (or export) would get, with the reasons and the evidence."""
    holder = body.holder
    if user.tenant is not None:
        if holder not in (None, user.tenant):
            raise Forbidden("a declarant pre-checks only its own dispatches", "holder")
        holder = user.tenant
        if not tenancy.is_party(conn, user.tenant, body.batch):
            audit.record("precheck", body.batch, "denied")
            raise NotFound(f"batch {body.batch!r} does not exist")
    buyer = ev.Party(tax_id=body.buyer.tax_id, name=body.buyer.name, country=body.buyer.country)
    plan, verdict = service.precheck(
        state.reader, body.batch, Decimal(body.quantity), buyer, holder, export=body.export
    )
    audit.record("precheck", body.batch, detail={"lane": verdict.lane})
    rules = [a.rule for a in verdict.alerts]
    if user.tenant is not None:
        reasons, evidence = [RULES.get(r, r) for r in rules], []
    else:
        reasons, evidence = verdict.reasons, verdict.evidence
    return {
        "batch": plan.batch,
        "quantity": str(plan.quantity),
        "holder": plan.holder,
        "buyer": body.buyer.model_dump(),
        "lane": verdict.lane,
        "risk": verdict.risk,
        "rules": rules,
        "reasons": reasons,
        "evidence": evidence,
    }

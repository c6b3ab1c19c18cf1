"""A declarant's screens (SPEC C5, C9): its own stock, its own events and rejections, and the
pre-check "may I dispatch this batch to this buyer?" — over `keruen.store.queries`,
`keruen.store.port`, `keruen.api.reads` and `keruen.risk.service.precheck`, with the API's
validation (`PrecheckCreate`) and tenancy (own holder, batches it is party to; the rules'
meaning as reasons, never the detection's evidence).

Officers use the same screens for any holder (`?holder=`) and any batch.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from keruen.api import reads, tenancy
from keruen.api.access import Principal
from keruen.api.routers.precheck import PrecheckCreate
from keruen.errors import NotFound
from keruen.model import events as ev
from keruen.risk import service
from keruen.risk.detectors import RULES
from keruen.risk.errors import BadInput
from keruen.store import queries
from keruen.store.port import LedgerReader
from keruen.web.core import (
    ConnDep,
    Form,
    PartyViewer,
    WebAudit,
    WebRoute,
    field,
    page,
    party_index,
    state_of,
)

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
Holder = Annotated[str | None, Query(max_length=64)]
PAGE = 100


def holder_of(user: Principal, holder: str | None) -> str:
    """A declarant's own tax id (whatever was asked); an officer names the holder."""
    if user.tenant is not None:
        return user.tenant
    if not holder:
        raise BadInput("holder", "name the holder's tax id (?holder=)")
    return holder


@router.get("/stock")
def stock(
    request: Request, user: PartyViewer, conn: ConnDep, audit: WebAudit, holder: Holder = None
) -> Response:
    """The virtual warehouse: what the holder holds of each batch."""
    if user.tenant is None and not holder:
        return page(request, "stock.html", holder="", rows=[])
    who = holder_of(user, holder)
    rows = queries.public(LedgerReader(conn).stock(who))
    audit.record("stock.read", who, detail={"batches": len(rows)})
    return page(request, "stock.html", holder=who, rows=rows)


@router.get("/events")
def own_events(
    request: Request,
    user: PartyViewer,
    conn: ConnDep,
    audit: WebAudit,
    holder: Holder = None,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    """The holder's events (any role), in ledger order, a page at a time; and the rejections of
    what the user itself submitted."""
    who = holder_of(user, holder)
    party_index(request)
    found = list(LedgerReader(conn).select_events(party=who, after_seq=after, limit=PAGE + 1))
    source = user.source if user.tenant is not None else None
    rejected = reads.rejections(conn, source, 50, before) if user.tenant is not None else []
    audit.record("events.read", who, detail={"events": len(found[:PAGE])})
    return page(
        request,
        "events.html",
        holder=who,
        events=found[:PAGE],
        next=found[PAGE - 1].seq if len(found) > PAGE else None,
        rejections=rejected,
    )


@router.get("/precheck")
def precheck_form(request: Request, user: PartyViewer) -> Response:
    return page(request, "precheck.html", form={}, result=None)


def _plan(user: Principal, form: dict[str, list[str]]) -> PrecheckCreate:
    """The form as the API's pre-check body, with the API's validation."""
    try:
        return PrecheckCreate(
            batch=field(form, "batch"),
            quantity=field(form, "quantity"),
            buyer={
                "tax_id": field(form, "buyer_tax_id") or None,  # no tax id: known by name (country)
                "name": field(form, "buyer_name"),
                "country": field(form, "buyer_country").upper(),
            },
            holder=None if user.tenant is not None else (field(form, "holder") or None),
            export=field(form, "export") == "on",
        )
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadInput(where, str(first["msg"])) from None


@router.post("/precheck")
async def precheck(request: Request, user: PartyViewer, form: Form, audit: WebAudit) -> Response:
    """The lane the planned dispatch would get, with its reasons; nothing is written."""
    plan = _plan(user, form)
    state = state_of(request)

    def judge() -> dict[str, Any]:
        with state.reader.connect() as conn:
            if user.tenant is not None and not tenancy.is_party(conn, user.tenant, plan.batch):
                audit.record("precheck", plan.batch, "denied")
                raise NotFound(f"batch {plan.batch!r} does not exist")
        buyer = ev.Party(tax_id=plan.buyer.tax_id, name=plan.buyer.name, country=plan.buyer.country)
        holder = user.tenant or plan.holder
        found, verdict = service.precheck(
            state.reader, plan.batch, Decimal(plan.quantity), buyer, holder, export=plan.export
        )
        audit.record("precheck", plan.batch, detail={"lane": verdict.lane})
        rules = [a.rule for a in verdict.alerts]
        if user.tenant is not None:  # as the API: the rules' meaning, never the evidence
            reasons, evidence = [RULES.get(r, r) for r in rules], []
        else:
            reasons, evidence = verdict.reasons, verdict.evidence
        return {
            "holder": found.holder,
            "lane": verdict.lane,
            "risk": verdict.risk,
            "rules": rules,
            "reasons": reasons,
            "evidence": evidence,
        }

    result = await run_in_threadpool(judge)
    shown = {k: field(form, k) for k in ("batch", "quantity", "buyer_name", "buyer_tax_id")}
    shown |= {"buyer_country": field(form, "buyer_country"), "holder": field(form, "holder")}
    return page(request, "precheck.html", form=shown, result=result)

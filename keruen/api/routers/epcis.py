"""EPCIS 2.0 over HTTP: `POST /v1/epcis/capture` and `GET /v1/epcis/events`.

Capture is `keruen epcis import` behind the API's single writer, with the authorization of
`POST /v1/events` (a declarant submits only events it acts in; all or nothing). The query
answers the GS1 REST binding's SimpleEventQuery parameters with `nextPageToken` paging; a
declarant gets only the events it is party to. Party master data: `KERUEN_EPCIS_PARTIES`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from keruen.api import bodies
from keruen.api.audit import AuditEntry
from keruen.api.deps import AppState, AuditDep, ConnDep, PartyReader, Submitter, client_of
from keruen.api.errors import BadRequest, UnsupportedMediaType
from keruen.api.routers.events import gate, merged
from keruen.api.schemas import problems
from keruen.api.writer import Job, Outcome
from keruen.epcis.capture import CaptureReport, Prepared, load_parties, prepare, refusals
from keruen.epcis.export import export_events, to_json_ld
from keruen.epcis.mapping import Parties, Unmappable, batch_of
from keruen.epcis.validate import Issue
from keruen.errors import RejectedEvent
from keruen.settings import get_settings
from keruen.store import ledger as store
from keruen.store.port import LedgerReader

router = APIRouter(prefix="/v1/epcis", tags=["epcis"])
_encode = msgspec.json.Encoder().encode
_MEDIA = {"application/json", "application/ld+json", "application/xml", "text/xml"}


def _parties(state: AppState) -> Parties:
    if "epcis_parties" not in state.extras:
        path = get_settings().epcis_parties
        text = Path(path).read_text(encoding="utf-8") if path else ""
        state.extras["epcis_parties"] = load_parties(text, path or "") if path else Parties()
    parties: Parties = state.extras["epcis_parties"]
    return parties


_OBJECT = {"schema": {"type": "object"}}


@router.post(
    "/capture",
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {m: {"schema": {"type": "string"}} for m in sorted(_MEDIA)},
        }
    },
    responses={
        200: {
            "description": "every event's outcome: accepted, duplicate or rejected",
            "content": {"application/json": _OBJECT},
        },
        **problems(400, 401, 403, 413, 415, 503),
    },
)
async def capture(request: Request, user: Submitter) -> Response:
    """Capture an EPCIS 2.0 document (JSON-LD, simple-context JSON or XML) into the ledger."""
    state: AppState = request.app.state.keruen
    kind = bodies.media_type(request.headers.get("content-type"))
    if kind not in _MEDIA:
        raise UnsupportedMediaType(f"{kind}: send application/ld+json, application/json or XML")
    name = "capture.xml" if kind.endswith("xml") else "capture.jsonld"
    prepared = await run_in_threadpool(prepare, await request.body(), name, _parties(state))
    client = client_of(request)
    source = f"epcis:{user.source}"
    refused: dict[int, RejectedEvent] = {}
    rows: list[store.Rejection] = []
    if user.tenant is not None and prepared.lines:
        refused, rows = await run_in_threadpool(gate, state, user, prepared.lines, client)
    # the document's unmappable events, tenancy's refusals, the events and the audit entry:
    # one job of the writer, one transaction
    ids = [bodies.event_id(line) for line in prepared.lines]
    kept = [i for i in range(len(prepared.lines)) if i not in refused]  # tenancy's gate
    job = Job(
        source,
        [prepared.lines[i] for i in kept],
        [ids[i] for i in kept],
        lambda outs: [_entry(user, client, outs)],
        rejections=[*refusals(prepared), *rows],
    )
    done = await asyncio.wrap_future(state.writer.submit(job))
    outcomes: list[Outcome] = merged(done, kept, ids, refused) if prepared.lines else []
    return Response(_encode(_report(prepared, outcomes).public()), media_type="application/json")


def _entry(user: Any, client: str, outcomes: list[Outcome]) -> AuditEntry:
    detail = {
        s: sum(o.status == s for o in outcomes) for s in ("accepted", "duplicate", "rejected")
    }
    return AuditEntry(user, "epcis.capture", user.tax_id or "*", client, "ok", detail)


def _report(prepared: Prepared, outcomes: list[Outcome]) -> CaptureReport:
    report = CaptureReport(prepared.document, prepared.events, rejections=list(prepared.refused))
    for o in outcomes:
        if o.status == "accepted":
            report.accepted += 1
        elif o.status == "duplicate":
            report.duplicates += 1
        elif o.error is not None:
            i = prepared.line_event[o.index]
            issue = Issue("ledger", i, o.error.field, type(o.error).__name__, o.error.reason)
            report.rejections.append(
                Issue(issue.layer, i, issue.pointer, issue.rule, issue.reason, prepared.hashes[i])
            )
    report.rejected = len(report.rejections)
    return report


def _page_token(token: str | None) -> int:
    if token is None:
        return 0
    if not token.startswith("s") or not token[1:].isdigit():
        raise BadRequest("not a page token this server gave", "nextPageToken")
    return int(token[1:])


def _batch(epc_class: str | None) -> str | None:
    if epc_class is None:
        return None
    try:
        return batch_of(epc_class)[0]
    except Unmappable as e:
        raise BadRequest(e.reason, "MATCH_epcClass") from e


@router.get(
    "/events",
    response_class=Response,
    responses={
        200: {"description": "an EPCISQueryDocument", "content": {"application/ld+json": _OBJECT}},
        **problems(400, 401, 403, 503),
    },
)
def events(
    user: PartyReader,
    conn: ConnDep,
    audit: AuditDep,
    request: Request,
    event_type: Annotated[list[str] | None, Query(alias="eventType")] = None,
    ge_time: Annotated[datetime | None, Query(alias="GE_eventTime")] = None,
    lt_time: Annotated[datetime | None, Query(alias="LT_eventTime")] = None,
    biz_step: Annotated[list[str] | None, Query(alias="EQ_bizStep")] = None,
    epc_class: Annotated[str | None, Query(alias="MATCH_epcClass")] = None,
    per_page: Annotated[int, Query(alias="perPage", ge=1, le=1000)] = 30,
    token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> Response:
    """The ledger's events as EPCIS 2.0 (SimpleEventQuery parameters of the GS1 REST binding);
    the next page is in the `Link` header (`rel="next"`) and `GS1-Next-Page-Token`."""
    for moment, name in ((ge_time, "GE_eventTime"), (lt_time, "LT_eventTime")):
        if moment is not None and moment.tzinfo is None:
            raise BadRequest("give the time with its offset", name)
    selected = list(
        LedgerReader(conn).select_events(
            after_seq=_page_token(token),
            start=ge_time,
            end=lt_time,
            batch=_batch(epc_class),
            party=user.tenant,
            limit=per_page,
        )
    )
    exported = export_events(conn, selected)
    chosen = [e for e in exported.events if _wanted(e, event_type, biz_step)]
    audit.record("epcis.events", user.tenant or "*", detail={"events": len(chosen)})
    created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    doc = to_json_ld(chosen, created)
    body = doc.pop("epcisBody")
    doc["type"] = "EPCISQueryDocument"
    doc["epcisBody"] = {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": body}}
    headers = {}
    if len(selected) == per_page:
        next_token = f"s{selected[-1].seq}"
        url = request.url.include_query_params(nextPageToken=next_token)
        headers = {"Link": f'<{url}>; rel="next"', "GS1-Next-Page-Token": next_token}
    return Response(_encode(doc), media_type="application/ld+json", headers=headers)


def _wanted(event: dict[str, Any], types: list[str] | None, steps: list[str] | None) -> bool:
    if types and event.get("type") not in types:
        return False
    step = str(event.get("bizStep", ""))
    return not steps or any(step == s or step.endswith("BizStep-" + s) for s in steps)

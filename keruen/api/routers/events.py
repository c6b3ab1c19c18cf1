"""POST /v1/events: submit one event, or a batch, to the ledger through `ingest_lines`.

A batch is judged per event, exactly like `keruen ingest`: each event is accepted, a
duplicate (same id, same content: a no-op) or rejected (stored in the rejection log with its
reason), and the answer lists every event's outcome. A single event that is rejected is a
problem+json 4xx naming the field and the reason. Authorization is all-or-nothing: if a
declarant's batch holds any event it may not submit, nothing of the request is written.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from keruen.api import bodies, tenancy
from keruen.api.access import Principal, acting_party, submit_refusal
from keruen.api.audit import AuditEntry
from keruen.api.deps import AppState, Submitter, client_of
from keruen.api.errors import Forbidden
from keruen.api.schemas import SubmitResult, Submitted, problems
from keruen.api.writer import Job, Outcome
from keruen.errors import InvalidEvent, RejectedEvent
from keruen.model import events as ev
from keruen.model.validate import parse
from keruen.store.ledger import Rejection

router = APIRouter(prefix="/v1", tags=["events"])
_encode = msgspec.json.Encoder().encode

EVENT_REF = {"$ref": "#/components/schemas/Event"}
EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [EVENT_REF, {"type": "array", "items": EVENT_REF, "minItems": 1}]
                }
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "JSON Lines: one event per line"}
            },
        },
    }
}


@router.post(
    "/events",
    response_model=SubmitResult,
    status_code=200,
    openapi_extra=EVENTS_BODY,
    responses={
        201: {"model": Submitted, "description": "the event was accepted"},
        **problems(400, 401, 403, 409, 413, 415, 422, 503),
    },
)
async def submit(request: Request, user: Submitter) -> Response:
    """Submit one event (a JSON object: 201, or 200 for a duplicate, or a 4xx problem) or a
    batch (a JSON array, or JSON Lines as application/x-ndjson: 200 with per-event results)."""
    started = time.perf_counter()
    state: AppState = request.app.state.keruen
    body = bodies.read(
        request.headers.get("content-type"), await request.body(), state.settings.max_events
    )
    ids = [bodies.event_id(line) for line in body.lines]
    client = client_of(request)
    refused: dict[int, RejectedEvent] = {}
    rows: list[Rejection] = []
    if user.tenant is not None:
        refused, rows = await run_in_threadpool(gate, state, user, body.lines, client)
    kept = [i for i in range(len(body.lines)) if i not in refused]
    job = Job(
        user.source,
        [body.lines[i] for i in kept],
        [ids[i] for i in kept],
        lambda outs: [_entry(user, client, merged(outs, kept, ids, refused), refused)],
        rejections=rows,
        started=started,
    )
    outcomes = merged(await asyncio.wrap_future(state.writer.submit(job)), kept, ids, refused)
    return _single(outcomes[0]) if body.single else _batch(outcomes)


def gate(
    state: AppState, user: Principal, lines: list[bytes], client: str
) -> tuple[dict[int, RejectedEvent], list[Rejection]]:
    """A declarant's request through tenancy: refused whole (403) if any event is not its to
    submit; else the events (by index) that move a batch it never held, refused as unknown
    batches, and their rows for the rejection log as the ledger would store them. The caller
    hands the rows to the writer with the other lines (`Job.rejections`: stored with the
    request's events and audit entry, in one transaction) and merges the outcomes
    (`merged`)."""
    _authorize(state, user, lines, client)
    assert user.tax_id is not None
    typed = [_typed(line) for line in lines]
    with state.reader.connect() as conn:
        refused: dict[int, RejectedEvent] = dict(tenancy.unheld_refusals(conn, user.tax_id, typed))
    rows = [Rejection(i + 1, typed_id(typed[i]), e, lines[i]) for i, e in sorted(refused.items())]
    return refused, rows


def _typed(line: bytes) -> ev.Event | None:
    try:
        return parse(line).event
    except InvalidEvent:
        return None  # the ledger rejects it on its own, with its reason


def typed_id(event: ev.Event | None) -> str | None:
    return event.id if event is not None else None


def merged(
    outcomes: list[Outcome],
    kept: list[int],
    ids: list[str | None],
    refused: dict[int, RejectedEvent],
) -> list[Outcome]:
    """The writer's outcomes of the kept events and the refused ones, in request order."""
    merged = {kept[o.index]: Outcome(kept[o.index], o.id, o.status, o.error) for o in outcomes}
    merged.update((i, Outcome(i, ids[i], "rejected", e)) for i, e in refused.items())
    return [merged[i] for i in sorted(merged)]


def _authorize(state: AppState, user: Principal, lines: list[bytes], client: str) -> None:
    """Refuse the whole request if any event is not the declarant's to submit."""
    assert user.tax_id is not None
    typed = [_typed(line) for line in lines]
    own = _own_ids(state, user.tax_id, typed)
    errors = []
    for i, event in enumerate(typed):
        refusal = submit_refusal(user.tax_id, event, own) if event is not None else None
        if refusal:
            field = f"[{i}].{refusal[0]}" if len(lines) > 1 else refusal[0]
            errors.append({"field": field, "reason": refusal[1]})
    if errors:
        state.writer.record(
            [
                AuditEntry(
                    user, "events.submit", user.tax_id, client, "denied", {"refused": errors[:50]}
                )
            ]
        )
        forbidden = Forbidden(errors[0]["reason"], errors[0]["field"], errors)
        forbidden.audited = True
        raise forbidden


def _own_ids(state: AppState, tax_id: str, typed: list[ev.Event | None]) -> set[str]:
    """The cancel targets the declarant may cancel: a stored event is judged as stored (an event
    in the request reusing its id changes nothing), an unknown id by the request's own events."""
    targets = {e.target for e in typed if isinstance(e, ev.Cancel)}
    if not targets:
        return set()
    with state.reader.connect() as conn:
        stored = tenancy.acting_parties(conn, targets)
    in_request = {e.id for e in typed if e is not None and acting_party(e) == tax_id}
    return {t for t in targets if (stored[t] == tax_id if t in stored else t in in_request)}


def _entry(
    user: Principal, client: str, outcomes: list[Outcome], refused: dict[int, RejectedEvent]
) -> AuditEntry:
    accepted = [o.id for o in outcomes if o.status == "accepted"]
    detail: dict[str, Any] = {
        "refused": [{"index": i, "field": e.field} for i, e in sorted(refused.items())][:50],
        "accepted": accepted,
        "duplicates": sum(o.status == "duplicate" for o in outcomes),
        "rejected": sum(o.status == "rejected" for o in outcomes),
    }
    return AuditEntry(user, "events.submit", user.tax_id or "*", client, "ok", detail)


def _single(outcome: Outcome) -> Response:
    if outcome.error is not None:
        outcome.error.event_id = outcome.error.event_id or outcome.id
        raise outcome.error
    status = 201 if outcome.status == "accepted" else 200
    return Response(
        _encode({"id": outcome.id, "status": outcome.status}), status, media_type="application/json"
    )


def _result(o: Outcome) -> dict[str, Any]:
    row: dict[str, Any] = {"index": o.index, "id": o.id, "status": o.status}
    if isinstance(o.error, RejectedEvent):
        row.update(id=o.id or o.error.event_id, field=o.error.field, reason=o.error.reason)
    return row


def _batch(outcomes: list[Outcome]) -> Response:
    counts = {
        s: sum(o.status == s for o in outcomes) for s in ("accepted", "duplicate", "rejected")
    }
    body = {
        "accepted": counts["accepted"],
        "duplicates": counts["duplicate"],
        "rejected": counts["rejected"],
        "results": [_result(o) for o in outcomes],
    }
    return Response(_encode(body), 200, media_type="application/json")

"""A batch's trail (SPEC C1, C7): the graph of its moves back to its imports and forward to
where its quantities went, with the trace tables beside it — the read models of
`keruen.api.tenancy` (`history_for`, `trace_for`: what `/v1/batches/{batch}/...` answers) and
the events of `keruen.store.port`.

A declarant sees the batches it is party to and, in each, only the moves it gave or received
(the API's views, not a copy); any other batch answers like a missing one, and neighbour
batches it is not party to are neither drawn nor offered to expand.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from keruen.api import tenancy, views
from keruen.errors import NotFound
from keruen.store.port import LedgerReader, StoredEvent
from keruen.web import trail
from keruen.web.core import ConnDep, PartyViewer, WebAudit, WebRoute, page

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
MAX_EXPANDED = 20


def _events(conn: Any, tenant: str | None, batch: str) -> list[StoredEvent]:
    """The batch's events; for a declarant, only those of the moves it may see."""
    found = list(LedgerReader(conn).select_events(batch=batch))
    if tenant is None:
        return found
    seen = tenancy.history_for(conn, tenant, batch)
    ids = {e["id"] for e in seen["events"]} if seen else set()
    return [s for s in found if s.event.id in ids]


@router.get("/batches/{batch:path}")
def batch_trail(
    request: Request,
    batch: str,
    user: PartyViewer,
    conn: ConnDep,
    audit: WebAudit,
    expand: Annotated[list[str], Query(max_length=64)] = [],  # noqa: B006
    cancelled: bool = False,
) -> Response:
    """The trail graph of `batch` and of the neighbour batches expanded (`?expand=`)."""
    history = tenancy.history_for(conn, user.tenant, batch)
    back = tenancy.trace_for(conn, user.tenant, batch, True)
    forward = tenancy.trace_for(conn, user.tenant, batch, False)
    if history is None or back is None or forward is None:
        audit.record("batch.trace", batch, "denied" if user.tenant else "not_found")
        raise NotFound(f"batch {batch!r} does not exist")
    known = set(views.trace_batches(back)) | set(views.trace_batches(forward))
    shown = [batch, *[b for b in dict.fromkeys(expand) if b in known and b != batch]]
    shown = shown[: MAX_EXPANDED + 1]
    events = [s for b in shown for s in _events(conn, user.tenant, b)]
    graph = trail.build(events, shown, cancelled)
    graph.collapsed = [b for b in graph.collapsed if b in known]
    audit.record("batch.trace", batch, detail={"expanded": shown[1:]})
    return page(
        request,
        "batch.html",
        batch=batch,
        info=history["batch"],
        graph=graph,
        shown=shown,
        back=back,
        forward=forward,
        cancelled=cancelled,
        trail=trail,
    )

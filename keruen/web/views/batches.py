"""A batch's trail (SPEC C1, C7): the graph of its moves back to its imports and forward to
where its quantities went, with the trace tables beside it, over `keruen.store.port` and
`keruen.store.queries` (as `/v1/batches/{batch}/trace`).

A declarant sees the batches it is party to; any other batch answers like a missing one, and
neighbour batches it is not party to are neither drawn nor offered to expand.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.engine import Connection
from starlette.responses import Response

from keruen.api import access, tenancy
from keruen.api.access import Principal
from keruen.api.deps import Auditor
from keruen.errors import NotFound
from keruen.store import queries
from keruen.store.port import LedgerReader
from keruen.web import trail
from keruen.web.core import ConnDep, PartyViewer, WebAudit, WebRoute, page

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
MAX_EXPANDED = 20


def ensure_party(conn: Connection, user: Principal, batch: str, audit: Auditor) -> None:
    """A batch the declarant is not party to answers exactly like an absent one."""
    if user.tenant is None or tenancy.is_party(conn, user.tenant, batch):
        return
    audit.record("batch.trace", batch, "denied")
    raise NotFound(f"batch {batch!r} does not exist")


def _traces(conn: Connection, user: Principal, batch: str) -> tuple[dict[str, Any], ...]:
    back, forward = queries.trace_back(conn, batch), queries.trace_forward(conn, batch)
    if user.tenant is not None:
        names = access.trace_batches(back) + access.trace_batches(forward)
        visible = tenancy.visible_batches(conn, user.tenant, names)
        back, forward = access.prune_trace(back, visible), access.prune_trace(forward, visible)
    return back, forward


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
    ensure_party(conn, user, batch, audit)
    info = queries.batch_info(conn, batch)
    back, forward = _traces(conn, user, batch)
    known = set(access.trace_batches(back)) | set(access.trace_batches(forward))
    shown = [batch, *[b for b in dict.fromkeys(expand) if b in known and b != batch]]
    shown = shown[: MAX_EXPANDED + 1]
    reader = LedgerReader(conn)
    events = [s for b in shown for s in reader.select_events(batch=b)]
    graph = trail.build(events, shown, cancelled)
    if user.tenant is not None:
        graph.collapsed = [b for b in graph.collapsed if b in known]
    audit.record("batch.trace", batch, detail={"expanded": shown[1:]})
    return page(
        request,
        "batch.html",
        batch=batch,
        info=info,
        graph=graph,
        shown=shown,
        back=back,
        forward=forward,
        cancelled=cancelled,
        trail=trail,
    )

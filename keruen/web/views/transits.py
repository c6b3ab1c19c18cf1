"""Transit movements (SPEC C2) over `keruen.transit.service`: the list with deadline and state,
and one movement's offline SVG map (`keruen.transit.mapview.figure`), timeline and findings.

A declarant sees the movements it is party to (carrier or consignee), as `/v1/transits`; any
other MRN answers like an unknown one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.engine import Connection
from starlette.responses import Response

from keruen.api import tenancy
from keruen.store.port import LedgerReader
from keruen.transit import mapview, service
from keruen.transit.errors import MovementNotFound
from keruen.web.core import ConnDep, PartyViewer, WebAudit, WebRoute, page, state_of

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
OPEN = ("declared", "in_transit", "overdue")  # the states of a movement not yet closed


def _movements(request: Request, conn: Connection) -> list[service.MovementView]:
    """Every movement as of the latest event, replayed once per ledger head: the list changes
    only when the ledger does (the replay of every movement is the costly part)."""
    head = LedgerReader(conn).head()
    extras = state_of(request).extras
    cached = extras.get("web.transits")
    if cached is None or cached[0] != head:
        cached = (head, service.movements(conn))
        extras["web.transits"] = cached
    found: list[service.MovementView] = cached[1]
    return found


def _indexed(request: Request) -> None:
    """The seal-binding index brought up to the ledger's head when the head has moved: a
    derived index (`keruen.transit.bindings`), so one movement is a few indexed reads instead
    of a scan of every declaration the index has not seen (reads are complete either way)."""
    head = LedgerReader(state_of(request).reader).head()  # before `conn` reads anything:
    # its snapshot then begins after the refresh and sees it
    state = state_of(request)
    if state.extras.get("web.bindings") != head:
        service.refresh(state.engine, tracker=False)  # a movement's replay reads no tracker
        state.extras["web.bindings"] = head


@router.get("/transits")
def transit_list(
    request: Request,
    user: PartyViewer,
    conn: ConnDep,
    audit: WebAudit,
    show: Annotated[str, Query(pattern="^(open|all)$")] = "open",
) -> Response:
    """Movements with their deadline and state as of the latest event; open ones first."""
    views = list(_movements(request, conn))
    if user.tenant is not None:
        mine = tenancy.visible_transits(conn, user.tenant)
        views = [v for v in views if v.mrn in mine]
    if show == "open":
        views = [v for v in views if v.state in OPEN]
    views.sort(key=lambda v: (-v.findings, v.deadline))
    audit.record("transits.read", user.tenant or "*", detail={"movements": len(views)})
    return page(request, "transits.html", movements=views[:500], total=len(views), show=show)


@router.get("/transits/{mrn}")
def transit_view(
    request: Request,
    mrn: Annotated[str, Path(max_length=64)],
    user: PartyViewer,
    conn: ConnDep,
    audit: WebAudit,
) -> Response:
    """One movement: its map, facts, timeline and findings."""
    _indexed(request)
    if user.tenant is not None and mrn not in tenancy.visible_transits(conn, user.tenant, [mrn]):
        audit.record("transit.read", mrn, "denied")
        raise MovementNotFound(mrn)
    detail = service.movement(conn, mrn)
    audit.record("transit.read", mrn)
    return page(
        request,
        "transit.html",
        m=detail.view,
        declaration=detail.declaration,
        timeline=[e.public() for e in detail.timeline],
        findings=[f.public() for f in detail.findings],
        map_svg=mapview.figure(detail),
    )

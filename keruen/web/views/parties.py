"""A party (SPEC C4, C5): its registration month, screening hits with the matched entry and why,
alerts citing it, counterparties and the timeline of its events — over `keruen.store.port`,
`keruen.screening.store`, `keruen.risk.queries` and `keruen.risk.parties`.

A declarant sees its own party page only; any other tax id answers like an unknown one.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from keruen.errors import NotFound
from keruen.ledger.parties import parties
from keruen.risk import queries
from keruen.risk.parties import registered_us
from keruen.screening import store as screening
from keruen.store.port import LedgerReader
from keruen.web.core import ConnDep, PartyViewer, WebAudit, WebRoute, page, party_index, state_of
from keruen.web.views.alerts import shown

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
TIMELINE = 500  # events shown; the page says when there are more


@router.get("/parties/{tax_id}")
def party_view(
    request: Request,
    tax_id: Annotated[str, Path(min_length=1, max_length=64)],
    user: PartyViewer,
    conn: ConnDep,
    audit: WebAudit,
) -> Response:
    if user.tenant is not None and user.tenant != tax_id:
        audit.record("party.read", tax_id, "denied")
        raise NotFound(f"party {tax_id!r} does not exist")
    party_index(request)
    stored = list(LedgerReader(conn).select_events(party=tax_id, limit=TIMELINE + 1))
    policy = state_of(request).settings.declarant_alerts
    views = (shown(conn, user, policy, a) for a in queries.about(conn, tax_id))
    alerts = [a for a in views if a is not None]
    if not stored and not alerts:
        audit.record("party.read", tax_id, "not_found")
        raise NotFound(f"party {tax_id!r} does not exist")
    events = stored[:TIMELINE]
    hits = screening.results_for(conn, [s.event.id for s in events])
    counterparties = Counter(p for s in events for p in parties(s.event) if p != tax_id)
    registered = registered_us(tax_id)
    audit.record("party.read", tax_id, detail={"events": len(events)})
    return page(
        request,
        "party.html",
        tax_id=tax_id,
        registered=datetime.fromtimestamp(registered / 1e6, UTC) if registered else None,
        events=events,
        more=len(stored) > TIMELINE,
        hits=[(s, h) for s in events for h in hits.get(s.event.id, []) if h["kind"] == "party"],
        alerts=alerts,
        counterparties=counterparties.most_common(30),
    )

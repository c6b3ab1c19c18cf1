"""The alert inbox and one alert with its explanation (SPEC C5), over `keruen.risk`.

A declarant sees what the API shows it (`keruen.api.routers.alerts._view`, the API's own rule,
not a copy): no alert unless `KERUEN_DECLARANT_ALERTS=own`, and then only its own, without the
facts or the other parties; any other alert answers like a missing one. Every read is audited
like the API's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.engine import Connection
from starlette.responses import Response

from keruen.api.access import Principal
from keruen.api.routers.alerts import _view as declarant_view
from keruen.risk import inbox, queries
from keruen.risk.errors import AlertNotFound
from keruen.web.core import ConnDep, PartyViewer, WebAudit, WebRoute, kept, page, state_of

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)

Text = Annotated[str | None, Query(max_length=64)]
PAGE = 50


def _us(day: date | None) -> int | None:
    if day is None:
        return None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value else None


def shown(
    conn: Connection, user: Principal, policy: str, alert: dict[str, Any]
) -> dict[str, Any] | None:
    """The alert as the user may see it (the API's view), or None."""
    return declarant_view(conn, user, policy, alert)


def policy_of(request: Request) -> str:
    return state_of(request).settings.declarant_alerts


@router.get("/alerts")
def alert_inbox(
    request: Request,
    user: PartyViewer,
    conn: ConnDep,
    audit: WebAudit,
    status: Annotated[str, Query(max_length=16)] = "open",
    lane: Text = None,
    rule: Text = None,
    score: Annotated[float | None, Query(ge=0, le=1)] = None,
    post: Text = None,
    hs: Text = None,
    party: Text = None,
    since: Annotated[date | None, Query()] = None,
    until: Annotated[date | None, Query()] = None,
    after: Annotated[str | None, Query(max_length=80)] = None,
) -> Response:
    """The queue, highest score first, one page of 50 after the cursor `after`."""
    f = inbox.Filter(
        status=status,
        lane=_blank(lane),
        rule=_blank(rule),
        min_score=score,
        post=_blank(post),
        hs=_blank(hs),
        party=_blank(party),
        since_us=_us(since),
        until_us=_us(until),
        tenant=user.tenant,
    )
    policy = policy_of(request)
    if user.tenant is not None and policy == "none":
        found = inbox.Page([], None)
    else:
        found = inbox.page(conn, f, inbox.Cursor.decode(after) if after else None, PAGE)
    views = (shown(conn, user, policy, a) for a in found.rows)
    rows = [v for v in views if v is not None]
    audit.record("alerts.read", user.tenant or "*", detail={"alerts": len(rows)})
    query = {k: v for k, v in request.query_params.items() if k != "after" and v}
    return page(
        request,
        "alerts.html",
        rows=rows,
        hidden=user.tenant is not None and policy == "none",
        next=found.next.encode() if found.next else None,
        first=after is None,
        query=query,
        rules=kept(request, "rules", inbox.version(conn), lambda: inbox.rules(conn)),
        lanes=inbox.LANES,
        statuses=("open", "in_case", "closed", "all"),
    )


@router.get("/alerts/{alert_id}")
def alert_view(
    request: Request,
    alert_id: Annotated[int, Path(ge=1, le=2**62)],
    user: PartyViewer,
    conn: ConnDep,
    audit: WebAudit,
) -> Response:
    """One alert: its explanation, facts, identifiers, case."""
    try:
        found: dict[str, Any] | None = queries.alert(conn, alert_id)
    except AlertNotFound:
        found = None
    view = shown(conn, user, policy_of(request), found) if found else None
    if view is None:
        audit.record("alert.read", str(alert_id), "denied" if found else "not_found")
        raise AlertNotFound([alert_id])
    audit.record("alert.read", str(alert_id))
    return page(request, "alert.html", alert=view)

"""Outcomes (SPEC C5), open to every signed-in user: alert precision and false-positive rate from
decided cases, decisions by kind, lane rates against planned, random selections, the time
legitimate movements wait by lane and post (measured from the ledger's events,
`keruen.risk.waits`), and the policy view: what other lane thresholds or another random rate
would do to detection, inspection load and waiting (`keruen.risk.policy`, from the stored
risks). Aggregates only: no party in them, nothing audited.

The passages at posts are brought up to the ledger's head when it has moved; the figures come
from summaries kept in the database with the inputs they were computed from
(`keruen.risk.summaries`): computed again whenever a detection run, an alert, a case action or
a passage has landed since, so what is shown is always what the stored data gives.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from keruen.risk import policy, summaries, waits
from keruen.risk.config import load
from keruen.risk.errors import BadInput
from keruen.risk.lanes import counted
from keruen.store.port import LedgerReader
from keruen.web.core import Viewer, WebRoute, kept, page, state_of

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
Threshold = Annotated[float | None, Query(ge=0, le=1)]


def _passages(request: Request) -> None:
    """The passages at posts brought up to the ledger's head when it has moved."""
    head = LedgerReader(state_of(request).reader).head()  # before `conn` reads anything:
    # its snapshot then begins after the refresh and sees it
    state = state_of(request)
    if state.extras.get("web.passages") != head:
        waits.refresh(state.engine)
        state.extras["web.passages"] = head


@router.get("/outcomes")
def outcomes(
    request: Request,
    user: Viewer,
    red: Threshold = None,
    yellow: Threshold = None,
    blue: Threshold = None,
    random_rate: Threshold = None,
) -> Response:
    """The figures; with thresholds or a random rate given, the policy view compares them
    with the configured ones."""
    config = kept(request, "risk-config", 0, load)  # the configuration file, read once
    current = config.lanes
    asked = {"red": red, "yellow": yellow, "blue": blue, "random_rate": random_rate}
    proposed = current.model_copy(update={k: v for k, v in asked.items() if v is not None})
    if not proposed.blue <= proposed.yellow <= proposed.red:
        raise BadInput("yellow", "thresholds must rise from blue to yellow to red")
    _passages(request)
    engine = state_of(request).engine
    measured = summaries.measured_waits(engine)
    hours = {lane: s["mean_hours"] for lane, s in measured["lanes"].items()}
    stored = summaries.stored_risks(engine)
    figures = summaries.figures(engine)
    found: dict[str, Any] = {
        **figures["outcomes"],
        "lanes": counted(figures["lane_counts"], current).public(),
    }
    return page(
        request,
        "outcomes.html",
        o=found,
        waits={str(k): v for k, v in current.wait_hours.items()},
        measured=measured,
        now=policy.scenario(stored, current, hours),
        then=policy.scenario(stored, proposed, hours),
        asked=any(v is not None for v in asked.values()),
    )

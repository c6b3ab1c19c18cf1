"""Goods and party screening over `keruen.screening` (SPEC C3, C4): look-ups in the lists,
nothing written to the ledger.

The lists are those an administrator loaded into the database (current versions), or the
lists shipped with Keruen when none is loaded. The screener is rebuilt at most every
`SCREENER_TTL_S` seconds: building it indexes every entry, far more than one look-up costs.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy.engine import Connection

from keruen.api.deps import AppState, AuditDep, ConnDep, PartyReader, StateDep
from keruen.api.schemas import Strict, problems
from keruen.screening import Screener, builtin_screener, load_screener, with_shipped_parties
from keruen.screening.store import current_versions

router = APIRouter(prefix="/v1/screen", tags=["screening"])
SCREENER_TTL_S = 60.0


class GoodsQuery(Strict):
    hs: Annotated[str, Field(pattern=r"^\d{6,10}$")]
    destination: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    date: dt.date | None = None


class PartyQuery(Strict):
    name: Annotated[str, Field(min_length=1, max_length=500)]
    country: Annotated[str | None, Field(pattern=r"^[A-Z]{2}$")] = None
    ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]],
        Field(max_length=20, default_factory=list),
    ]


def screener(state: AppState, conn: Connection) -> Screener:
    cached = state.extras.get("screener")
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]  # type: ignore[no-any-return]
    built = (
        with_shipped_parties(load_screener(conn)) if current_versions(conn) else builtin_screener()
    )
    state.extras["screener"] = (time.monotonic() + SCREENER_TTL_S, built)
    return built


@router.post("/goods", responses=problems(400, 401, 403, 413, 422, 503))
def screen_goods(
    body: GoodsQuery, user: PartyReader, state: StateDep, conn: ConnDep
) -> dict[str, Any]:
    """The goods rules that fire for an HS code bound for a destination (default: today)."""
    on = body.date or dt.datetime.now(dt.UTC).date()
    hits = screener(state, conn).screen_goods(body.hs, body.destination, on)
    return {
        "hs": body.hs,
        "destination": body.destination,
        "date": on.isoformat(),
        "hits": [h.public() for h in hits],
    }


@router.post("/party", responses=problems(400, 401, 403, 413, 422, 503))
def screen_party(
    body: PartyQuery, user: PartyReader, state: StateDep, conn: ConnDep, audit: AuditDep
) -> dict[str, Any]:
    """The list entries a party matches, best first, each with its score and why."""
    s = screener(state, conn)
    hits = s.screen_party(body.name, body.country, tuple(body.ids))
    audit.record("screen.party", body.name, detail={"hits": len(hits)})
    return {
        "name": body.name,
        "hits": [h.public() for h in hits],
        "party_lists": s.party_lists,
        "warning": s.warning,
    }

"""The API's routers, mounted by `create_app` in this order.

Adding an area's endpoints (transit, screening, risk, analytics) is a thin router:

1. Write `keruen/api/routers/<area>.py` with `router = APIRouter(prefix="/v1", tags=["<area>"])`.
2. Ask for what you need with the aliases of `keruen.api.deps`: a capability
   (`PartyReader`, `Submitter`, `AggregateReader`, ...), `ConnDep`, `AuditDep`.
3. Call the area's service functions; for a declarant (`user.tenant` is its tax id) filter to
   what it is party to (`keruen.api.tenancy` for batches; a transit's parties are its carrier
   and consignee, an alert's are the parties of its subject) and answer 404 for the rest,
   exactly as for absent data. Record every party-level read or write with `audit.record`.
4. Raise `keruen.errors` / `keruen.api.errors` exceptions; `keruen.api.problems.HANDLERS` turns
   them into problem+json. Document error answers with `schemas.problems(...)`.
5. Append the router to `ROUTERS` below and regenerate docs/openapi.json (`keruen openapi`).
"""

from __future__ import annotations

from fastapi import APIRouter

from keruen.api.routers import (
    admin,
    alerts,
    auth,
    cases,
    epcis,
    events,
    health,
    ledger,
    precheck,
    screening,
    transit,
)

ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    events.router,
    ledger.router,
    transit.router,
    alerts.router,
    cases.router,
    precheck.router,
    screening.router,
    admin.router,
    epcis.router,
]

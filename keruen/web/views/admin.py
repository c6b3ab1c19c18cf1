"""Administration (SPEC C9): users and roles, API keys, screening list versions, reference data
and the latest audit entries — over `keruen.api.accounts`, `keruen.screening.store`,
`keruen.api.audit` and `keruen.reference`. Changes are made with `keruen users|keys` or the
API (`/v1/users`, `/v1/keys`), which audit them; this screen reads."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from keruen import reference
from keruen.api import accounts, audit
from keruen.ledger.rules import iso
from keruen.screening import store as screening
from keruen.web.core import AdminViewer, ConnDep, WebAudit, WebRoute, page

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)


@router.get("/admin")
def admin(request: Request, user: AdminViewer, conn: ConnDep, log: WebAudit) -> Response:
    entries = audit.read(conn, 50)
    log.record("audit.read", "*", detail={"rows": len(entries)})
    return page(
        request,
        "admin.html",
        users=[{**u, "created": iso(u["created_us"])} for u in accounts.list_users(conn)],
        keys=accounts.list_keys(conn),
        lists=[i.public() for i in screening.history(conn)],
        reference=reference.files(),
        entries=entries,
    )
